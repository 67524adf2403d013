/**
 * Storage endpoints of a node: list (with PVE's filters), status, content.
 * @module
 */
import { bool, int, nodeOf, type SimContext, type SimRoute, storageOf, str } from "../router.ts";
import type { SimStorage } from "../model.ts";
import { storageUsage } from "../views.ts";

const FORMATS: Record<string, { default: string; supported: string[] }> = {
  dir: { default: "qcow2", supported: ["qcow2", "raw", "vmdk"] },
  nfs: { default: "qcow2", supported: ["qcow2", "raw", "vmdk"] },
  lvmthin: { default: "raw", supported: ["raw"] },
  zfspool: { default: "raw", supported: ["raw", "subvol"] },
};

function canSee(ctx: SimContext, s: SimStorage): boolean {
  const path = `/storage/${s.id}`;
  return ctx.sim.hasPriv(ctx.principal, path, "Datastore.Audit") ||
    ctx.sim.hasPriv(ctx.principal, path, "Datastore.AllocateSpace");
}

/** What the storage list and a storage's status both show. */
function storageFields(s: SimStorage, u: ReturnType<typeof storageUsage>): Record<string, unknown> {
  return {
    type: s.type,
    content: s.content.join(","),
    active: 1,
    enabled: 1,
    shared: s.shared ? 1 : 0,
    total: u.total,
    used: u.used,
    avail: u.avail,
  };
}

function listStorage(ctx: SimContext): unknown[] {
  const node = nodeOf(ctx);
  const { state } = ctx.sim;
  const content = (str(ctx, "content") ?? "").split(/[\s,;]+/).filter(Boolean);
  const only = str(ctx, "storage");
  const target = str(ctx, "target");
  const withFormats = bool(ctx, "format") ?? false;
  const out: unknown[] = [];
  for (const s of state.storages.values()) {
    if (!state.storageOnNode(s, node.name) || !canSee(ctx, s)) continue;
    if (only !== undefined && s.id !== only) continue;
    if (target !== undefined && target !== node.name && !(s.shared && state.storageOnNode(s, target))) continue;
    if (content.length && !content.some((c) => s.content.includes(c))) continue;
    const u = storageUsage(state, s, node.name);
    const item: Record<string, unknown> = {
      storage: s.id,
      ...storageFields(s, u),
      used_fraction: u.total ? Math.round((u.used / u.total) * 1e6) / 1e6 : 0,
    };
    const f = FORMATS[s.type];
    if (withFormats && f && (s.content.includes("images") || s.content.includes("rootdir"))) {
      item.formats = { default: f.default, supported: f.supported };
      item.select_existing = 0;
    }
    out.push(item);
  }
  return out;
}

function storageStatus(ctx: SimContext): Record<string, unknown> {
  const node = nodeOf(ctx);
  const s = storageOf(ctx);
  const u = storageUsage(ctx.sim.state, s, node.name);
  return storageFields(s, u);
}

function storageContent(ctx: SimContext): unknown[] {
  const node = nodeOf(ctx);
  const s = storageOf(ctx);
  const content = str(ctx, "content");
  const vmid = int(ctx, "vmid");
  const out: unknown[] = [];
  for (const v of ctx.sim.state.volumes(s, node.name)) {
    if (content !== undefined && v.content !== content) continue;
    if (vmid !== undefined && v.vmid !== vmid) continue;
    const item: Record<string, unknown> = {
      volid: v.volid,
      content: v.content,
      format: v.format,
      size: v.size,
      ctime: v.ctime,
    };
    if (v.used !== undefined) item.used = v.used;
    if (v.vmid !== undefined) item.vmid = v.vmid;
    if (v.notes !== undefined) item.notes = v.notes;
    if (v.protected) item.protected = 1;
    if (v.parent !== undefined) item.parent = v.parent;
    out.push(item);
  }
  return out.sort((a, b) => {
    const x = String((a as { volid: string }).volid), y = String((b as { volid: string }).volid);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** Routes of this file. */
export const storageRoutes: SimRoute[] = [
  { method: "GET", path: "/nodes/{node}/storage", handler: listStorage },
  { method: "GET", path: "/nodes/{node}/storage/{storage}/status", handler: storageStatus },
  { method: "GET", path: "/nodes/{node}/storage/{storage}/content", handler: storageContent },
];
