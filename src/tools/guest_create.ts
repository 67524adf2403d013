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
  Bridge,
  CHANGE,
  checkSshKeys,
  DnsName,
  encodeSshKeys,
  ensureVmidFree,
  guestLabel,
  guestPath,
  Ipv4,
  joinTags,
  matching,
  nextFreeVmid,
  resolveSecretRef,
  SecretArg,
  VolumeId,
} from "./guest_common.ts";

/** `dhcp` or an IPv4 address with prefix, e.g. `10.0.0.5/24`. */
const IpArg = matching(/^(dhcp|(\d{1,3}\.){3}\d{1,3}\/\d{1,2})$/, "must be dhcp or an address like 10.0.0.5/24", 18);

const Input = z.object({
  type: z.enum(["qemu", "lxc"]),
  node: NodeName,
  vmid: VmId.optional().describe("Default: next free"),
  name: DnsName.optional(),
  iso: VolumeId.optional().describe("qemu: boot ISO volume"),
  template: VmId.optional().describe("qemu: template to clone (linked; full with storage)"),
  ostemplate: VolumeId.optional().describe("lxc: OS template volume"),
  storage: StorageId.optional().describe("Default local-lvm"),
  disk_gb: z.number().int().min(1).max(65536).optional().describe("Default qemu 32, lxc 8"),
  cores: z.number().int().min(1).max(512).optional(),
  memory: z.number().int().min(16).max(4_194_304).optional().describe("MiB"),
  bridge: Bridge.default("vmbr0"),
  vlan: z.number().int().min(1).max(4094).optional(),
  ip: IpArg.optional().describe("dhcp or CIDR (qemu: cloud-init)"),
  gw: Ipv4.optional(),
  user: matching(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a user name like ops", 32).optional().describe(
    "qemu: cloud-init user",
  ),
  password: SecretArg("qemu: cloud-init; lxc: root").optional(),
  ssh_keys: SecretArg("SSH public keys").optional(),
  tags: z.array(Tag).max(20).optional(),
  pool: PoolId.optional(),
  start: z.boolean().default(false),
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
    if (args.iso !== undefined && args.template !== undefined) {
      throw new TypeError("pass either iso or template, not both");
    }
    if (args.template !== undefined && args.disk_gb !== undefined) {
      throw new TypeError("disk_gb cannot be combined with template: grow the disk with guest_disk action=resize");
    }
  } else {
    only(args, "qemu", ["iso", "template", "user"]);
    if (args.ostemplate === undefined) throw new TypeError("type=lxc needs ostemplate (an OS template volume)");
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
  };
}

function wantsCloudInit(args: CreateArgs): boolean {
  return [args.user, args.password, args.ssh_keys, args.ip].some((v) => v !== undefined);
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
    ostype: "l26",
    scsihw: "virtio-scsi-single",
    scsi0: `${storage}:${args.disk_gb ?? 32},iothread=1,discard=on`,
    net0: netParam(args, "qemu"),
    agent: "1",
    boot: args.iso ? "order=scsi0;ide2;net0" : "order=scsi0;net0",
    tags: args.tags ? joinTags(args.tags) : undefined,
    pool: args.pool,
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
    rootfs: `${args.storage ?? "local-lvm"}:${args.disk_gb ?? 8}`,
    net0: netParam(args, "lxc"),
    password: secrets.password,
    "ssh-public-keys": secrets.sshKeys,
    // Privileged containers can reach the host's kernel interfaces; this tool only makes unprivileged ones.
    unprivileged: true,
    tags: args.tags ? joinTags(args.tags) : undefined,
    pool: args.pool,
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
  // Linked clone (PVE's default for templates); a target storage means a full copy.
  const full = args.storage !== undefined;
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
    },
  }, true); // the settings below need the finished clone
  if (clone.status !== "stopped" || !clone.ok) return clone;
  const loc = { vmid, type: "qemu" as const, node: args.node };
  const settings: Record<string, PveParamValue> = {
    cores: args.cores,
    memory: args.memory === undefined ? undefined : String(args.memory),
    tags: args.tags ? joinTags(args.tags) : undefined,
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
  description: "New VM from an ISO (or empty) or from a template (clone + cloud-init user/password/ssh_keys/ip), " +
    "or an unprivileged LXC container from an ostemplate.",
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
