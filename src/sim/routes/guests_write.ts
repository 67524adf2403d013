/**
 * Creating guests: next free vmid, create (QEMU and LXC) and restore from a vzdump archive (QEMU `archive`, LXC
 * `restore=1`). PVE's checks answer 500 at once; the guest appears locked (`create`) and unlocks when the task ends.
 * @module
 */
import type { ClusterState, GuestType, SimGuest } from "../model.ts";
import { bool, int, nodeOf, type SimContext, SimError, type SimRoute, startTask, str } from "../router.ts";
import {
  allocDisk,
  type BackupImage,
  diskKeys,
  extrasOf,
  findVolume,
  forgetGuest,
  formatProps,
  freeGuestVolumes,
  imageOf,
  macFor,
  parseProps,
  parseSize,
  passwordHash,
  prop,
  storageOfVolid,
} from "./guest_extras.ts";
import {
  bootDiskSize,
  checkLock,
  checkPool,
  configValue,
  CT_VOLUME,
  DRIVE,
  driveValue,
  existsError,
  GiB,
  markRunning,
  nicValue,
  nowS,
  regenMacs,
  stoppedGuest,
} from "./guest_build.ts";

const SKIP = new Set([
  "node",
  "vmid",
  "start",
  "storage",
  "pool",
  "force",
  "unique",
  "archive",
  "restore",
  "bwlimit",
  "live-restore",
  "ostemplate",
  "password",
  "ssh-public-keys",
  "ignore-unpack-errors",
  "ha-managed",
  "import-working-storage",
]);

/** Builds a new guest from create parameters (validating everything first, then allocating its volumes). */
function buildGuest(ctx: SimContext, type: GuestType, node: string, vmid: number): SimGuest {
  const state = ctx.sim.state;
  const now = nowS(ctx);
  const params = Object.entries(ctx.params).filter(([k, v]) => !SKIP.has(k) && v !== undefined && v !== null);
  const loc = { vmid, node };
  for (const [k, v] of params) if (DRIVE.test(k) || CT_VOLUME.test(k)) driveValue(state, loc, k, String(v), now, true);
  const config: Record<string, string | number> = {};
  for (const [k, raw] of params) {
    let v: string | number = configValue(k, raw);
    if (DRIVE.test(k) || CT_VOLUME.test(k)) v = driveValue(state, loc, k, String(raw), now);
    else if (/^net\d+$/.test(k)) v = nicValue(type, vmid, Number(k.slice(3)), String(raw));
    else if (k === "cipassword") v = passwordHash(String(raw));
    config[k] = v;
  }
  if (type === "qemu") {
    config.name ??= `VM${vmid}`;
    config.smbios1 ??= `uuid=${crypto.randomUUID()}`;
    config.vmgenid ??= crypto.randomUUID();
    config.meta ??= `creation-qemu=9.2.0,ctime=${now}`;
  } else {
    config.hostname ??= `CT${vmid}`;
    config.arch ??= "amd64";
    if (config.rootfs === undefined) {
      config.rootfs = driveValue(state, loc, "rootfs", `${str(ctx, "storage") ?? "local"}:4`, now);
    }
  }
  const tags = String(config.tags ?? "").split(/[;, ]+/).filter(Boolean);
  const g = stoppedGuest({
    vmid,
    type,
    node,
    name: String(type === "qemu" ? config.name : config.hostname),
    template: config.template === 1,
    tags,
    cores: Number(config.cores ?? 1),
    memory: parseInt(String(config.memory ?? 512), 10) || parseInt(prop(String(config.memory), "current") ?? "512", 10),
    maxdisk: bootDiskSize(config),
    config,
  });
  const pool = str(ctx, "pool");
  if (pool !== undefined) g.pool = pool;
  return g;
}

/** Puts a new guest in place locked, and starts the worker that unlocks (and maybe starts) it. */
function launch(ctx: SimContext, g: SimGuest, taskType: string, log: string[], id: number = g.vmid): string {
  const state = ctx.sim.state;
  g.lock = "create";
  state.putGuest(g);
  const start = bool(ctx, "start") ?? false;
  return startTask(ctx, {
    node: g.node,
    type: taskType,
    id,
    log,
    onSuccess: () =>
      state.updateGuest(g.vmid, (x) => {
        delete x.lock;
        if (start) markRunning(x, nowS(ctx));
      }),
  });
}

function create(type: GuestType) {
  return (ctx: SimContext): string => {
    const node = nodeOf(ctx);
    const state = ctx.sim.state;
    const vmid = int(ctx, "vmid") as number;
    const archive = type === "qemu" ? str(ctx, "archive") : bool(ctx, "restore") ? str(ctx, "ostemplate") : undefined;
    if (archive !== undefined) return restore(ctx, type, node.name, vmid, archive);
    if (state.guests.has(vmid)) throw existsError(type === "qemu" ? "VM" : "CT", vmid, state);
    checkPool(state, str(ctx, "pool"));
    if (type === "lxc") {
      const tpl = str(ctx, "ostemplate") as string;
      const vol = findVolume(state, tpl, node.name);
      if (!vol || vol.content !== "vztmpl") throw new SimError(500, `volume '${tpl}' does not exist`);
    }
    const g = buildGuest(ctx, type, node.name, vmid);
    if (type === "lxc" && g.config.ostype === undefined) {
      const tpl = str(ctx, "ostemplate") ?? "";
      g.config.ostype = ["debian", "ubuntu", "alpine", "centos", "fedora", "archlinux"].find((o) => tpl.includes(o)) ??
        "unmanaged";
    }
    return launch(ctx, g, type === "qemu" ? "qmcreate" : "vzcreate", [
      ...diskKeys(g.config).map((k) => `  ${k}: ${String(g.config[k]).split(",")[0]}`),
    ]);
  };
}

/** Restores a vzdump archive as guest `vmid` (replacing it when `force` allows). */
function restore(ctx: SimContext, type: GuestType, node: string, vmid: number, volid: string): string {
  const state = ctx.sim.state;
  const kind = type === "qemu" ? "VM" : "CT";
  const vol = findVolume(state, volid, node);
  if (!vol || vol.content !== "backup") throw new SimError(500, `volume '${volid}' does not exist`);
  const existing = state.guests.get(vmid);
  if (existing) {
    if (!(bool(ctx, "force") ?? false)) throw existsError(kind, vmid, state, "restore");
    if (existing.node !== node) throw existsError(kind, vmid, state, "restore");
    if (existing.type !== type) throw new SimError(500, `unable to restore ${kind} ${vmid} - VM type mismatch`);
    if (existing.status === "running") {
      throw new SimError(500, `unable to restore ${kind} ${vmid} - ${kind} is running`);
    }
    checkLock(existing);
  }
  const image = extrasOf(state).backups.get(volid) ?? guessImage(state, volid, type);
  if (image.type !== type) {
    throw new SimError(500, `unable to restore ${kind} ${vmid} - archive '${volid}' holds a ${image.type} guest`);
  }
  const now = nowS(ctx);
  const target = str(ctx, "storage");
  const unique = bool(ctx, "unique") ?? false;
  const config: Record<string, string | number> = { ...image.config };
  delete config.parent;
  delete config.lock;
  if (existing) {
    freeGuestVolumes(state, existing);
    forgetGuest(state, vmid);
  }
  for (const k of diskKeys(config)) {
    const value = String(config[k]);
    const fileKey = CT_VOLUME.test(k) ? "volume" : "file";
    const list = parseProps(value, fileKey);
    const size = parseSize(list.find(([key]) => key === "size")?.[1] ?? "8G");
    const from = storageOfVolid(list.find(([key]) => key === fileKey)?.[1] ?? "local-lvm:x");
    const storage = target ?? (state.storages.has(from) ? from : "local-lvm");
    const content = CT_VOLUME.test(k) ? "rootdir" as const : "images" as const;
    const newVol = allocDisk(state, { storage, node, vmid, size, content, nowS: now });
    config[k] = formatProps([[fileKey, newVol], ...list.filter(([key]) => key !== fileKey)]).replace(`${fileKey}=`, "");
  }
  for (const k of Object.keys(config)) if (/^unused\d+$/.test(k)) delete config[k];
  if (unique) regenMacs(type, vmid, config);
  const g = stoppedGuest({
    vmid,
    type,
    node,
    name: image.name,
    template: false,
    tags: [...image.tags],
    cores: image.cores,
    memory: image.memory,
    maxdisk: image.maxdisk,
    config,
  });
  if (existing?.pool) g.pool = existing.pool;
  return launch(ctx, g, type === "qemu" ? "qmrestore" : "vzrestore", [
    `restore vzdump backup '${volid}' using ID ${vmid}`,
    ...(existing ? [`destroying old ${kind} ${vmid}`] : []),
  ]);
}

/** What a seeded backup (made before the simulator started) holds: its guest's config when it still exists. */
function guessImage(state: ClusterState, volid: string, type: GuestType): BackupImage {
  const m = /vzdump-(?:qemu|lxc|openvz)-(\d+)-/.exec(volid);
  const g = m ? state.guests.get(Number(m[1])) : undefined;
  if (g && g.type === type) return imageOf(g);
  const vmid = m ? Number(m[1]) : 0;
  const config: Record<string, string | number> = type === "qemu"
    ? {
      name: `restored-${vmid}`,
      cores: 2,
      memory: "2048",
      scsihw: "virtio-scsi-single",
      scsi0: `local-lvm:vm-${vmid}-disk-0,size=32G`,
      net0: `virtio=${macFor(vmid, 0)},bridge=vmbr0`,
      ostype: "l26",
    }
    : {
      hostname: `restored-${vmid}`,
      cores: 1,
      memory: 512,
      swap: 512,
      rootfs: `local-lvm:vm-${vmid}-disk-0,size=8G`,
      net0: `name=eth0,bridge=vmbr0,hwaddr=${macFor(vmid, 0)},ip=dhcp,type=veth`,
      ostype: "debian",
      unprivileged: 1,
    };
  return {
    type,
    name: `restored-${vmid}`,
    config,
    cores: Number(config.cores),
    memory: parseInt(String(config.memory), 10),
    maxdisk: (type === "qemu" ? 32 : 8) * GiB,
    tags: [],
  };
}

function nextid(ctx: SimContext): number {
  const vmid = int(ctx, "vmid");
  if (vmid === undefined) return ctx.sim.state.nextVmid();
  if (ctx.sim.state.guests.has(vmid)) {
    throw new SimError(400, "Parameter verification failed.", { vmid: `VM ${vmid} already exists` });
  }
  return vmid;
}

/** Routes of this file. */
export const guestCreateRoutes: SimRoute[] = [{ method: "GET", path: "/cluster/nextid", handler: nextid }];
for (const type of ["qemu", "lxc"] as const) {
  guestCreateRoutes.push({ method: "POST", path: `/nodes/{node}/${type}`, handler: create(type) });
}
