/**
 * Building blocks of the simulator's guest-changing routes: power-state marks, lock checks, config values, drive
 * and NIC values (allocating volumes, adding MACs) as PVE stores them.
 * @module
 */
import type { ClusterState, GuestType, SimGuest } from "../model.ts";
import { type SimContext, SimError } from "../router.ts";
import {
  allocDisk,
  diskKeys,
  findVolume,
  formatProps,
  label,
  macFor,
  parseProps,
  parseSize,
  prop,
  sizeText,
} from "./guest_extras.ts";

/** GiB in bytes. */
export const GiB = 1024 ** 3;
/** The simulator clock in epoch seconds. */
export const nowS = (ctx: SimContext) => Math.floor(ctx.sim.now() / 1000);
const NUMERIC = new Set([
  "cores",
  "sockets",
  "vcpus",
  "onboot",
  "balloon",
  "cpuunits",
  "cpulimit",
  "numa",
  "protection",
  "template",
  "swap",
  "unprivileged",
  "console",
  "tty",
  "acpi",
  "kvm",
  "tablet",
]);
/** QEMU drive keys. */
export const DRIVE = /^(ide|sata|scsi|virtio)\d+$|^efidisk0$|^tpmstate0$/;
/** LXC volume keys. */
export const CT_VOLUME = /^rootfs$|^mp\d+$/;

/** What defines a new guest; the rest starts idle. */
export type NewGuest = Pick<
  SimGuest,
  "vmid" | "type" | "node" | "name" | "template" | "tags" | "cores" | "memory" | "maxdisk" | "config"
>;

/** A new guest, stopped and idle (what create, restore and clone put in place). */
export function stoppedGuest(n: NewGuest): SimGuest {
  const g: SimGuest = {
    vmid: n.vmid,
    type: n.type,
    node: n.node,
    name: n.name,
    status: "stopped",
    template: n.template,
    tags: n.tags,
    cores: n.cores,
    memory: n.memory,
    maxdisk: n.maxdisk,
    cpu: 0,
    mem: 0,
    disk: 0,
    netin: 0,
    netout: 0,
    diskread: 0,
    diskwrite: 0,
    config: n.config,
  };
  if (g.type === "qemu") g.qmpstatus = "stopped";
  return g;
}

/** Marks a guest as running (what a successful start does). */
export function markRunning(g: SimGuest, now: number): void {
  g.status = "running";
  if (g.type === "qemu") g.qmpstatus = "running";
  g.startedAt = now;
  g.pid = 100_000 + (g.vmid % 900_000);
  g.cpu = 0.02;
  g.mem = Math.round(g.memory * 1024 * 1024 * 0.3);
}

/** Marks a guest as stopped. */
export function markStopped(g: SimGuest): void {
  g.status = "stopped";
  if (g.type === "qemu") g.qmpstatus = "stopped";
  delete g.startedAt;
  delete g.pid;
  g.cpu = 0;
  g.mem = 0;
}

/** Refuses changes to a locked guest like PVE (`VM is locked (backup)`). */
export function checkLock(g: SimGuest): void {
  if (g.lock) throw new SimError(500, `${label(g)} is locked (${g.lock})`);
}

/** A config value as stored: numbers for numeric keys, strings otherwise. */
export function configValue(key: string, raw: unknown): string | number {
  const v = String(raw);
  return NUMERIC.has(key) && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
}

/** Size in bytes of the guest's boot disk (first disk key in PVE's order). */
export function bootDiskSize(config: Record<string, string | number>): number {
  const key = diskKeys(config).sort((a, b) => order(a) - order(b))[0];
  const size = key === undefined ? undefined : prop(String(config[key]), "size", "file");
  return size === undefined ? 0 : parseSize(size);
}
const order = (k: string) => ["rootfs", "scsi0", "virtio0", "sata0", "ide0"].indexOf(k) + 1 || 99;

/**
 * Turns a requested drive (`local-lvm:32,iothread=1`, `local-lvm:cloudinit`, `local:iso/x.iso,media=cdrom`) into the
 * stored value, allocating new volumes. `check` only validates (no allocation).
 */
export function driveValue(
  state: ClusterState,
  g: { vmid: number; node: string },
  key: string,
  value: string,
  now: number,
  check = false,
): string {
  const ct = CT_VOLUME.test(key);
  const fileKey = ct ? "volume" : "file";
  const list = parseProps(value, fileKey);
  const file = list.find(([k]) => k === fileKey)?.[1] ?? "";
  const rest = list.filter(([k]) => k !== fileKey && k !== "size");
  const alloc = /^([a-z][a-z0-9\-_.]*):(\d+(?:\.\d+)?)$/i.exec(file);
  const cloudinit = /^([a-z][a-z0-9\-_.]*):cloudinit$/i.exec(file);
  const content = ct ? "rootdir" as const : "images" as const;
  if (alloc) {
    const size = parseSize(alloc[2] as string, "G");
    if (check) {
      allocCheck(state, alloc[1] as string, g.node, content);
      return value;
    }
    const volid = allocDisk(state, {
      storage: alloc[1] as string,
      node: g.node,
      vmid: g.vmid,
      size,
      content,
      nowS: now,
    });
    return formatProps([[fileKey, volid], ...rest, ["size", sizeText(size)]]).replace(`${fileKey}=`, "");
  }
  if (cloudinit) {
    if (check) {
      allocCheck(state, cloudinit[1] as string, g.node, "images");
      return value;
    }
    const volid = allocDisk(state, {
      storage: cloudinit[1] as string,
      node: g.node,
      vmid: g.vmid,
      size: 4 * 1024 ** 2,
      content: "images",
      nowS: now,
    }, `vm-${g.vmid}-cloudinit`);
    return `${volid},media=cdrom`;
  }
  if (file !== "none" && file.includes(":") && !findVolume(state, file, g.node)) {
    throw new SimError(500, `volume '${file}' does not exist`);
  }
  return value;
}

/** Checks that a new volume could be allocated (500 like PVE otherwise). */
export function allocCheck(state: ClusterState, storage: string, node: string, content: "images" | "rootdir"): void {
  const s = state.storages.get(storage);
  if (!s) throw new SimError(500, `storage '${storage}' does not exist`);
  if (!state.storageOnNode(s, node)) throw new SimError(500, `storage '${storage}' is not available on node '${node}'`);
  if (!s.content.includes(content)) {
    throw new SimError(500, `storage '${storage}' does not support content-type '${content}'`);
  }
}

/** Adds a MAC to a NIC value that has none (QEMU `virtio=MAC`, LXC `hwaddr=MAC`). */
export function nicValue(type: GuestType, vmid: number, index: number, value: string): string {
  if (type === "qemu") {
    const list = parseProps(value, "model");
    const i = list.findIndex(([k]) => k === "model");
    if (i >= 0) {
      const mac = list.find(([k]) => k === "macaddr")?.[1] ?? macFor(vmid, index);
      const model = list[i]?.[1] ?? "virtio";
      return formatProps([[model, mac], ...list.filter(([k]) => k !== "model" && k !== "macaddr")]);
    }
    return value;
  }
  let list = parseProps(value);
  if (!list.some(([k]) => k === "hwaddr")) list = [...list, ["hwaddr", macFor(vmid, index)]];
  if (!list.some(([k]) => k === "type")) list = [...list, ["type", "veth"]];
  return formatProps(list);
}

/** Gives every NIC of a config a new MAC (clones, and restores with `unique`). */
export function regenMacs(type: GuestType, vmid: number, config: Record<string, string | number>): void {
  for (const k of Object.keys(config)) {
    if (!/^net\d+$/.test(k)) continue;
    const i = Number(k.slice(3));
    if (type === "lxc") {
      const list = parseProps(String(config[k])).filter(([key]) => key !== "hwaddr");
      config[k] = nicValue(type, vmid, i, formatProps(list));
      continue;
    }
    const list = parseProps(String(config[k]), "model").filter(([key]) => key !== "macaddr");
    const [first, ...rest] = list;
    const model = first === undefined ? "virtio" : first[0] === "model" ? first[1] : first[0];
    config[k] = formatProps([[model, macFor(vmid, i)], ...rest]);
  }
}

/** PVE's "already exists" error for create and restore. */
export function existsError(kind: string, vmid: number, state: ClusterState, what = "create"): SimError {
  const g = state.guests.get(vmid);
  return new SimError(500, `unable to ${what} ${kind} ${vmid} - VM ${vmid} already exists on node '${g?.node}'`);
}

/** 500 when a pool does not exist. */
export function checkPool(state: ClusterState, pool: string | undefined): void {
  if (pool !== undefined && !state.pools.has(pool)) throw new SimError(500, `pool '${pool}' does not exist`);
}
