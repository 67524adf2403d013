/**
 * Simulator state and helpers shared by the guest-changing routes (create, clone, config, disks, snapshots,
 * backups): snapshots per guest, pending changes of running VMs, configs saved inside backups, disk allocation on
 * storages, and PVE property strings. The extra state hangs off the {@linkcode ClusterState} in a WeakMap, so the
 * core model stays as it is.
 * @module
 */
import { createHash } from "node:crypto";
import type { ClusterState, SimGuest, SimStorage, SimVolume } from "../model.ts";
import { SimError } from "../router.ts";

/** One snapshot of a guest (`GET .../snapshot` rows plus what rollback needs). */
export interface SimSnapshot {
  name: string;
  parent?: string;
  /** Epoch seconds. */
  snaptime: number;
  description?: string;
  /** RAM saved with it (QEMU). */
  vmstate: boolean;
  /** Guest config and power state when it was taken. */
  config: Record<string, string | number>;
  running: boolean;
  cores: number;
  memory: number;
  maxdisk: number;
}

/** What a vzdump archive holds: enough to restore the guest. */
export interface BackupImage {
  type: "qemu" | "lxc";
  name: string;
  config: Record<string, string | number>;
  cores: number;
  memory: number;
  maxdisk: number;
  tags: string[];
}

/** What a backup of `g` holds (copies, so later changes to the guest do not reach it). */
export function imageOf(g: SimGuest): BackupImage {
  return {
    type: g.type,
    name: g.name,
    config: { ...g.config },
    cores: g.cores,
    memory: g.memory,
    maxdisk: g.maxdisk,
    tags: [...g.tags],
  };
}

interface Extras {
  snapshots: Map<number, SimSnapshot[]>;
  /**
   * Config keys changed on a running VM that apply at its next start (what `GET .../pending` reports), with the
   * value still in effect (undefined: the key was not set before).
   */
  pending: Map<number, Map<string, string | number | undefined>>;
  backups: Map<string, BackupImage>;
}

const EXTRAS = new WeakMap<ClusterState, Extras>();

/** The extra state of a simulated cluster. */
export function extrasOf(state: ClusterState): Extras {
  let x = EXTRAS.get(state);
  if (!x) EXTRAS.set(state, x = { snapshots: new Map(), pending: new Map(), backups: new Map() });
  return x;
}

/** Snapshots of a guest, oldest first (a fresh list when it has none). */
export function snapshotsOf(state: ClusterState, vmid: number): SimSnapshot[] {
  const x = extrasOf(state);
  let list = x.snapshots.get(vmid);
  if (!list) x.snapshots.set(vmid, list = []);
  return list;
}

/** Forgets everything kept about a guest (it was destroyed or replaced). */
export function forgetGuest(state: ClusterState, vmid: number): void {
  const x = extrasOf(state);
  x.snapshots.delete(vmid);
  x.pending.delete(vmid);
}

/** `VM` or `CT`, as PVE's messages say. */
export const label = (g: Pick<SimGuest, "type">) => (g.type === "qemu" ? "VM" : "CT");

/** Splits a property string into an ordered list (a bare item goes under `defaultKey`). */
export function parseProps(text: string, defaultKey?: string): [string, string][] {
  return text.split(",").filter(Boolean).map((item) => {
    const eq = item.indexOf("=");
    if (eq < 0) return [defaultKey ?? item, defaultKey === undefined ? "" : item];
    return [item.slice(0, eq), item.slice(eq + 1)];
  });
}

/** Joins a property list back into a string. */
export function formatProps(list: [string, string][]): string {
  return list.map(([k, v]) => (v === "" ? k : `${k}=${v}`)).join(",");
}

/** Value of a key in a property string. */
export function prop(text: string, key: string, defaultKey?: string): string | undefined {
  return parseProps(text, defaultKey).find(([k]) => k === key)?.[1];
}

const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `32G` → bytes (bare numbers are bytes in resize, GiB in `storage:size` allocations). */
export function parseSize(text: string, bareUnit = ""): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(text);
  if (!m) throw new SimError(400, "Parameter verification failed.", { size: "invalid size" });
  return Math.round(Number(m[1]) * (UNITS[m[2] || bareUnit] ?? 1));
}

/** Bytes → PVE's size text (`32G`, `512M`, `4M`). */
export function sizeText(bytes: number): string {
  for (const [u, f] of [["T", 1024 ** 4], ["G", 1024 ** 3], ["M", 1024 ** 2], ["K", 1024]] as const) {
    if (bytes >= f && bytes % f === 0) return `${bytes / f}${u}`;
  }
  return bytes >= 1024 ** 3 ? `${Math.round(bytes / 1024 ** 3)}G` : `${Math.ceil(bytes / 1024)}K`;
}

/** Disk keys of a config (excluding CD-ROM drives and cloud-init media). */
export function diskKeys(config: Record<string, string | number>): string[] {
  return Object.keys(config).filter((k) =>
    /^(ide|sata|scsi|virtio)\d+$|^efidisk0$|^tpmstate0$|^rootfs$|^mp\d+$/.test(k) &&
    !/media=cdrom/.test(String(config[k]))
  );
}

/** The storage id of a volume id (`local-lvm:vm-100-disk-0` → `local-lvm`). */
export const storageOfVolid = (volid: string) => volid.slice(0, volid.indexOf(":"));

/** The storage a guest volume or new disk goes to; 500 like PVE when it cannot hold that content. */
export function diskStorage(state: ClusterState, id: string, node: string, content: "images" | "rootdir"): SimStorage {
  const s = state.storages.get(id);
  if (!s) throw new SimError(500, `storage '${id}' does not exist`);
  if (!state.storageOnNode(s, node)) throw new SimError(500, `storage '${id}' is not available on node '${node}'`);
  if (!s.content.includes(content)) {
    throw new SimError(500, `storage '${id}' does not support content-type '${content}'`);
  }
  return s;
}

/** Finds a volume by id as seen from a node. */
export function findVolume(state: ClusterState, volid: string, node: string): SimVolume | undefined {
  const s = state.storages.get(storageOfVolid(volid));
  if (!s || !state.storageOnNode(s, node)) return undefined;
  return state.volumes(s, node).find((v) => v.volid === volid);
}

/** Allocates a new disk volume for a guest and returns its volume id. */
export function allocDisk(
  state: ClusterState,
  opts: { storage: string; node: string; vmid: number; size: number; content: "images" | "rootdir"; nowS: number },
  name?: string,
): string {
  const s = diskStorage(state, opts.storage, opts.node, opts.content);
  const taken = new Set(state.volumes(s, opts.node).map((v) => v.volid));
  const file = (base: string) => (s.type === "dir" || s.type === "nfs" ? `${opts.vmid}/${base}.qcow2` : base);
  let volid = "";
  if (name) volid = `${s.id}:${file(name)}`;
  else {
    for (let i = 0; !volid || taken.has(volid); i++) volid = `${s.id}:${file(`vm-${opts.vmid}-disk-${i}`)}`;
  }
  const vol: SimVolume = {
    volid,
    storage: s.id,
    content: opts.content,
    format: volid.endsWith(".qcow2") ? "qcow2" : "raw",
    size: opts.size,
    used: 0,
    ctime: opts.nowS,
    vmid: opts.vmid,
  };
  if (!s.shared) vol.node = opts.node;
  state.addVolume(vol);
  return volid;
}

/** Removes a volume wherever it lives (local to `node`, or shared). */
export function freeVolume(state: ClusterState, volid: string, node: string): void {
  const s = state.storages.get(storageOfVolid(volid));
  if (s) state.removeVolume(s.id, s.shared ? undefined : node, volid);
}

/** Removes every volume of a guest referenced by its config (disks, cloud-init, unused). */
export function freeGuestVolumes(state: ClusterState, g: SimGuest): void {
  for (const [k, v] of Object.entries(g.config)) {
    if (!/^(ide|sata|scsi|virtio)\d+$|^efidisk0$|^tpmstate0$|^rootfs$|^mp\d+$|^unused\d+$/.test(k)) continue;
    const defaultKey = k === "rootfs" || k.startsWith("mp") || k.startsWith("unused") ? "volume" : "file";
    const volid = parseProps(String(v), defaultKey).find(([key]) => key === defaultKey || key === "file")?.[1];
    if (volid && volid.includes(":") && !volid.startsWith("none")) freeVolume(state, volid, g.node);
  }
}

let macCounter = 0;

/** A MAC in Proxmox's `BC:24:11` prefix; deterministic for a given order of calls. */
export function macFor(vmid: number, index: number): string {
  const h = createHash("sha1").update(`${vmid}/${index}/${macCounter++}`).digest("hex").toUpperCase();
  return `BC:24:11:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
}

/** A crypt-style hash as PVE stores `cipassword` (never the value itself). */
export function passwordHash(value: string): string {
  return `$5$${createHash("sha256").update(value).digest("base64").slice(0, 43)}`;
}

/** `YYYY_MM_DD-HH_MM_SS` as vzdump names archives. */
export function dumpStamp(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}-${p(d.getUTCHours())}_` +
    `${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}`;
}
