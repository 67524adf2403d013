/**
 * Backups: `POST /nodes/{node}/vzdump` (writes archives to a backup storage when the task ends, remembering what each
 * holds so restores bring the guest back) and `DELETE /nodes/{node}/storage/{storage}/content/{volume}` (any volume;
 * protected backups and disks still used by a guest are refused). Restores live with guest creation
 * (guests_write.ts).
 * @module
 */
import type { SimVolume } from "../model.ts";
import { bool, nodeOf, type SimContext, SimError, type SimRoute, startTask, storageOf, str } from "../router.ts";
import { dumpStamp, extrasOf, findVolume, imageOf } from "./guest_extras.ts";
import { markRunning, markStopped, nowS } from "./guest_build.ts";

const EXT: Record<string, string> = { "0": "", "1": ".lzo", gzip: ".gz", lzo: ".lzo", zstd: ".zst" };

function vzdump(ctx: SimContext): string {
  const node = nodeOf(ctx);
  const state = ctx.sim.state;
  const storageId = str(ctx, "storage") ?? "local";
  const storage = state.storages.get(storageId);
  if (!storage) throw new SimError(500, `storage '${storageId}' does not exist`);
  if (!state.storageOnNode(storage, node.name) || !storage.content.includes("backup")) {
    throw new SimError(
      500,
      `could not get storage information for '${storageId}': storage '${storageId}' does not support backups`,
    );
  }
  const all = bool(ctx, "all") ?? false;
  const pool = str(ctx, "pool");
  let ids = (str(ctx, "vmid") ?? "").split(/[,;\s]+/).filter(Boolean).map(Number);
  if (all) ids = [...state.guests.keys()];
  if (pool !== undefined) ids = [...state.guests.values()].filter((g) => g.pool === pool).map((g) => g.vmid);
  if (ids.length === 0) throw new SimError(500, "no guests selected: pass vmid, pool or all");
  const missing = ids.filter((id) => !state.guests.has(id));
  if (missing.length) throw new SimError(500, `unable to find configuration file for VM ${missing[0]}`);
  const mode = str(ctx, "mode") ?? "snapshot";
  const compress = str(ctx, "compress") ?? "0";
  const notes = str(ctx, "notes-template");
  const prot = bool(ctx, "protected") ?? false;
  const local = ids.map((id) => state.guests.get(id)!).filter((g) => g.node === node.name);
  const external = ids.filter((id) => state.guests.get(id)?.node !== node.name);
  const started = nowS(ctx);
  const log = [
    `INFO: starting new backup job: vzdump ${ids.join(" ")} --mode ${mode} --storage ${storageId}`,
    ...(external.length ? [`INFO: skip external VMs: ${external.join(", ")}`] : []),
  ];
  for (const g of local) {
    log.push(`INFO: Starting Backup of VM ${g.vmid} (${g.type})`);
    if (mode === "stop" && g.status === "running") log.push("INFO: stopping virtual guest", "INFO: restarting guest");
    if (mode === "suspend" && g.status === "running") log.push("INFO: suspending guest", "INFO: resuming guest");
    log.push(`INFO: Finished Backup of VM ${g.vmid} (00:00:01)`);
  }
  log.push("INFO: Backup job finished successfully");
  return startTask(ctx, {
    node: node.name,
    type: "vzdump",
    id: ids.length === 1 ? ids[0] as number : "",
    log,
    onSuccess: () => {
      const taken = new Set(state.volumes(storage, node.name).map((v) => v.volid));
      for (const g of local) {
        if (mode === "stop" && g.status === "running") {
          markStopped(g);
          markRunning(g, nowS(ctx));
        }
        const ext = `${g.type === "qemu" ? "vma" : "tar"}${EXT[compress] ?? ""}`;
        let t = started;
        let volid = "";
        while (!volid || taken.has(volid)) {
          volid = `${storageId}:backup/vzdump-${g.type}-${g.vmid}-${dumpStamp(t++)}.${ext}`;
        }
        taken.add(volid);
        const vol: SimVolume = {
          volid,
          storage: storageId,
          content: "backup",
          format: ext,
          size: Math.max(1024 ** 2, Math.round(g.maxdisk * 0.15)),
          ctime: started,
          vmid: g.vmid,
        };
        if (!storage.shared) vol.node = node.name;
        if (notes !== undefined) {
          vol.notes = notes.replaceAll("{{guestname}}", g.name).replaceAll("{{vmid}}", String(g.vmid))
            .replaceAll("{{node}}", node.name).replaceAll("{{cluster}}", state.clusterName);
        }
        if (prot) vol.protected = true;
        state.addVolume(vol);
        extrasOf(state).backups.set(volid, imageOf(g));
      }
    },
  });
}

function deleteVolume(ctx: SimContext): string {
  const node = nodeOf(ctx);
  const state = ctx.sim.state;
  const storage = storageOf(ctx);
  const volume = str(ctx, "volume") as string;
  const volid = volume.includes(":") ? volume : `${storage.id}:${volume}`;
  if (!volid.startsWith(`${storage.id}:`)) {
    throw new SimError(500, `volume '${volid}' is not on storage '${storage.id}'`);
  }
  const vol = findVolume(state, volid, node.name);
  if (!vol) throw new SimError(500, `volume '${volid}' does not exist`);
  if (vol.protected) throw new SimError(500, `volume '${volid}' is protected`);
  if (vol.content === "images" || vol.content === "rootdir") {
    for (const g of state.guests.values()) {
      const used = Object.entries(g.config).find(([, v]) => String(v).split(",")[0] === volid);
      if (used) {
        throw new SimError(
          500,
          `unable to delete '${volid}' - volume is still in use by ${g.type === "qemu" ? "VM" : "CT"} ${g.vmid} (${
            used[0]
          })`,
        );
      }
    }
  }
  return startTask(ctx, {
    node: node.name,
    type: "imgdel",
    log: [`removing volume '${volid}'`],
    onSuccess: () => {
      state.removeVolume(storage.id, storage.shared ? undefined : node.name, volid);
      extrasOf(state).backups.delete(volid);
    },
  });
}

/** Routes of this file. */
export const backupRoutes: SimRoute[] = [
  { method: "POST", path: "/nodes/{node}/vzdump", handler: vzdump },
  { method: "DELETE", path: "/nodes/{node}/storage/{storage}/content/{volume}", handler: deleteVolume },
];
