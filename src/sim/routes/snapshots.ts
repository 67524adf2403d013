/**
 * Snapshot endpoints of QEMU and LXC guests: list (with the `current` pseudo-entry and parent chain), create (QEMU:
 * optionally with RAM), rollback and delete. The guest is locked (`snapshot`, `rollback`, `snapshot-delete`) while
 * the task runs, as in PVE.
 * @module
 */
import type { GuestType, SimGuest } from "../model.ts";
import { bool, guestOf, type SimContext, SimError, type SimRoute, startTask, str } from "../router.ts";
import { label, type SimSnapshot, snapshotsOf } from "./guest_extras.ts";
import { checkLock, markRunning, markStopped, nowS } from "./guest_build.ts";

function list(type: GuestType) {
  return (ctx: SimContext): unknown[] => {
    const g = guestOf(ctx, type);
    const rows: Record<string, unknown>[] = snapshotsOf(ctx.sim.state, g.vmid).map((s) => {
      const row: Record<string, unknown> = { name: s.name, snaptime: s.snaptime, description: s.description ?? "" };
      if (s.parent !== undefined) row.parent = s.parent;
      if (type === "qemu") row.vmstate = s.vmstate ? 1 : 0;
      return row;
    });
    const current: Record<string, unknown> = {
      name: "current",
      description: "You are here!",
      running: g.status === "running" ? 1 : 0,
    };
    if (g.config.parent !== undefined) current.parent = g.config.parent;
    rows.push(current);
    return rows;
  };
}

function find(ctx: SimContext, g: SimGuest): SimSnapshot {
  const name = str(ctx, "snapname") as string;
  const snap = snapshotsOf(ctx.sim.state, g.vmid).find((s) => s.name === name);
  if (!snap) throw new SimError(500, `snapshot '${name}' does not exist`);
  return snap;
}

/** Runs a snapshot task with the guest locked; the lock stays if the task is interrupted, as in PVE. */
function locked(
  ctx: SimContext,
  g: SimGuest,
  lock: string,
  taskType: string,
  log: string[],
  effect: () => void,
): string {
  const state = ctx.sim.state;
  state.updateGuest(g.vmid, (x) => (x.lock = lock));
  return startTask(ctx, {
    node: g.node,
    type: taskType,
    id: g.vmid,
    log,
    onSuccess: () =>
      state.updateGuest(g.vmid, (x) => {
        delete x.lock;
        effect();
      }),
  });
}

function create(type: GuestType) {
  return (ctx: SimContext): string => {
    const g = guestOf(ctx, type);
    checkLock(g);
    const name = str(ctx, "snapname") as string;
    const list = snapshotsOf(ctx.sim.state, g.vmid);
    if (name === "current") throw new SimError(500, "invalid snapshot name 'current'");
    if (list.some((s) => s.name === name)) throw new SimError(500, `snapshot name '${name}' already used`);
    if (g.template) throw new SimError(500, `${label(g)} is a template - snapshots are not possible`);
    const vmstate = type === "qemu" && g.status === "running" && (bool(ctx, "vmstate") ?? false);
    const description = str(ctx, "description");
    const time = nowS(ctx);
    return locked(ctx, g, "snapshot", type === "qemu" ? "qmsnapshot" : "vzsnapshot", [
      `snapshotting '${name}'${vmstate ? " (with RAM)" : ""}`,
    ], () => {
      const { parent: _parent, ...config } = g.config;
      const snap: SimSnapshot = {
        name,
        snaptime: time,
        vmstate,
        config,
        running: g.status === "running",
        cores: g.cores,
        memory: g.memory,
        maxdisk: g.maxdisk,
      };
      if (g.config.parent !== undefined) snap.parent = String(g.config.parent);
      if (description !== undefined) snap.description = description;
      list.push(snap);
      g.config.parent = name;
    });
  };
}

function rollback(type: GuestType) {
  return (ctx: SimContext): string => {
    const g = guestOf(ctx, type);
    checkLock(g);
    const snap = find(ctx, g);
    const start = bool(ctx, "start") ?? false;
    return locked(ctx, g, "rollback", type === "qemu" ? "qmrollback" : "vzrollback", [
      `rolling back to snapshot '${snap.name}'`,
    ], () => {
      g.config = { ...snap.config, parent: snap.name };
      g.cores = snap.cores;
      g.memory = snap.memory;
      g.maxdisk = snap.maxdisk;
      g.name = String(g.config[type === "qemu" ? "name" : "hostname"] ?? g.name);
      g.tags = String(g.config.tags ?? "").split(/[;, ]+/).filter(Boolean);
      if ((snap.vmstate && snap.running) || start) markRunning(g, nowS(ctx));
      else markStopped(g);
    });
  };
}

function remove(type: GuestType) {
  return (ctx: SimContext): string => {
    const g = guestOf(ctx, type);
    const force = bool(ctx, "force") ?? false;
    if (!force) checkLock(g);
    const snap = find(ctx, g);
    const list = snapshotsOf(ctx.sim.state, g.vmid);
    return locked(ctx, g, "snapshot-delete", type === "qemu" ? "qmdelsnapshot" : "vzdelsnapshot", [
      `deleting snapshot '${snap.name}'`,
    ], () => {
      const i = list.indexOf(snap);
      if (i >= 0) list.splice(i, 1);
      for (const s of list) {
        if (s.parent !== snap.name) continue;
        if (snap.parent === undefined) delete s.parent;
        else s.parent = snap.parent;
      }
      if (g.config.parent === snap.name) {
        if (snap.parent === undefined) delete g.config.parent;
        else g.config.parent = snap.parent;
      }
    });
  };
}

/** Routes of this file. */
export const snapshotRoutes: SimRoute[] = [];
for (const type of ["qemu", "lxc"] as const) {
  const base = `/nodes/{node}/${type}/{vmid}/snapshot`;
  snapshotRoutes.push(
    { method: "GET", path: base, handler: list(type) },
    { method: "POST", path: base, handler: create(type) },
    { method: "DELETE", path: `${base}/{snapname}`, handler: remove(type) },
    { method: "POST", path: `${base}/{snapname}/rollback`, handler: rollback(type) },
  );
}
