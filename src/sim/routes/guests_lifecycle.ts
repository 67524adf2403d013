/**
 * Guest lifecycle endpoints: clone (full/linked, other node/storage, from a snapshot), convert to template, destroy
 * and migrate. PVE's checks answer 500 at once; the change lands when the task ends on the simulator's clock.
 * @module
 */
import type { ClusterState, GuestType, SimNode } from "../model.ts";
import { bool, guestOf, int, type SimContext, SimError, type SimRoute, startTask, str } from "../router.ts";
import {
  allocDisk,
  diskKeys,
  findVolume,
  forgetGuest,
  formatProps,
  freeGuestVolumes,
  label,
  parseProps,
  parseSize,
  prop,
  snapshotsOf,
  storageOfVolid,
} from "./guest_extras.ts";
import {
  allocCheck,
  bootDiskSize,
  checkLock,
  checkPool,
  CT_VOLUME,
  markRunning,
  nowS,
  regenMacs,
  stoppedGuest,
} from "./guest_build.ts";

/** The target node of a clone or migration; fails like PVE when it is unknown or offline. */
function onlineTarget(state: ClusterState, name: string): SimNode {
  const target = state.nodes.get(name);
  if (!target) {
    throw new SimError(
      500,
      `hostname lookup '${name}' failed - failed to get address info for: ${name}: Name or service not known`,
    );
  }
  if (!target.online) throw new SimError(500, `target node '${name}' is not online`);
  return target;
}

function clone(type: GuestType) {
  return (ctx: SimContext): string => {
    const src = guestOf(ctx, type);
    const state = ctx.sim.state;
    const kind = label(src);
    const newid = int(ctx, "newid") as number;
    if (state.guests.has(newid)) {
      throw new SimError(500, `unable to create ${kind} ${newid}: config file already exists`);
    }
    const targetName = str(ctx, "target") ?? src.node;
    onlineTarget(state, targetName);
    const full = bool(ctx, "full") ?? !src.template;
    const storage = str(ctx, "storage");
    if (!full && !src.template) {
      throw new SimError(500, `linked clone is only possible from a template (${kind} ${src.vmid} is not one)`);
    }
    if (!full && storage !== undefined) throw new SimError(500, "parameter 'storage' not allowed for linked clones");
    checkPool(state, str(ctx, "pool"));
    if (src.lock && !(src.template && src.lock === "clone")) checkLock(src);
    const snapname = str(ctx, "snapname");
    let base = src.config;
    if (snapname !== undefined) {
      const snap = snapshotsOf(state, src.vmid).find((s) => s.name === snapname);
      if (!snap) throw new SimError(500, `snapshot '${snapname}' does not exist`);
      base = snap.config;
    }
    const now = nowS(ctx);
    const ct = type === "lxc";
    for (const k of diskKeys(base)) {
      const volid = prop(String(base[k]), ct ? "volume" : "file", ct ? "volume" : "file") ?? "";
      const s = state.storages.get(storage ?? storageOfVolid(volid));
      if (targetName !== src.node && s && !s.shared) {
        throw new SimError(500, `can't clone ${kind} to node '${targetName}' (${kind} uses local storage)`);
      }
      allocCheck(state, storage ?? storageOfVolid(volid), targetName, ct ? "rootdir" : "images");
    }
    const config: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(base)) {
      if (["template", "parent", "lock", "vmgenid", "smbios1", "meta"].includes(k) || /^unused\d+$/.test(k)) continue;
      config[k] = v;
    }
    const nameKey = ct ? "hostname" : "name";
    config[nameKey] = str(ctx, ct ? "hostname" : "name") ?? `Copy-of-${kind}-${src.name}`.slice(0, 63);
    const description = str(ctx, "description");
    if (description !== undefined) config.description = description;
    for (const k of diskKeys(config)) {
      const fileKey = ct ? "volume" : "file";
      const list = parseProps(String(config[k]), fileKey);
      const from = list.find(([key]) => key === fileKey)?.[1] ?? "";
      const size = parseSize(list.find(([key]) => key === "size")?.[1] ?? "0");
      const volid = allocDisk(state, {
        storage: storage ?? storageOfVolid(from),
        node: targetName,
        vmid: newid,
        size,
        content: ct ? "rootdir" : "images",
        nowS: now,
      });
      config[k] = formatProps([[fileKey, volid], ...list.filter(([key]) => key !== fileKey)]).replace(
        `${fileKey}=`,
        "",
      );
    }
    regenMacs(type, newid, config);
    config.smbios1 = `uuid=${crypto.randomUUID()}`;
    if (!ct) config.vmgenid = crypto.randomUUID();
    const g = stoppedGuest({
      vmid: newid,
      type,
      node: targetName,
      name: String(config[nameKey]),
      template: false,
      tags: String(config.tags ?? "").split(/[;, ]+/).filter(Boolean),
      cores: Number(config.cores ?? src.cores),
      memory: parseInt(String(config.memory ?? src.memory), 10) || src.memory,
      maxdisk: bootDiskSize(config),
      config,
    });
    const pool = str(ctx, "pool");
    if (pool !== undefined) g.pool = pool;
    g.lock = "clone";
    state.putGuest(g);
    return startTask(ctx, {
      node: src.node,
      type: ct ? "vzclone" : "qmclone",
      id: src.vmid,
      log: [`create ${full ? "full" : "linked"} clone of drive(s) ${diskKeys(config).join(", ")}`],
      onSuccess: () => state.updateGuest(newid, (x) => void delete x.lock),
    });
  };
}

function template(type: GuestType) {
  return (ctx: SimContext): string | null => {
    const g = guestOf(ctx, type);
    const state = ctx.sim.state;
    checkLock(g);
    if (g.template) throw new SimError(500, `${label(g)} ${g.vmid} is already a template`);
    if (g.status === "running") throw new SimError(500, `you can't convert a running ${label(g)} to a template`);
    const convert = () =>
      state.updateGuest(g.vmid, (x) => {
        x.template = true;
        x.config.template = 1;
        for (const k of diskKeys(x.config)) {
          x.config[k] = String(x.config[k]).replace(/\bvm-(\d+)-disk-/, "base-$1-disk-");
        }
      });
    if (type === "lxc") {
      convert();
      return null;
    }
    return startTask(ctx, { node: g.node, type: "qmtemplate", id: g.vmid, onSuccess: convert });
  };
}

function destroy(type: GuestType) {
  return (ctx: SimContext): string => {
    const g = guestOf(ctx, type);
    const state = ctx.sim.state;
    checkLock(g);
    if (g.status === "running") {
      throw new SimError(500, type === "qemu" ? `VM ${g.vmid} is running - destroy failed` : `CT ${g.vmid} is running`);
    }
    if (Number(g.config.protection ?? 0) === 1) {
      throw new SimError(500, `can't remove ${label(g)} ${g.vmid} - protection mode enabled`);
    }
    const purge = bool(ctx, "purge") ?? false;
    if (g.hastate && !purge) {
      throw new SimError(
        500,
        `unable to remove ${label(g)} ${g.vmid} - used in HA resources and purge parameter not set.`,
      );
    }
    const unreferenced = bool(ctx, "destroy-unreferenced-disks") ?? false;
    return startTask(ctx, {
      node: g.node,
      type: type === "qemu" ? "qmdestroy" : "vzdestroy",
      id: g.vmid,
      log: [`destroying ${label(g)} ${g.vmid}`],
      onSuccess: () => {
        freeGuestVolumes(state, g);
        if (unreferenced) {
          for (const s of state.storages.values()) {
            if (!state.storageOnNode(s, g.node)) continue;
            for (const v of [...state.volumes(s, g.node)]) {
              if (v.vmid === g.vmid && (v.content === "images" || v.content === "rootdir")) {
                state.removeVolume(s.id, s.shared ? undefined : g.node, v.volid);
              }
            }
          }
        }
        state.deleteGuest(g.vmid);
        forgetGuest(state, g.vmid);
      },
    });
  };
}

function migrate(type: GuestType) {
  return (ctx: SimContext): string => {
    const g = guestOf(ctx, type);
    const state = ctx.sim.state;
    const kind = label(g);
    const targetName = str(ctx, "target") as string;
    if (targetName === g.node) throw new SimError(500, "target is local node.");
    const target = onlineTarget(state, targetName);
    checkLock(g);
    const running = g.status === "running";
    const online = bool(ctx, "online") ?? false;
    const restart = bool(ctx, "restart") ?? false;
    const targetStorage = str(ctx, type === "qemu" ? "targetstorage" : "target-storage");
    const local = diskKeys(g.config).filter((k) => {
      const s = state.storages.get(storageOfVolid(String(g.config[k]).split(",")[0] ?? ""));
      return s !== undefined && !s.shared;
    });
    let failWith: string | undefined;
    if (type === "qemu") {
      if (running && !online) throw new SimError(500, "can't migrate running VM without --online");
      if (running && local.length && !(bool(ctx, "with-local-disks") ?? false)) {
        failWith = `can't live migrate attached local disks without with-local-disks option`;
      }
    } else if (running && !restart) {
      throw new SimError(
        500,
        online ? "lxc live migration is currently not implemented" : "CT is running - use online or restart migration",
      );
    }
    if (failWith === undefined) g.lock = "migrate";
    state.touch();
    return startTask(ctx, {
      node: g.node,
      type: type === "qemu" ? "qmigrate" : "vzmigrate",
      id: g.vmid,
      log: [`starting migration of ${kind} ${g.vmid} to node '${targetName}' (${target.ip})`],
      ...(failWith !== undefined ? { failWith } : {
        onSuccess: () =>
          state.updateGuest(g.vmid, (x) => {
            const from = x.node;
            for (const k of local) {
              const fileKey = CT_VOLUME.test(k) ? "volume" : "file";
              const list = parseProps(String(x.config[k]), fileKey);
              const volid = list.find(([key]) => key === fileKey)?.[1] ?? "";
              const old = findVolume(state, volid, from);
              const storage = targetStorage?.split(":").at(-1) ?? storageOfVolid(volid);
              const base = volid.slice(volid.indexOf(":") + 1).replace(/^\d+\//, "").replace(/\.(qcow2|raw|vmdk)$/, "");
              state.removeVolume(storageOfVolid(volid), from, volid);
              const moved = allocDisk(state, {
                storage,
                node: targetName,
                vmid: x.vmid,
                size: old?.size ?? 0,
                content: CT_VOLUME.test(k) ? "rootdir" : "images",
                nowS: nowS(ctx),
              }, base);
              x.config[k] = formatProps([[fileKey, moved], ...list.filter(([key]) => key !== fileKey)]).replace(
                `${fileKey}=`,
                "",
              );
            }
            x.node = targetName;
            delete x.lock;
            if (restart && running) markRunning(x, nowS(ctx));
          }),
      }),
    });
  };
}

/** Routes of this file. */
export const guestLifecycleRoutes: SimRoute[] = [];
for (const type of ["qemu", "lxc"] as const) {
  guestLifecycleRoutes.push(
    { method: "POST", path: `/nodes/{node}/${type}/{vmid}/clone`, handler: clone(type) },
    { method: "POST", path: `/nodes/{node}/${type}/{vmid}/template`, handler: template(type) },
    { method: "DELETE", path: `/nodes/{node}/${type}/{vmid}`, handler: destroy(type) },
    { method: "POST", path: `/nodes/{node}/${type}/{vmid}/migrate`, handler: migrate(type) },
  );
}
