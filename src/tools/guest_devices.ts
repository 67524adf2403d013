/**
 * Guest devices: `guest_disk` (grow, move to another storage) and `guest_nic` (add, update, remove network devices).
 * @module
 */
import { effect, type GuestRef } from "../core/mod.ts";
import { z } from "zod";
import { defineTool } from "./registry.ts";
import { StorageId, VmId } from "../guard/schemas.ts";
import type { PveParamValue } from "../pve/types.ts";
import { startTask, TaskResult, taskText, WaitArg } from "./task_result.ts";
import {
  Bridge,
  CHANGE,
  DiskKey,
  formatProperties,
  getProperty,
  guestLabel,
  guestPath,
  Ipv4,
  isContainerDisk,
  matching,
  parseProperties,
  parseSize,
  type PropertyList,
  readConfig,
  setProperty,
} from "./guest_common.ts";

const DiskInput = z.object({
  vmid: VmId,
  action: z.enum(["resize", "move"]),
  disk: DiskKey,
  size: matching(/^\+?\d+(\.\d+)?[KMGT]?$/, "must be like +10G or 64G", 20).optional().describe("resize: 64G or +10G"),
  storage: StorageId.optional().describe("move: target"),
  delete_source: z.boolean().default(false).describe("move: drop the old copy"),
  wait: WaitArg,
}).strict();
type DiskArgs = z.infer<typeof DiskInput>;

/** Current size in bytes of a disk from its config value (`local-lvm:vm-100-disk-0,size=32G`). */
export function diskSize(value: string): number | undefined {
  const size = getProperty(parseProperties(value, "file"), "size");
  return size === undefined ? undefined : parseSize(size);
}

/** Checks that a resize grows the disk; returns the size string to send. Pure. */
export function checkGrow(disk: string, current: string | undefined, size: string): string {
  if (size.startsWith("+")) {
    if (!(parseSize(size.slice(1))! > 0)) throw new TypeError(`size ${size} does not grow ${disk}`);
    return size;
  }
  const now = current === undefined ? undefined : diskSize(current);
  const want = parseSize(size)!;
  if (now !== undefined && want <= now) {
    const shown = getProperty(parseProperties(current ?? "", "file"), "size");
    throw new TypeError(`${disk} is ${shown} and disks can only grow: pass a larger size or +NG`);
  }
  return size;
}

function checkDiskType(ref: GuestRef, disk: string): void {
  if ((ref.type === "lxc") !== isContainerDisk(disk)) {
    throw new TypeError(`${disk} is not a ${ref.type === "lxc" ? "container volume (rootfs, mpN)" : "VM disk"}`);
  }
}

/** Parameters of a disk move. Pure. */
export function moveParams(ref: GuestRef, args: DiskArgs): Record<string, PveParamValue> {
  if (args.storage === undefined) throw new TypeError("action=move needs storage");
  if (ref.type === "qemu") {
    return { disk: args.disk, storage: args.storage, delete: args.delete_source || undefined };
  }
  return { volume: args.disk, storage: args.storage, delete: args.delete_source || undefined };
}

/** `guest_disk`: grow a disk, or move it to another storage. */
export const guestDisk = defineTool({
  name: "guest_disk",
  title: "Grow or move a guest disk",
  description: "Grow a VM/CT disk (resize; never shrinks) or move it to another storage (move).",
  toolset: "guests",
  annotations: CHANGE,
  privileges: ["VM.Config.Disk", "Datastore.AllocateSpace"],
  input: DiskInput,
  output: TaskResult.extend({ vmid: z.number(), disk: z.string() }),
  effect: (args) =>
    effect({
      cls: "write",
      guests: [{ vmid: args.vmid, role: "target" }],
      storages: args.action === "move" && args.storage !== undefined ? [args.storage] : [],
    }),
  async handler(args, ctx) {
    const ref = await ctx.resolveGuest(args.vmid);
    checkDiskType(ref, args.disk);
    const config = await readConfig(ctx, ref);
    const current = config[args.disk];
    if (typeof current !== "string") {
      throw new TypeError(`${guestLabel(ref)} has no disk ${args.disk}: see guest_info view=config`);
    }
    if (args.action === "resize") {
      if (args.size === undefined) throw new TypeError("action=resize needs size");
      if (args.storage !== undefined || args.delete_source) {
        throw new TypeError("storage and delete_source apply to action=move");
      }
      const size = checkGrow(args.disk, current, args.size);
      const res = await startTask(ctx, {
        method: "PUT",
        path: guestPath(ref, "resize"),
        params: { disk: args.disk, size, digest: typeof config.digest === "string" ? config.digest : undefined },
      }, args.wait);
      return { vmid: ref.vmid, disk: args.disk, ...res };
    }
    if (args.size !== undefined) throw new TypeError("size applies to action=resize");
    if (/media=cdrom/.test(current)) throw new TypeError(`${args.disk} is a CD-ROM drive, not a disk`);
    const params = moveParams(ref, args);
    const res = await startTask(ctx, {
      method: "POST",
      path: guestPath(ref, ref.type === "qemu" ? "move_disk" : "move_volume"),
      params,
    }, args.wait);
    return { vmid: ref.vmid, disk: args.disk, ...res };
  },
  text: (out) => taskText(`disk ${out.disk} of ${out.vmid}`, out),
});

/** NIC models offered for VMs. */
const QEMU_MODELS = ["virtio", "e1000", "e1000e", "rtl8139", "vmxnet3"] as const;
const ALL_QEMU_MODELS = new Set([
  ...QEMU_MODELS,
  "e1000-82540em",
  "e1000-82544gc",
  "e1000-82545em",
  "i82551",
  "i82557b",
  "i82559er",
  "ne2k_isa",
  "ne2k_pci",
  "pcnet",
]);
const Mac = matching(/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/, "must be a MAC like BC:24:11:00:00:01", 17);

const NicInput = z.object({
  vmid: VmId,
  action: z.enum(["add", "update", "remove"]),
  index: z.number().int().min(0).max(31).optional().describe("netN; add: first free"),
  bridge: Bridge.optional().describe("add: vmbr0"),
  model: z.enum(QEMU_MODELS).optional().describe("qemu; add: virtio"),
  vlan: z.number().int().min(0).max(4094).optional().describe("0 removes the tag"),
  firewall: z.boolean().optional(),
  link_down: z.boolean().optional(),
  mac: Mac.optional(),
  name: matching(/^[a-z][a-z0-9_.-]{0,14}$/, "must be an interface name like eth1", 15).optional().describe(
    "lxc: default ethN",
  ),
  ip: matching(/^(dhcp|manual|(\d{1,3}\.){3}\d{1,3}\/\d{1,2})$/, "must be dhcp, manual or a CIDR", 18).optional()
    .describe("lxc: dhcp|manual|CIDR"),
  gw: Ipv4.optional().describe("lxc"),
}).strict();
type NicArgs = z.infer<typeof NicInput>;

/** The model key of a QEMU NIC property list (`virtio=MAC` or `model=virtio`). */
function qemuModel(list: PropertyList): { key: string; model: string; mac?: string } | undefined {
  for (const [k, v] of list) {
    if (ALL_QEMU_MODELS.has(k)) return v ? { key: k, model: k, mac: v } : { key: k, model: k };
    if (k === "model") return { key: k, model: v };
  }
  return undefined;
}

/**
 * The new value of `netN`: the current one (for update) with the arguments applied, keeping everything not named
 * (the MAC above all). Pure.
 */
export function nicValue(type: "qemu" | "lxc", index: number, current: string | undefined, args: NicArgs): string {
  let list: PropertyList = current === undefined ? [] : parseProperties(current, type === "qemu" ? "model" : undefined);
  const set = (k: string, v: string | undefined) => (list = setProperty(list, k, v));
  if (type === "qemu") {
    for (const k of ["name", "ip", "gw"] as const) {
      if (args[k] !== undefined) {
        throw new TypeError(`${k} applies to containers; VMs set IPs via cloud-init (guest_config ipconfig)`);
      }
    }
    const old = qemuModel(list);
    const model = args.model ?? old?.model ?? "virtio";
    const mac = args.mac ?? old?.mac ?? (old?.key === "model" ? getProperty(list, "macaddr") : undefined);
    if (old) list = list.filter(([k]) => k !== old.key && k !== "macaddr");
    list = [[model, mac ?? ""], ...list];
  } else {
    if (args.model !== undefined) throw new TypeError("model applies to VMs only");
    set("name", args.name ?? getProperty(list, "name") ?? `eth${index}`);
    if (args.mac !== undefined) set("hwaddr", args.mac);
    if (args.ip !== undefined) set("ip", args.ip);
    if (args.gw !== undefined) set("gw", args.gw);
    if (current === undefined && args.ip === undefined) set("ip", "dhcp");
    if (getProperty(list, "gw") !== undefined && !/\//.test(getProperty(list, "ip") ?? "")) {
      throw new TypeError("gw needs a static ip (CIDR)");
    }
  }
  set("bridge", args.bridge ?? getProperty(list, "bridge") ?? "vmbr0");
  if (args.vlan !== undefined) set("tag", args.vlan === 0 ? undefined : String(args.vlan));
  if (args.firewall !== undefined) set("firewall", args.firewall ? "1" : "0");
  if (args.link_down !== undefined) set("link_down", args.link_down ? "1" : undefined);
  return formatProperties(list);
}

/** First `netN` not present in a config. */
export function freeNicIndex(config: Record<string, unknown>): number {
  for (let i = 0; i < 32; i++) if (config[`net${i}`] === undefined) return i;
  throw new TypeError("all 32 network device slots are in use");
}

/** `guest_nic`: add, update or remove a network device. */
export const guestNic = defineTool({
  name: "guest_nic",
  title: "Add, update or remove a guest NIC",
  description: "Add, update (only the given keys; MAC kept) or remove a VM/CT network device netN.",
  toolset: "guests",
  annotations: CHANGE,
  privileges: ["VM.Config.Network", "SDN.Use"],
  input: NicInput,
  output: z.object({ vmid: z.number(), nic: z.string(), value: z.string().optional() }),
  effect: (args) => effect({ cls: "write", guests: [{ vmid: args.vmid, role: "target" }] }),
  async handler(args, ctx) {
    const ref = await ctx.resolveGuest(args.vmid);
    const config = await readConfig(ctx, ref);
    const digest = typeof config.digest === "string" ? config.digest : undefined;
    const index = args.index ?? (args.action === "add" ? freeNicIndex(config) : undefined);
    if (index === undefined) throw new TypeError(`action=${args.action} needs index (net0 → 0)`);
    const key = `net${index}`;
    const current = config[key];
    if (args.action === "add" && current !== undefined) throw new TypeError(`${key} already exists: use action=update`);
    if (args.action !== "add" && typeof current !== "string") {
      throw new TypeError(`${guestLabel(ref)} has no ${key}`);
    }
    const path = guestPath(ref, "config");
    if (args.action === "remove") {
      const extra = Object.entries(args).filter(([k, v]) =>
        v !== undefined && !["vmid", "action", "index"].includes(k)
      );
      if (extra.length) {
        throw new TypeError(`action=remove takes only vmid and index, not ${extra.map(([k]) => k).join(", ")}`);
      }
      await ctx.pveWrite.request({ method: "PUT", path, params: { delete: key, digest }, signal: ctx.signal });
      return { vmid: ref.vmid, nic: key };
    }
    const value = nicValue(ref.type, index, current as string | undefined, args);
    await ctx.pveWrite.request({ method: "PUT", path, params: { [key]: value, digest }, signal: ctx.signal });
    const after = await readConfig(ctx, ref);
    return { vmid: ref.vmid, nic: key, value: typeof after[key] === "string" ? after[key] as string : value };
  },
  text: (out) =>
    out.value === undefined ? `guest ${out.vmid}: ${out.nic} removed` : `guest ${out.vmid}: ${out.nic} = ${out.value}`,
});
