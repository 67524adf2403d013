/**
 * How simulated objects look on the wire (shared by list, status and `/cluster/resources` handlers).
 * Booleans are 0/1 as PVE sends them; optional fields are omitted rather than null.
 * @module
 */
import { createHash } from "node:crypto";
import type { ClusterState, SimGuest, SimNode, SimStorage } from "./model.ts";

const MiB = 1024 ** 2;
type Obj = Record<string, unknown>;

/** Seconds a running guest has been up. */
export function guestUptime(g: SimGuest, nowS: number): number {
  return g.status === "running" && g.startedAt !== undefined ? Math.max(0, nowS - g.startedAt) : 0;
}

/** Seconds a node has been up. */
export function nodeUptime(n: SimNode, nowS: number): number {
  return n.online ? Math.max(0, nowS - n.bootedAt) : 0;
}

function common(g: SimGuest, nowS: number): Obj {
  const running = g.status === "running";
  const o: Obj = {
    vmid: g.vmid,
    name: g.name,
    status: g.status,
    cpu: running ? g.cpu : 0,
    cpus: g.cores,
    maxmem: g.memory * MiB,
    mem: running ? g.mem : 0,
    maxdisk: g.maxdisk,
    netin: running ? g.netin : 0,
    netout: running ? g.netout : 0,
    diskread: running ? g.diskread : 0,
    diskwrite: running ? g.diskwrite : 0,
    uptime: guestUptime(g, nowS),
  };
  if (g.tags.length) o.tags = g.tags.join(";");
  if (g.template) o.template = 1;
  if (g.lock) o.lock = g.lock;
  return o;
}

/** An item of `GET /nodes/{node}/qemu` (`full` adds the QMP status). */
export function qemuListItem(g: SimGuest, nowS: number, full: boolean): Obj {
  const o = common(g, nowS);
  if (g.pid !== undefined && g.status === "running") o.pid = g.pid;
  if (full) {
    o.qmpstatus = g.qmpstatus ?? g.status;
    if (g.status === "running") {
      o["running-machine"] = "pc-i440fx-9.2+pve1";
      o["running-qemu"] = "9.2.0";
    }
  }
  return o;
}

/** An item of `GET /nodes/{node}/lxc`. */
export function lxcListItem(g: SimGuest, nowS: number): Obj {
  const o = common(g, nowS);
  o.disk = g.status === "running" ? g.disk : 0;
  o.maxswap = Number(g.config.swap ?? 0) * MiB;
  return o;
}

/** `GET /nodes/{node}/{qemu|lxc}/{vmid}/status/current`. */
export function guestStatus(g: SimGuest, nowS: number): Obj {
  const o = g.type === "qemu" ? qemuListItem(g, nowS, true) : lxcListItem(g, nowS);
  o.ha = g.hastate ? { managed: 1, state: g.hastate } : { managed: 0 };
  if (g.type === "qemu" && String(g.config.agent ?? "0").startsWith("1")) o.agent = 1;
  return o;
}

/** A guest entry of `/cluster/resources`. */
export function guestResource(g: SimGuest, nowS: number, nodeOnline: boolean): Obj {
  const running = g.status === "running" && nodeOnline;
  const o: Obj = {
    id: `${g.type}/${g.vmid}`,
    type: g.type,
    vmid: g.vmid,
    name: g.name,
    node: g.node,
    status: nodeOnline ? g.status : "unknown",
    cpu: running ? g.cpu : 0,
    maxcpu: g.cores,
    mem: running ? g.mem : 0,
    maxmem: g.memory * MiB,
    disk: running && g.type === "lxc" ? g.disk : 0,
    maxdisk: g.maxdisk,
    netin: running ? g.netin : 0,
    netout: running ? g.netout : 0,
    diskread: running ? g.diskread : 0,
    diskwrite: running ? g.diskwrite : 0,
    uptime: running ? guestUptime(g, nowS) : 0,
    template: g.template ? 1 : 0,
  };
  if (g.tags.length) o.tags = g.tags.join(";");
  if (g.pool) o.pool = g.pool;
  if (g.hastate) o.hastate = g.hastate;
  if (g.lock) o.lock = g.lock;
  return o;
}

/** A node entry of `/cluster/resources`. */
export function nodeResource(n: SimNode, nowS: number): Obj {
  const o: Obj = {
    id: `node/${n.name}`,
    type: "node",
    node: n.name,
    status: n.online ? "online" : "offline",
    level: "",
  };
  if (!n.online) return o;
  return {
    ...o,
    "cgroup-mode": 2,
    cpu: n.cpu,
    maxcpu: n.maxcpu,
    mem: n.memUsed,
    maxmem: n.memTotal,
    disk: n.rootfsUsed,
    maxdisk: n.rootfsTotal,
    uptime: nodeUptime(n, nowS),
  };
}

/** Capacity figures of a storage seen from a node. */
export function storageUsage(
  state: ClusterState,
  s: SimStorage,
  node: string,
): { total: number; used: number; avail: number } {
  const used = state.storageUsed(s, node);
  return { total: s.total, used, avail: s.total - used };
}

/** A storage entry of `/cluster/resources` (one per node that can use it). */
export function storageResource(state: ClusterState, s: SimStorage, node: string, nodeOnline: boolean): Obj {
  const o: Obj = {
    id: `storage/${node}/${s.id}`,
    type: "storage",
    storage: s.id,
    node,
    status: nodeOnline ? "available" : "unknown",
    content: s.content.join(","),
    plugintype: s.type,
    shared: s.shared ? 1 : 0,
  };
  if (nodeOnline) {
    const u = storageUsage(state, s, node);
    o.disk = u.used;
    o.maxdisk = u.total;
  }
  return o;
}

/** A guest config as `GET .../config` answers it, with the SHA-1 `digest` PVE adds. */
export function configView(g: SimGuest): Obj {
  const text = Object.entries(g.config).map(([k, v]) => `${k}: ${v}`).join("\n");
  return { ...g.config, digest: createHash("sha1").update(text).digest("hex") };
}
