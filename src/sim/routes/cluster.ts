/**
 * Cluster-wide read endpoints: version, cluster status, resources (cached per state version, fast for 10,000
 * guests), cluster task list and pools.
 * @module
 */
import { isAdmin, type SimPrincipal } from "../auth.ts";
import type { ClusterState } from "../model.ts";
import { RawJson } from "../server.ts";
import { type SimContext, SimError, type SimRoute, str } from "../router.ts";
import { guestResource, nodeResource, storageResource } from "../views.ts";
import { taskListItem } from "./tasks.ts";

type ResourceType = "vm" | "node" | "storage" | "sdn" | "";

interface Cache {
  version: number;
  bucket: number;
  entries: Map<string, RawJson>;
}
const caches = new WeakMap<ClusterState, Cache>();
const GLOBAL_AUDIT = ["VM.Audit", "Sys.Audit", "Datastore.Audit", "Pool.Audit", "SDN.Audit"];

function seesEverything(p: SimPrincipal): boolean {
  return isAdmin(p) || GLOBAL_AUDIT.every((priv) =>
    p.acl.some((e) =>
      e.path === "/" && e.propagate !== false &&
      (e.privs.includes(priv) || e.privs.includes("*"))
    )
  );
}

function buildResources(ctx: SimContext, type: ResourceType): string {
  const { state } = ctx.sim;
  const core = ctx.sim;
  const p = ctx.principal;
  const all = seesEverything(p);
  const can = (path: string, ...privs: string[]) => all || privs.some((x) => core.hasPriv(p, path, x));
  const nowS = Math.floor(core.now() / 1000);
  const parts: string[] = [];
  if (type === "" || type === "node") {
    for (const n of state.nodes.values()) {
      if (can(`/nodes/${n.name}`, "Sys.Audit")) parts.push(JSON.stringify(nodeResource(n, nowS)));
    }
  }
  if (type === "" || type === "vm") {
    const ids = [...state.guests.keys()].sort((a, b) => a - b);
    for (const id of ids) {
      const g = state.guests.get(id);
      if (!g || !can(`/vms/${id}`, "VM.Audit")) continue;
      parts.push(JSON.stringify(guestResource(g, nowS, state.nodes.get(g.node)?.online ?? false)));
    }
  }
  if (type === "" || type === "storage") {
    for (const s of state.storages.values()) {
      if (!can(`/storage/${s.id}`, "Datastore.Audit", "Datastore.AllocateSpace")) continue;
      for (const n of state.nodes.values()) {
        if (state.storageOnNode(s, n.name)) parts.push(JSON.stringify(storageResource(state, s, n.name, n.online)));
      }
    }
  }
  if (type === "") {
    for (const pool of state.pools.keys()) {
      if (can(`/pool/${pool}`, "Pool.Audit")) parts.push(JSON.stringify({ id: `/pool/${pool}`, type: "pool", pool }));
    }
  }
  if (type === "" || type === "sdn") {
    for (const n of state.nodes.values()) {
      if (!can("/sdn/zones/localnetwork", "SDN.Audit")) break;
      parts.push(
        JSON.stringify({
          id: `sdn/${n.name}/localnetwork`,
          type: "sdn",
          sdn: "localnetwork",
          node: n.name,
          status: n.online ? "ok" : "unknown",
        }),
      );
    }
  }
  return `[${parts.join(",")}]`;
}

/** `GET /cluster/resources`: cached per (state version, 10 s of clock, type, principal). */
function resources(ctx: SimContext): RawJson {
  const type = (str(ctx, "type") ?? "") as ResourceType;
  const state = ctx.sim.state;
  const bucket = Math.floor(ctx.sim.now() / 10_000);
  let cache = caches.get(state);
  if (!cache || cache.version !== state.version || cache.bucket !== bucket) {
    cache = { version: state.version, bucket, entries: new Map() };
    caches.set(state, cache);
  }
  const who = seesEverything(ctx.principal) ? "*" : ctx.principal.id;
  const key = `${type}\u0000${who}`;
  let hit = cache.entries.get(key);
  if (!hit) {
    hit = new RawJson(buildResources(ctx, type));
    if (cache.entries.size > 32) cache.entries.clear();
    cache.entries.set(key, hit);
  }
  return hit;
}

function clusterStatus(ctx: SimContext): unknown[] {
  const { state } = ctx.sim;
  const nodes = [...state.nodes.values()];
  const online = nodes.filter((n) => n.online).length;
  return [
    {
      type: "cluster",
      id: "cluster",
      name: state.clusterName,
      nodes: nodes.length,
      quorate: online * 2 > nodes.length ? 1 : 0,
      version: nodes.length + 2,
    },
    ...nodes.map((n, i) => ({
      type: "node",
      id: `node/${n.name}`,
      name: n.name,
      nodeid: n.nodeid,
      ip: n.ip,
      online: n.online ? 1 : 0,
      local: i === 0 ? 1 : 0,
      level: "",
    })),
  ];
}

function poolMembers(ctx: SimContext, pool: string, type?: string): Record<string, unknown>[] {
  const nowS = Math.floor(ctx.sim.now() / 1000);
  const out: Record<string, unknown>[] = [];
  for (const g of ctx.sim.state.guests.values()) {
    if (g.pool !== pool || (type && type !== g.type)) continue;
    out.push(guestResource(g, nowS, ctx.sim.state.nodes.get(g.node)?.online ?? false));
  }
  return out.sort((a, b) => Number(a.vmid) - Number(b.vmid));
}

function pools(ctx: SimContext): unknown[] {
  const poolid = str(ctx, "poolid");
  const out: unknown[] = [];
  for (const [name, p] of ctx.sim.state.pools) {
    if (poolid !== undefined && name !== poolid) continue;
    if (!ctx.sim.hasPriv(ctx.principal, `/pool/${name}`, "Pool.Audit")) continue;
    const item: Record<string, unknown> = { poolid: name };
    if (p.comment) item.comment = p.comment;
    if (poolid !== undefined) item.members = poolMembers(ctx, name, str(ctx, "type"));
    out.push(item);
  }
  return out;
}

function pool(ctx: SimContext): unknown {
  const name = str(ctx, "poolid") ?? "";
  const p = ctx.sim.state.pools.get(name);
  if (!p) throw new SimError(500, `pool '${name}' does not exist`);
  return p.comment
    ? { comment: p.comment, members: poolMembers(ctx, name, str(ctx, "type")) }
    : { members: poolMembers(ctx, name, str(ctx, "type")) };
}

/** Routes of this file. */
export const clusterRoutes: SimRoute[] = [
  { method: "GET", path: "/version", handler: (ctx) => ({ ...ctx.sim.version }) },
  { method: "GET", path: "/cluster/status", handler: clusterStatus },
  { method: "GET", path: "/cluster/resources", handler: resources },
  {
    method: "GET",
    path: "/cluster/tasks",
    handler: (ctx) => ctx.sim.tasks.all().slice(0, 50).map(taskListItem),
  },
  { method: "GET", path: "/pools", handler: pools },
  { method: "GET", path: "/pools/{poolid}", handler: pool },
];
