/**
 * Guest configuration endpoints: `PUT .../config` (with digest check, delete, pending changes of running VMs),
 * `GET .../pending`, disk resize (grow only) and disk move to another storage.
 * @module
 */
import type { GuestType, SimGuest } from "../model.ts";
import { bool, guestOf, type SimContext, SimError, type SimRoute, startTask, str } from "../router.ts";
import { configView } from "../views.ts";
import {
  allocDisk,
  extrasOf,
  findVolume,
  formatProps,
  freeVolume,
  parseProps,
  parseSize,
  passwordHash,
  sizeText,
  storageOfVolid,
} from "./guest_extras.ts";
import { bootDiskSize, checkLock, configValue, CT_VOLUME, DRIVE, driveValue, nicValue, nowS } from "./guest_build.ts";

/** Keys a running VM only takes at its next start (PVE's default hotplug covers network, disk and usb). */
const COLD = new Set(["cores", "sockets", "memory", "balloon", "agent", "cpu", "numa", "vcpus", "bios", "machine"]);
const NOT_CONFIG = new Set(["node", "vmid", "digest", "delete", "revert", "skiplock", "force", "background_delay"]);

function checkDigest(ctx: SimContext, g: SimGuest): void {
  const digest = str(ctx, "digest");
  if (digest !== undefined && digest !== configView(g).digest) {
    throw new SimError(500, "detected modified configuration - file changed by other user? Try again.");
  }
}

/** Applies the running guest's pending changes once it is no longer running (as its next start would). */
function settlePending(ctx: SimContext, g: SimGuest): Map<string, string | number | undefined> | undefined {
  const pending = extrasOf(ctx.sim.state).pending.get(g.vmid);
  if (pending && g.status !== "running") {
    extrasOf(ctx.sim.state).pending.delete(g.vmid);
    syncFields(g);
    return undefined;
  }
  return pending;
}

function syncFields(g: SimGuest): void {
  g.cores = Number(g.config.cores ?? 1) * Number(g.config.sockets ?? 1);
  const mem = String(g.config.memory ?? (g.type === "qemu" ? 2048 : 512));
  g.memory = parseInt(mem.replace(/^current=/, ""), 10) || g.memory;
}

function putConfig(type: GuestType) {
  return (ctx: SimContext): null => {
    const g = guestOf(ctx, type);
    const state = ctx.sim.state;
    checkLock(g);
    checkDigest(ctx, g);
    settlePending(ctx, g);
    const cold = type === "qemu" && g.status === "running";
    const x = extrasOf(state);
    const pending = x.pending.get(g.vmid) ?? new Map<string, string | number | undefined>();
    const remember = (k: string) => {
      if (cold && COLD.has(k) && !pending.has(k)) pending.set(k, g.config[k]);
    };
    const deletes = (str(ctx, "delete") ?? "").split(/[,;\s]+/).filter(Boolean);
    const sets = Object.entries(ctx.params).filter(([k, v]) => !NOT_CONFIG.has(k) && v !== undefined && v !== null);
    for (const k of deletes) {
      if (sets.some(([s]) => s === k)) {
        throw new SimError(400, "Parameter verification failed.", {
          delete: `cannot set and delete '${k}' at the same time`,
        });
      }
    }
    const now = nowS(ctx);
    for (const [k, raw] of sets) {
      if (DRIVE.test(k) || CT_VOLUME.test(k)) driveValue(state, g, k, String(raw), now, true);
    }
    for (const k of deletes) {
      if (g.config[k] === undefined) continue;
      remember(k);
      if (DRIVE.test(k) || CT_VOLUME.test(k)) {
        const file = String(g.config[k]).split(",")[0] ?? "";
        if (file.includes(":") && !/media=cdrom/.test(String(g.config[k]))) {
          let i = 0;
          while (g.config[`unused${i}`] !== undefined) i++;
          g.config[`unused${i}`] = file;
        }
      }
      delete g.config[k];
    }
    for (const [k, raw] of sets) {
      remember(k);
      let v: string | number = configValue(k, raw);
      if (DRIVE.test(k) || CT_VOLUME.test(k)) v = driveValue(state, g, k, String(raw), now);
      else if (/^net\d+$/.test(k)) v = nicValue(type, g.vmid, Number(k.slice(3)), String(raw));
      else if (k === "cipassword") v = passwordHash(String(raw));
      g.config[k] = v;
    }
    if (type === "qemu" && g.config.name !== undefined) g.name = String(g.config.name);
    if (type === "lxc" && g.config.hostname !== undefined) g.name = String(g.config.hostname);
    g.tags = String(g.config.tags ?? "").split(/[;, ]+/).filter(Boolean);
    if (pending.size) x.pending.set(g.vmid, pending);
    if (!cold || ![...sets.map(([k]) => k), ...deletes].some((k) => COLD.has(k))) syncFields(g);
    g.maxdisk = bootDiskSize(g.config) || g.maxdisk;
    state.touch();
    return null;
  };
}

function getPending(type: GuestType) {
  return (ctx: SimContext): unknown[] => {
    const g = guestOf(ctx, type);
    const pending = settlePending(ctx, g) ?? new Map();
    const rows: Record<string, unknown>[] = [];
    const keys = new Set([...Object.keys(g.config), ...pending.keys()]);
    // PVE answers config values as strings here (its schema says so), numbers included.
    const text = (v: unknown) => (v === undefined ? undefined : String(v));
    for (const key of [...keys].sort()) {
      const now = text(g.config[key]);
      if (!pending.has(key)) {
        rows.push({ key, value: now });
        continue;
      }
      const old = text(pending.get(key));
      const row: Record<string, unknown> = { key };
      if (old !== undefined) row.value = old;
      if (now === undefined) row.delete = 1;
      else row.pending = now;
      rows.push(row);
    }
    return rows;
  };
}

function diskOf(g: SimGuest, disk: string): { value: string; fileKey: string; list: [string, string][] } {
  const value = g.config[disk];
  if (value === undefined) throw new SimError(500, `disk '${disk}' does not exist`);
  const fileKey = CT_VOLUME.test(disk) ? "volume" : "file";
  return { value: String(value), fileKey, list: parseProps(String(value), fileKey) };
}

function resize(type: GuestType) {
  return (ctx: SimContext): string => {
    const g = guestOf(ctx, type);
    const state = ctx.sim.state;
    checkLock(g);
    checkDigest(ctx, g);
    const disk = str(ctx, "disk") as string;
    const { value, fileKey, list } = diskOf(g, disk);
    if (/media=cdrom/.test(value)) throw new SimError(500, "you can't resize a cdrom");
    const current = parseSize(list.find(([k]) => k === "size")?.[1] ?? "0");
    const sizeArg = str(ctx, "size") as string;
    const target = sizeArg.startsWith("+") ? current + parseSize(sizeArg.slice(1)) : parseSize(sizeArg);
    if (target < current) throw new SimError(500, "shrinking disks is not supported");
    const volid = list.find(([k]) => k === fileKey)?.[1] ?? "";
    return startTask(ctx, {
      node: g.node,
      type: "resize",
      id: g.vmid,
      log: [`resize ${disk} from ${sizeText(current)} to ${sizeText(target)}`],
      onSuccess: () =>
        state.updateGuest(g.vmid, (x) => {
          const l = parseProps(String(x.config[disk]), fileKey).filter(([k]) => k !== "size");
          x.config[disk] = formatProps([...l, ["size", sizeText(target)]]).replace(`${fileKey}=`, "");
          const vol = findVolume(state, volid, x.node);
          if (vol) vol.size = target;
          x.maxdisk = bootDiskSize(x.config) || x.maxdisk;
        }),
    });
  };
}

function move(type: GuestType) {
  return (ctx: SimContext): string => {
    const g = guestOf(ctx, type);
    const state = ctx.sim.state;
    checkLock(g);
    checkDigest(ctx, g);
    const disk = str(ctx, type === "qemu" ? "disk" : "volume") as string;
    if (str(ctx, "target-vmid") !== undefined) {
      throw new SimError(501, "reassigning a disk to another guest is not implemented by the simulator");
    }
    const storage = str(ctx, "storage");
    if (storage === undefined) {
      throw new SimError(400, "Parameter verification failed.", {
        storage: "either storage or target-vmid is required",
      });
    }
    const { value, fileKey, list } = diskOf(g, disk);
    if (/media=cdrom/.test(value)) throw new SimError(500, `you can't move a cdrom`);
    if (type === "lxc" && g.status === "running") {
      throw new SimError(500, "cannot move volumes of a running container");
    }
    const volid = list.find(([k]) => k === fileKey)?.[1] ?? "";
    if (storageOfVolid(volid) === storage) {
      throw new SimError(500, `you can't move to the same storage with same format`);
    }
    const content = CT_VOLUME.test(disk) ? "rootdir" as const : "images" as const;
    const s = state.storages.get(storage);
    if (!s) throw new SimError(500, `storage '${storage}' does not exist`);
    if (!state.storageOnNode(s, g.node)) {
      throw new SimError(500, `storage '${storage}' is not available on node '${g.node}'`);
    }
    if (!s.content.includes(content)) {
      throw new SimError(500, `storage '${storage}' does not support content-type '${content}'`);
    }
    const remove = bool(ctx, "delete") ?? false;
    const size = parseSize(list.find(([k]) => k === "size")?.[1] ?? "0");
    return startTask(ctx, {
      node: g.node,
      type: type === "qemu" ? "qmmove" : "move_volume",
      id: g.vmid,
      log: [`moving disk '${volid}' to storage '${storage}'`],
      onSuccess: () =>
        state.updateGuest(g.vmid, (x) => {
          const newVol = allocDisk(state, { storage, node: x.node, vmid: x.vmid, size, content, nowS: nowS(ctx) });
          const l = parseProps(String(x.config[disk]), fileKey).filter(([k]) => k !== fileKey);
          x.config[disk] = formatProps([[fileKey, newVol], ...l]).replace(`${fileKey}=`, "");
          if (remove) freeVolume(state, volid, x.node);
          else {
            let i = 0;
            while (x.config[`unused${i}`] !== undefined) i++;
            x.config[`unused${i}`] = volid;
          }
        }),
    });
  };
}

/** Routes of this file. */
export const guestConfigRoutes: SimRoute[] = [
  { method: "POST", path: "/nodes/{node}/qemu/{vmid}/move_disk", handler: move("qemu") },
  { method: "POST", path: "/nodes/{node}/lxc/{vmid}/move_volume", handler: move("lxc") },
];
for (const type of ["qemu", "lxc"] as const) {
  guestConfigRoutes.push(
    { method: "PUT", path: `/nodes/{node}/${type}/{vmid}/config`, handler: putConfig(type) },
    { method: "GET", path: `/nodes/{node}/${type}/{vmid}/pending`, handler: getPending(type) },
    { method: "PUT", path: `/nodes/{node}/${type}/{vmid}/resize`, handler: resize(type) },
  );
}
