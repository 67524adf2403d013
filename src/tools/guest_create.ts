/**
 * `guest_create`: a new guest, built fresh (QEMU from an ISO or empty; LXC from an OS template) or cloned from a
 * source guest or template (full or linked, onto another node or storage, from a snapshot), then given the asked-for
 * CPU, memory, network and cloud-init settings. The vmid defaults to the next free one.
 * @module
 */
import { type Effect, effect, type GuestRef, type GuestTouch } from "../core/mod.ts";
import { z } from "zod";
import { defineTool, type ToolContext } from "./registry.ts";
import { NodeName, PoolId, StorageId, Tag, VmId, VolumeId } from "../guard/schemas.ts";
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
} from "./guest_common.ts";
import { SnapName } from "./snapshots.ts";
import { volumeGuest } from "./storage.ts";

/** `dhcp` or an IPv4 address with prefix, e.g. `10.0.0.5/24`. */
const IpArg = matching(/^(dhcp|(\d{1,3}\.){3}\d{1,3}\/\d{1,2})$/, "must be dhcp or an address like 10.0.0.5/24", 18);

const Input = z.object({
  type: z.enum(["qemu", "lxc"]).optional().describe("Needed unless source"),
  node: NodeName.optional().describe("Needed unless source (default: its node)"),
  vmid: VmId.optional().describe("Default: next free"),
  name: DnsName.optional(),
  source: VmId.optional().describe("Clone this guest or template"),
  full: z.boolean().optional().describe("source: full copy (default: linked for templates)"),
  snapname: SnapName.optional().describe("source: clone this snapshot"),
  iso: VolumeId.optional().describe("qemu: boot ISO volume"),
  ostemplate: VolumeId.optional().describe("lxc: OS template volume"),
  storage: StorageId.optional().describe("Default local-lvm; source: full copy there"),
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
type FreshArgs = CreateArgs & { type: "qemu" | "lxc"; node: string };

/** Secret and key values already resolved from `secret://` references. */
export interface ResolvedSecrets {
  password?: string;
  sshKeys?: string;
}

/**
 * What a create or clone touches: the new vmid (role `new`), its node, storages and pool, a clone's source, and the
 * guest owning any volume it attaches (an ISO or OS template named like another guest's disk reads that disk). A vmid
 * left to PVE (next free) and a clone's node left to the source are known only at run time: undetermined.
 */
export function createEffect(args: CreateArgs): Effect {
  const guests: GuestTouch[] = [];
  const why: string[] = [];
  if (args.vmid !== undefined) guests.push({ vmid: args.vmid, role: "new" });
  else why.push("the new guest's vmid is picked at run time (next free): pass vmid");
  if (args.source !== undefined) guests.push({ vmid: args.source, role: "source" });
  if (args.node === undefined) why.push("the new guest's node is picked at run time: pass node");
  const storages = new Set<string>();
  if (args.storage !== undefined || args.source === undefined) storages.add(args.storage ?? "local-lvm");
  for (const volume of [args.iso, args.ostemplate]) {
    if (volume === undefined) continue;
    storages.add(volume.slice(0, volume.indexOf(":")));
    const owner = volumeGuest(volume);
    if (owner === "unknown") why.push(`which guest owns volume "${volume.slice(0, 80)}" cannot be told from its name`);
    else if (owner !== "none") guests.push({ vmid: owner, role: "volume" });
  }
  return effect({
    cls: "write",
    guests,
    nodes: args.node === undefined ? [] : [args.node],
    storages: [...storages],
    pools: args.pool === undefined ? [] : [args.pool],
    ...(why.length ? { undetermined: why.join("; ") } : {}),
  });
}

function refuse(args: CreateArgs, keys: (keyof CreateArgs)[], why: string): void {
  for (const k of keys) if (args[k] !== undefined) throw new TypeError(`${k} ${why}`);
}

function checkFresh(args: CreateArgs): asserts args is FreshArgs {
  if (args.type === undefined || args.node === undefined) throw new TypeError("pass type and node (or a source)");
  refuse(args, ["full", "snapname"], "applies to clones (source) only");
  if (args.type === "qemu") refuse(args, ["ostemplate"], "applies to type=lxc only");
  else {
    refuse(args, ["iso", "user"], "applies to type=qemu only");
    if (args.ostemplate === undefined) throw new TypeError("type=lxc needs ostemplate (an OS template volume)");
  }
}

function checkSource(args: CreateArgs, src: GuestRef): void {
  if (args.type !== undefined && args.type !== src.type) {
    throw new TypeError(`source ${guestLabel(src)} is a ${src.type} guest, not ${args.type}`);
  }
  refuse(args, ["iso", "ostemplate", "disk_gb"], "does not apply to clones (grow disks with guest_disk)");
  if (src.type === "lxc") refuse(args, ["user", "password", "ssh_keys"], "cannot be set on a cloned container");
}

function checkNetwork(args: CreateArgs): void {
  if (args.gw !== undefined && (args.ip === undefined || args.ip === "dhcp")) {
    throw new TypeError("gw needs a static ip (CIDR)");
  }
}

/** QEMU cloud-init parameters (for new VMs and for clones). */
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
  if (wantsCloudInit(args)) {
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

/** The body of a clone request. Pure. */
export function cloneParams(
  src: GuestRef,
  args: CreateArgs,
  newid: number,
  node: string,
): Record<string, PveParamValue> {
  const full = args.full ?? (args.storage !== undefined || !src.template);
  if (!full && !src.template) {
    throw new TypeError(`a linked clone needs a template source; ${guestLabel(src)} is not one: use full=true`);
  }
  if (!full && args.storage !== undefined) throw new TypeError("storage applies to full clones only");
  return {
    newid,
    [src.type === "qemu" ? "name" : "hostname"]: args.name,
    full,
    target: node !== src.node ? node : undefined,
    storage: args.storage,
    snapname: args.snapname,
    pool: args.pool,
  };
}

/** Settings applied to a finished clone (`PUT .../config`). Pure. */
export function cloneSettings(
  type: "qemu" | "lxc",
  args: CreateArgs,
  secrets: ResolvedSecrets,
): Record<string, PveParamValue> {
  const net = args.vlan !== undefined || args.bridge !== "vmbr0" || (type === "lxc" && args.ip !== undefined);
  const settings: Record<string, PveParamValue> = {
    cores: args.cores,
    memory: args.memory === undefined ? undefined : type === "qemu" ? String(args.memory) : args.memory,
    tags: args.tags ? joinTags(args.tags) : undefined,
    net0: net ? netParam(args, type) : undefined,
  };
  return type === "qemu" ? { ...settings, ...cloudInitParams(args, secrets) } : settings;
}

async function resolveSecrets(args: CreateArgs, ctx: ToolContext, type: "qemu" | "lxc"): Promise<ResolvedSecrets> {
  const out: ResolvedSecrets = {};
  if (args.password !== undefined) {
    const password = await resolveSecretRef(args.password, ctx, "password");
    if (type === "lxc" && password.value.length < 5) {
      throw new TypeError(`password: ${password.label} is too short: containers need 5+ characters`);
    }
    out.password = password.value;
  }
  if (args.ssh_keys !== undefined) {
    const keys = await resolveSecretRef(args.ssh_keys, ctx, "ssh_keys");
    checkSshKeys(keys, "ssh_keys");
    out.sshKeys = keys.value;
  }
  return out;
}

/** Clone the source, then apply settings (waiting for the clone when there are any) and start when asked. */
async function createFromSource(
  args: CreateArgs,
  src: GuestRef,
  vmid: number,
  node: string,
  secrets: ResolvedSecrets,
  ctx: ToolContext,
): Promise<TaskResultT> {
  const settings = cloneSettings(src.type, args, secrets);
  const followUp = args.start || Object.values(settings).some((v) => v !== undefined);
  const clone = await startTask(ctx, {
    method: "POST",
    path: guestPath(src, "clone"),
    params: cloneParams(src, args, vmid, node),
  }, args.wait || followUp);
  if (!followUp || clone.status !== "stopped" || !clone.ok) return clone;
  const loc = { vmid, type: src.type, node };
  if (Object.values(settings).some((v) => v !== undefined)) {
    await ctx.pveWrite.request({ method: "PUT", path: guestPath(loc, "config"), params: settings, signal: ctx.signal });
  }
  if (!args.start) return clone;
  return await startTask(ctx, { method: "POST", path: guestPath(loc, "status", "start") }, args.wait);
}

/** `guest_create`: new VM or container, fresh or cloned. */
export const guestCreate = defineTool({
  name: "guest_create",
  title: "Create or clone a VM or container",
  description: "New VM (ISO or empty) or unprivileged CT (ostemplate), or a clone of source (guest or template; " +
    "full/linked, other node/storage). Then applies cores, memory, network and qemu cloud-init.",
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
  secretArgs: { password: {}, ssh_keys: { roundTrip: "SSH keys stay readable in the guest and in its configuration" } },
  effect: createEffect,
  async handler(args, ctx) {
    checkNetwork(args);
    const src = args.source === undefined ? undefined : await ctx.resolveGuest(args.source);
    if (src) checkSource(args, src);
    else checkFresh(args);
    const secrets = await resolveSecrets(args, ctx, src?.type ?? args.type as "qemu" | "lxc");
    let vmid = args.vmid;
    if (vmid === undefined) vmid = await nextFreeVmid(ctx);
    else await ensureVmidFree(ctx, vmid);
    if (src) {
      const node = args.node ?? src.node;
      return { vmid, node, ...await createFromSource(args, src, vmid, node, secrets, ctx) };
    }
    const fresh = args as FreshArgs;
    const params = fresh.type === "qemu"
      ? qemuCreateParams(fresh, vmid, secrets)
      : lxcCreateParams(fresh, vmid, secrets);
    const res = await startTask(
      ctx,
      { method: "POST", path: pvePath("nodes", fresh.node, fresh.type), params },
      args.wait,
    );
    return { vmid, node: fresh.node, ...res };
  },
  text: (out) => taskText(`create ${out.vmid} on ${out.node}`, out),
});
