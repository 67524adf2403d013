/**
 * `guest_create`: a QEMU VM from an ISO (or empty), a QEMU VM from a template (clone + cloud-init settings), or an LXC
 * container from an OS template. The vmid defaults to the next free one.
 * @module
 */
import { z } from "zod";
import { defineTool, type ToolContext } from "./registry.ts";
import { NodeName, PoolId, StorageId, Tag, VmId } from "../guard/schemas.ts";
import type { PveParamValue } from "../pve/types.ts";
import { pvePath } from "../pve/encode.ts";
import { startTask, TaskResult, type TaskResultT, taskText, WaitArg } from "./task_result.ts";
import {
  CHANGE,
  checkSshKeys,
  encodeSshKeys,
  ensureVmidFree,
  guestLabel,
  guestPath,
  joinTags,
  nextFreeVmid,
  resolveSecretRef,
  SecretArg,
} from "./guest_common.ts";

/** A volume id such as `local:iso/debian-12.iso` or `local:vztmpl/debian-12-standard.tar.zst`. */
export const VolumeId = z.string().regex(
  /^[a-z][a-z0-9\-_.]*[a-z0-9]:[^\s,;=]{1,250}$/i,
  "must be a volume id like local:iso/x.iso",
)
  .describe("Volume id, e.g. local:iso/debian-12.iso");

/** DNS name (`dns-name`): guest name / hostname. */
export const DnsName = z.string().regex(
  /^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/,
  "must be a DNS name like web-01",
).max(63);

/** `dhcp` or an IPv4 address with prefix, e.g. `10.0.0.5/24`. */
const IpArg = z.string().regex(
  /^(dhcp|(\d{1,3}\.){3}\d{1,3}\/\d{1,2})$/,
  "must be dhcp or an address like 10.0.0.5/24",
);
const Ipv4 = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}$/, "must be an IPv4 address");

const QEMU_OSTYPES = ["l26", "win11", "win10", "win8", "win7", "w2k8", "solaris", "other"] as const;
const LXC_OSTYPES = ["debian", "ubuntu", "centos", "fedora", "alpine", "archlinux", "opensuse", "nixos", "unmanaged"];

const Input = z.object({
  type: z.enum(["qemu", "lxc"]),
  node: NodeName,
  vmid: VmId.optional().describe("New guest id; default: next free"),
  name: DnsName.optional().describe("VM name / CT hostname"),
  iso: VolumeId.optional().describe("qemu: ISO volume to boot, e.g. local:iso/x.iso"),
  template: VmId.optional().describe("qemu: template vmid to clone (then cloud-init settings apply)"),
  full: z.boolean().optional().describe("template: full copy instead of linked clone"),
  ostemplate: VolumeId.optional().describe("lxc: OS template volume, e.g. local:vztmpl/debian-12.tar.zst"),
  storage: StorageId.optional().describe("Disk storage (default local-lvm)"),
  disk_gb: z.number().int().min(1).max(65536).optional().describe("Root disk GiB (default qemu 32, lxc 8)"),
  cores: z.number().int().min(1).max(512).optional(),
  memory: z.number().int().min(16).max(4_194_304).optional().describe("MiB"),
  ostype: z.enum([...QEMU_OSTYPES, ...LXC_OSTYPES]).optional(),
  bridge: z.string().regex(/^[-_.\w]{1,15}$/).default("vmbr0"),
  vlan: z.number().int().min(1).max(4094).optional(),
  ip: IpArg.optional().describe("IPv4: dhcp or CIDR (qemu: cloud-init)"),
  gw: Ipv4.optional(),
  nameserver: z.string().regex(/^[0-9a-fA-F.:, ]{2,200}$/).optional(),
  searchdomain: DnsName.optional(),
  user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/).optional().describe("qemu: cloud-init user"),
  password: SecretArg("qemu: cloud-init password; lxc: root password").optional(),
  ssh_keys: SecretArg("SSH public keys, one per line").optional(),
  unprivileged: z.boolean().default(true).describe("lxc: unprivileged container"),
  description: z.string().max(8192).optional(),
  tags: z.array(Tag).max(20).optional(),
  pool: PoolId.optional(),
  onboot: z.boolean().optional(),
  start: z.boolean().default(false).describe("Start when created"),
  wait: WaitArg,
}).strict();
/** Arguments of `guest_create`. */
export type CreateArgs = z.infer<typeof Input>;

/** Secret and key values already resolved from `secret://` references. */
export interface ResolvedSecrets {
  password?: string;
  sshKeys?: string;
}

function only(args: CreateArgs, type: "qemu" | "lxc", keys: (keyof CreateArgs)[]): void {
  for (const k of keys) {
    if (args[k] !== undefined) throw new TypeError(`${k} applies to type=${type} only`);
  }
}

function checkArgs(args: CreateArgs): void {
  if (args.type === "qemu") {
    only(args, "lxc", ["ostemplate"]);
    if (args.ostype !== undefined && !(QEMU_OSTYPES as readonly string[]).includes(args.ostype)) {
      throw new TypeError(`ostype ${args.ostype} is for containers; VMs take ${QEMU_OSTYPES.join(", ")}`);
    }
    if (args.iso !== undefined && args.template !== undefined) {
      throw new TypeError("pass either iso or template, not both");
    }
    if (args.template !== undefined && args.disk_gb !== undefined) {
      throw new TypeError("disk_gb cannot be combined with template: grow the disk with guest_disk action=resize");
    }
    if (args.template === undefined && args.full !== undefined) throw new TypeError("full applies to template only");
  } else {
    only(args, "qemu", ["iso", "template", "full", "user"]);
    if (args.ostemplate === undefined) throw new TypeError("type=lxc needs ostemplate (an OS template volume)");
    if (args.ostype !== undefined && !LXC_OSTYPES.includes(args.ostype)) {
      throw new TypeError(`ostype ${args.ostype} is for VMs; containers take ${LXC_OSTYPES.join(", ")}`);
    }
  }
  if (args.gw !== undefined && (args.ip === undefined || args.ip === "dhcp")) {
    throw new TypeError("gw needs a static ip (CIDR)");
  }
}

/** QEMU cloud-init parameters (shared by create-from-ISO and create-from-template). */
export function cloudInitParams(args: CreateArgs, secrets: ResolvedSecrets): Record<string, PveParamValue> {
  const ipconfig0 = args.ip === undefined
    ? undefined
    : args.ip === "dhcp"
    ? "ip=dhcp"
    : `ip=${args.ip}${args.gw ? `,gw=${args.gw}` : ""}`;
  return {
    ciuser: args.user,
    cipassword: secrets.password,
    sshkeys: secrets.sshKeys === undefined ? undefined : encodeSshKeys(secrets.sshKeys),
    ipconfig0,
    nameserver: args.nameserver,
    searchdomain: args.searchdomain,
  };
}

function wantsCloudInit(args: CreateArgs): boolean {
  return [args.user, args.password, args.ssh_keys, args.ip, args.nameserver, args.searchdomain].some((v) =>
    v !== undefined
  );
}

function netParam(args: CreateArgs, type: "qemu" | "lxc"): string {
  const tag = args.vlan === undefined ? "" : `,tag=${args.vlan}`;
  if (type === "qemu") return `virtio,bridge=${args.bridge}${tag},firewall=1`;
  const ip = args.ip ?? "dhcp";
  return `name=eth0,bridge=${args.bridge}${tag},firewall=1,ip=${ip}${args.gw ? `,gw=${args.gw}` : ""}`;
}

/** The body of `POST /nodes/{node}/qemu` for a VM from an ISO (or an empty VM). Pure. */
export function qemuCreateParams(
  args: CreateArgs,
  vmid: number,
  secrets: ResolvedSecrets,
): Record<string, PveParamValue> {
  const storage = args.storage ?? "local-lvm";
  const ci = wantsCloudInit(args);
  const params: Record<string, PveParamValue> = {
    vmid,
    name: args.name,
    cores: args.cores ?? 1,
    memory: String(args.memory ?? 2048),
    ostype: args.ostype ?? "l26",
    scsihw: "virtio-scsi-single",
    scsi0: `${storage}:${args.disk_gb ?? 32},iothread=1,discard=on`,
    net0: netParam(args, "qemu"),
    agent: "1",
    boot: args.iso ? "order=scsi0;ide2;net0" : "order=scsi0;net0",
    description: args.description,
    tags: args.tags ? joinTags(args.tags) : undefined,
    pool: args.pool,
    onboot: args.onboot,
    start: args.start || undefined,
  };
  if (args.iso) params.ide2 = `${args.iso},media=cdrom`;
  if (ci) {
    params[args.iso ? "ide0" : "ide2"] = `${storage}:cloudinit`;
    Object.assign(params, cloudInitParams(args, secrets));
  }
  return params;
}

/** The body of `POST /nodes/{node}/lxc` for a container from an OS template. Pure. */
export function lxcCreateParams(
  args: CreateArgs,
  vmid: number,
  secrets: ResolvedSecrets,
): Record<string, PveParamValue> {
  return {
    vmid,
    ostemplate: args.ostemplate,
    hostname: args.name,
    cores: args.cores ?? 1,
    memory: args.memory ?? 512,
    ostype: args.ostype,
    rootfs: `${args.storage ?? "local-lvm"}:${args.disk_gb ?? 8}`,
    net0: netParam(args, "lxc"),
    nameserver: args.nameserver,
    searchdomain: args.searchdomain,
    password: secrets.password,
    "ssh-public-keys": secrets.sshKeys,
    unprivileged: args.unprivileged,
    description: args.description,
    tags: args.tags ? joinTags(args.tags) : undefined,
    pool: args.pool,
    onboot: args.onboot,
    start: args.start || undefined,
  };
}

async function resolveSecrets(args: CreateArgs, ctx: ToolContext): Promise<ResolvedSecrets> {
  const out: ResolvedSecrets = {};
  if (args.password !== undefined) {
    out.password = await resolveSecretRef(args.password, ctx, "password");
    if (args.type === "lxc" && out.password.length < 5) throw new TypeError("password: containers need 5+ characters");
  }
  if (args.ssh_keys !== undefined) {
    out.sshKeys = await resolveSecretRef(args.ssh_keys, ctx, "ssh_keys");
    checkSshKeys(out.sshKeys, "ssh_keys");
  }
  return out;
}

/** Clone a template, apply settings, optionally start: the "VM from template with cloud-init" path. */
async function createFromTemplate(
  args: CreateArgs & { template: number },
  vmid: number,
  secrets: ResolvedSecrets,
  ctx: ToolContext,
): Promise<TaskResultT> {
  const tpl = await ctx.resolveGuest(args.template);
  if (tpl.type !== "qemu" || !tpl.template) {
    throw new TypeError(`${guestLabel(tpl)} is not a QEMU template: convert it with guest_manage action=template`);
  }
  const full = args.full ?? false;
  if (args.storage !== undefined && !full) {
    throw new TypeError("storage needs full=true (linked clones stay on the template's storage)");
  }
  const clone = await startTask(ctx, {
    method: "POST",
    path: guestPath(tpl, "clone"),
    params: {
      newid: vmid,
      name: args.name,
      full,
      storage: args.storage,
      target: args.node !== tpl.node ? args.node : undefined,
      pool: args.pool,
      description: args.description,
    },
  }, true); // the settings below need the finished clone
  if (clone.status !== "stopped" || !clone.ok) return clone;
  const loc = { vmid, type: "qemu" as const, node: args.node };
  const settings: Record<string, PveParamValue> = {
    cores: args.cores,
    memory: args.memory === undefined ? undefined : String(args.memory),
    ostype: args.ostype,
    tags: args.tags ? joinTags(args.tags) : undefined,
    onboot: args.onboot,
    ...(args.vlan !== undefined || args.bridge !== "vmbr0" ? { net0: netParam(args, "qemu") } : {}),
    ...cloudInitParams(args, secrets),
  };
  if (Object.values(settings).some((v) => v !== undefined)) {
    await ctx.pveWrite.request({ method: "PUT", path: guestPath(loc, "config"), params: settings, signal: ctx.signal });
  }
  if (!args.start) return clone;
  return await startTask(ctx, { method: "POST", path: guestPath(loc, "status", "start") }, args.wait);
}

/** `guest_create`: new VM (ISO, empty, or from a template with cloud-init) or container (OS template). */
export const guestCreate = defineTool({
  name: "guest_create",
  title: "Create a VM or container",
  description: "Create a QEMU VM from an ISO (or empty), a VM from a template (clone + cloud-init user/password/" +
    "ssh_keys/ip), or an LXC container from an ostemplate. vmid defaults to the next free id.",
  toolset: "guests",
  annotations: CHANGE,
  privileges: [
    "VM.Allocate",
    "VM.Clone",
    "VM.Config.Disk",
    "VM.Config.CDROM",
    "VM.Config.CPU",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Cloudinit",
    "VM.Config.Options",
    "VM.PowerMgmt",
    "Datastore.AllocateSpace",
    "Datastore.AllocateTemplate",
    "SDN.Use",
  ],
  input: Input,
  output: TaskResult.extend({ vmid: z.number(), node: z.string() }),
  // The source template is read (cloned), so it must be a guest this server may use.
  target: (args) => args.template,
  async handler(args, ctx) {
    checkArgs(args);
    const secrets = await resolveSecrets(args, ctx);
    let vmid = args.vmid;
    if (vmid === undefined) vmid = await nextFreeVmid(ctx);
    else await ensureVmidFree(ctx, vmid);
    if (args.template !== undefined) {
      const res = await createFromTemplate({ ...args, template: args.template }, vmid, secrets, ctx);
      return { vmid, node: args.node, ...res };
    }
    const params = args.type === "qemu" ? qemuCreateParams(args, vmid, secrets) : lxcCreateParams(args, vmid, secrets);
    const res = await startTask(
      ctx,
      { method: "POST", path: pvePath("nodes", args.node, args.type), params },
      args.wait,
    );
    return { vmid, node: args.node, ...res };
  },
  text: (out) => taskText(`create ${out.vmid} on ${out.node}`, out),
});
