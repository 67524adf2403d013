/**
 * The simulated cluster's state: nodes, guests, storages, volumes and pools, with the indexes handlers need.
 * Handlers change it through the methods here so `version` moves on and cached answers are rebuilt.
 * @module
 */

/** A cluster node. */
export interface SimNode {
  name: string;
  nodeid: number;
  ip: string;
  online: boolean;
  maxcpu: number;
  sockets: number;
  cpuModel: string;
  /** CPU load as a fraction of all cores. */
  cpu: number;
  memTotal: number;
  memUsed: number;
  rootfsTotal: number;
  rootfsUsed: number;
  /** Epoch seconds of the last boot; uptime is computed from the clock. */
  bootedAt: number;
  loadavg: [string, string, string];
  kernel: string;
}

/** Guest kinds. */
export type GuestType = "qemu" | "lxc";

/** A VM or container. */
export interface SimGuest {
  vmid: number;
  type: GuestType;
  node: string;
  name: string;
  status: "running" | "stopped";
  /** QEMU only: `running`, `paused` (suspended), `stopped`. */
  qmpstatus?: "running" | "paused" | "stopped";
  template: boolean;
  tags: string[];
  pool?: string;
  lock?: string;
  /** Configured cores and memory (MiB). */
  cores: number;
  memory: number;
  /** Disk size in bytes (boot disk / rootfs). */
  maxdisk: number;
  /** Live usage while running. */
  cpu: number;
  mem: number;
  disk: number;
  netin: number;
  netout: number;
  diskread: number;
  diskwrite: number;
  /** Epoch seconds the guest was started (running guests); uptime is computed from the clock. */
  startedAt?: number;
  pid?: number;
  hastate?: string;
  /** Raw config as `GET .../config` returns it (without `digest`). */
  config: Record<string, string | number>;
}

/** A storage definition (one per cluster; `nodes` empty = all nodes). */
export interface SimStorage {
  id: string;
  type: "dir" | "lvmthin" | "zfspool" | "nfs" | "cifs" | "rbd" | "cephfs" | "pbs";
  content: string[];
  shared: boolean;
  nodes: string[];
  /** Capacity per node (local) or for the whole storage (shared). */
  total: number;
  path?: string;
}

/** One volume on a storage. */
export interface SimVolume {
  volid: string;
  storage: string;
  /** Node for local storages; undefined on shared ones. */
  node?: string;
  content: "iso" | "vztmpl" | "backup" | "images" | "rootdir" | "snippets" | "import";
  format: string;
  size: number;
  used?: number;
  ctime: number;
  vmid?: number;
  notes?: string;
  protected?: boolean;
  parent?: string;
}

/** The whole simulated cluster. */
export class ClusterState {
  clusterName = "sim-cluster";
  /** Increments on every change; cached answers compare against it. */
  version = 0;
  readonly nodes = new Map<string, SimNode>();
  readonly guests = new Map<number, SimGuest>();
  readonly storages = new Map<string, SimStorage>();
  readonly pools = new Map<string, { comment?: string }>();
  /** Volumes by `storage` + "\u0000" + (node or "") for fast per-node listings. */
  readonly #volumes = new Map<string, SimVolume[]>();

  /** Marks the state as changed. */
  touch(): void {
    this.version++;
  }

  /** Adds a node. */
  addNode(n: SimNode): void {
    this.nodes.set(n.name, n);
    this.touch();
  }

  /** Adds or replaces a guest. */
  putGuest(g: SimGuest): void {
    this.guests.set(g.vmid, g);
    this.touch();
  }

  /** Removes a guest. */
  deleteGuest(vmid: number): boolean {
    const ok = this.guests.delete(vmid);
    if (ok) this.touch();
    return ok;
  }

  /** Guests on one node, sorted by vmid. */
  guestsOn(node: string, type?: GuestType): SimGuest[] {
    const out: SimGuest[] = [];
    for (const g of this.guests.values()) if (g.node === node && (!type || g.type === type)) out.push(g);
    return out.sort((a, b) => a.vmid - b.vmid);
  }

  /** Changes a guest in place and bumps the version. */
  updateGuest(vmid: number, change: (g: SimGuest) => void): void {
    const g = this.guests.get(vmid);
    if (!g) return;
    change(g);
    this.touch();
  }

  /** Sets a node online or offline (offline nodes answer 595 to forwarded requests, as when unreachable). */
  setNodeOnline(name: string, online: boolean): void {
    const n = this.nodes.get(name);
    if (n) {
      n.online = online;
      this.touch();
    }
  }

  /** Adds a storage definition. */
  addStorage(s: SimStorage): void {
    this.storages.set(s.id, s);
    this.touch();
  }

  /** True when `storage` is usable from `node`. */
  storageOnNode(storage: SimStorage, node: string): boolean {
    return storage.nodes.length === 0 || storage.nodes.includes(node);
  }

  /** Adds a volume. */
  addVolume(v: SimVolume): void {
    const key = `${v.storage}\u0000${v.node ?? ""}`;
    let list = this.#volumes.get(key);
    if (!list) this.#volumes.set(key, list = []);
    list.push(v);
    this.touch();
  }

  /** Removes a volume by id; true when it existed. */
  removeVolume(storage: string, node: string | undefined, volid: string): boolean {
    const list = this.#volumes.get(`${storage}\u0000${node ?? ""}`);
    const i = list?.findIndex((v) => v.volid === volid) ?? -1;
    if (!list || i < 0) return false;
    list.splice(i, 1);
    this.touch();
    return true;
  }

  /** Volumes of a storage as seen from a node. */
  volumes(storage: SimStorage, node: string): readonly SimVolume[] {
    return this.#volumes.get(`${storage.id}\u0000${storage.shared ? "" : node}`) ?? [];
  }

  /** Bytes used on a storage as seen from a node. */
  storageUsed(storage: SimStorage, node: string): number {
    let used = 0;
    for (const v of this.volumes(storage, node)) used += v.used ?? v.size;
    return Math.min(used, storage.total);
  }

  /** The lowest free vmid ≥ 100. */
  nextVmid(): number {
    let id = 100;
    while (this.guests.has(id)) id++;
    return id;
  }
}
