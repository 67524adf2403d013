/**
 * Further cluster read tools: Ceph status, SDN zones/vnets/subnets, and cluster status, join information and
 * replication jobs.
 * @module
 */
import { z } from "zod";
import { defineTool } from "./registry.ts";
import { NodeName } from "../guard/schemas.ts";
import { capText } from "../guard/untrusted.ts";
import { cell, gib, InfoOut, infoText, READ, table } from "./infra_common.ts";

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return v && typeof v === "object" && !Array.isArray(v) ? v as Obj : {};
}

/** The essentials of `ceph status` (health and its checks, daemons, OSDs, PGs, capacity, I/O). */
export function cephSummary(d: Obj): Obj {
  const health = obj(d.health);
  const checks = Object.entries(obj(health.checks)).map(([name, c]) => {
    const check = obj(c);
    const message = obj(check.summary).message;
    return `${check.severity ?? "?"} ${capText(name, 60)}: ${capText(String(message ?? ""), 200)}`;
  });
  const osd = obj(d.osdmap);
  const osdmap = obj(osd.osdmap).num_osds !== undefined ? obj(osd.osdmap) : osd;
  const pg = obj(d.pgmap);
  const mgr = obj(d.mgrmap);
  const states = Array.isArray(pg.pgs_by_state)
    ? (pg.pgs_by_state as Obj[]).map((s) => `${s.count} ${capText(String(s.state_name), 80)}`).join(", ")
    : null;
  const out: Obj = {
    health: health.status ?? null,
    checks,
    mons: Array.isArray(d.quorum_names)
      ? (d.quorum_names as unknown[]).map(String).join(",")
      : obj(d.monmap).num_mons ?? null,
    mgr: mgr.available === undefined
      ? null
      : `${mgr.available ? "available" : "unavailable"}, ${mgr.num_standbys ?? 0} standby`,
    osds: osdmap.num_osds === undefined
      ? null
      : `${osdmap.num_osds} total, ${osdmap.num_up_osds} up, ${osdmap.num_in_osds} in`,
    pgs: pg.num_pgs === undefined ? null : `${pg.num_pgs}${states ? ` (${states})` : ""}`,
    used_gb: gib(pg.bytes_used),
    total_gb: gib(pg.bytes_total),
    io: pg.read_bytes_sec === undefined && pg.write_bytes_sec === undefined
      ? null
      : `read ${Math.round(Number(pg.read_bytes_sec ?? 0) / 1024)} KiB/s, write ${
        Math.round(Number(pg.write_bytes_sec ?? 0) / 1024)
      } KiB/s`,
  };
  for (const k of Object.keys(out)) if (out[k] === null) delete out[k];
  return out;
}

/** `ceph_status`: Ceph health and capacity summary. */
export const cephStatus = defineTool({
  name: "ceph_status",
  title: "Ceph status",
  description: "Ceph health and checks, monitors, managers, OSDs up/in, PGs, capacity, I/O.",
  toolset: "ceph",
  annotations: READ,
  privileges: ["Sys.Audit"],
  input: z.object({}).strict(),
  output: InfoOut,
  async handler(_args, ctx) {
    const { data } = await ctx.pve.request<Obj>({ method: "GET", path: "/cluster/ceph/status", signal: ctx.signal });
    return { info: cephSummary(obj(data)) };
  },
  text: (o) => infoText(o),
});

const SdnVnet = z.string().regex(/^[a-z][a-z0-9]{0,7}$/, "must be a vnet id like vnet1");

/** `sdn_info`: SDN zones, vnets, or one vnet's subnets. */
export const sdnInfo = defineTool({
  name: "sdn_info",
  title: "SDN info",
  description: "view zones|vnets|subnets (needs vnet); pending: include changes not yet applied.",
  toolset: "sdn",
  annotations: READ,
  privileges: ["SDN.Audit"],
  input: z.object({
    view: z.enum(["zones", "vnets", "subnets"]).default("zones"),
    vnet: SdnVnet.optional(),
    pending: z.boolean().default(false),
  }).strict(),
  output: InfoOut,
  async handler(args, ctx) {
    const params = args.pending ? { pending: true } : {};
    const get = async (path: string) =>
      (await ctx.pve.request<Obj[]>({ method: "GET", path, params, signal: ctx.signal })).data;
    if (args.view === "zones") {
      const rows = await get("/cluster/sdn/zones");
      return {
        total: rows.length,
        ...table(rows, ["zone", "type", "state", "bridge", "tag", "mtu", "nodes", "ipam", "dhcp"]),
      };
    }
    if (args.view === "vnets") {
      const rows = await get("/cluster/sdn/vnets");
      return { total: rows.length, ...table(rows, ["vnet", "zone", "tag", "vlanaware", "state", "alias"]) };
    }
    if (!args.vnet) throw new TypeError("Cannot list subnets: pass vnet (list vnets with view vnets)");
    const rows = await get(`/cluster/sdn/vnets/${args.vnet}/subnets`);
    return { total: rows.length, ...table(rows, ["subnet", "cidr", "gateway", "snat", "dhcp-range", "state"]) };
  },
  text: (o) => infoText(o),
});

/** `cluster_info`: raw cluster/quorum status, join information, or replication jobs/status. */
export const clusterInfo = defineTool({
  name: "cluster_info",
  title: "Cluster info",
  description:
    "view status (nodes, quorum), join (addresses, fingerprints to add a node), replication (jobs; with node: last sync, errors).",
  toolset: "cluster",
  annotations: READ,
  privileges: ["Sys.Audit", "VM.Audit"],
  input: z.object({
    view: z.enum(["status", "join", "replication"]).default("status"),
    node: NodeName.optional(),
  }).strict(),
  output: InfoOut,
  async handler(args, ctx) {
    const get = async <T>(path: string, params?: Obj) =>
      (await ctx.pve.request<T>({ method: "GET", path, params: params as never, signal: ctx.signal })).data;
    if (args.view === "status") {
      const rows = await get<Obj[]>("/cluster/status");
      return {
        total: rows.length,
        ...table(rows, ["type", "name", "nodeid", "ip", "online", "local", "quorate", "nodes", "version", "level"]),
      };
    }
    if (args.view === "join") {
      const d = await get<Obj>("/cluster/config/join", args.node ? { node: args.node } : undefined);
      const totem = obj(d.totem);
      const nodes = (Array.isArray(d.nodelist) ? d.nodelist as Obj[] : []).map((n) =>
        `${cell(n.name)} id ${cell(n.nodeid)} ${cell(n.pve_addr)} fp ${cell(n.pve_fp)}`
      );
      const info: Obj = {
        preferred_node: d.preferred_node ?? null,
        cluster_name: totem.cluster_name ?? null,
        config_version: totem.config_version ?? null,
        link_mode: totem.link_mode ?? null,
        nodes,
      };
      return { info };
    }
    if (args.node) {
      const rows = await get<Obj[]>(`/nodes/${args.node}/replication`);
      return {
        total: rows.length,
        ...table(rows, ["id", "guest", "target", "last_sync", "duration", "next_sync", "fail_count", "error"]),
      };
    }
    const rows = await get<Obj[]>("/cluster/replication");
    return {
      total: rows.length,
      ...table(rows, ["id", "guest", "source", "target", "schedule", "rate", "disable", "comment"]),
    };
  },
  text: (o) => infoText(o),
});
