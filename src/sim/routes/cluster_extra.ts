/**
 * More cluster endpoints: HA status/resources/groups/rules, Ceph status, SDN zones/vnets/subnets, join information
 * and replication jobs with their per-node status.
 * @module
 */
import { bool, nodeOf, type SimContext, SimError, type SimRoute, str } from "../router.ts";
import { digestOf, infraOf } from "./infra_state.ts";

type Obj = Record<string, unknown>;
const TiB = 1024 ** 4;

function haStatus(ctx: SimContext): Obj[] {
  const { state } = ctx.sim;
  const infra = infraOf(state);
  const nodes = [...state.nodes.values()];
  const online = nodes.filter((n) => n.online);
  const master = online[0]?.name ?? "";
  const out: Obj[] = [
    {
      id: "quorum",
      type: "quorum",
      node: master,
      status: online.length * 2 > nodes.length ? "OK" : "No quorum on node",
      quorate: online.length * 2 > nodes.length ? 1 : 0,
    },
    {
      id: "master",
      type: "master",
      node: master,
      status: `${master} (active, ${new Date(ctx.sim.now()).toUTCString()})`,
    },
  ];
  for (const n of nodes) {
    out.push({
      id: `lrm:${n.name}`,
      type: "lrm",
      node: n.name,
      status: n.online ? (infra.haResources.size ? "active" : "idle") : "old timestamp - dead?",
    });
  }
  for (const [sid, r] of infra.haResources) {
    const g = state.guests.get(Number(sid.split(":")[1]));
    if (!g) continue;
    const st = g.status === "running" ? "started" : "stopped";
    out.push({
      id: `service:${sid}`,
      type: "service",
      sid,
      node: g.node,
      state: st,
      crm_state: st,
      request_state: r.state,
      status: `${st}`,
      max_restart: r.max_restart,
      max_relocate: r.max_relocate,
    });
  }
  return out;
}

function haResources(ctx: SimContext): Obj[] {
  const type = str(ctx, "type");
  const out: Obj[] = [];
  for (const r of infraOf(ctx.sim.state).haResources.values()) {
    if (type === undefined || r.type === type) out.push({ ...r, digest: digestOf(r) });
  }
  return out;
}

function haRules(ctx: SimContext): Obj[] {
  const type = str(ctx, "type");
  const resource = str(ctx, "resource");
  return infraOf(ctx.sim.state).haRules.filter((r) =>
    (type === undefined || r.type === type) &&
    (resource === undefined || String(r.resources).split(",").includes(resource))
  ).map((r) => ({ ...r, digest: digestOf(r), order: 0 }));
}

function cephStatus(ctx: SimContext): Obj {
  const nodes = [...ctx.sim.state.nodes.values()];
  const up = nodes.filter((n) => n.online);
  const osds = nodes.length * 2;
  const upOsds = up.length * 2;
  const degraded = upOsds < osds;
  const used = 1.8 * TiB * nodes.length / 3;
  return {
    fsid: "7d5b3c1a-3c2b-4f5e-9a8b-1c2d3e4f5a6b",
    health: {
      status: degraded ? "HEALTH_WARN" : "HEALTH_OK",
      checks: degraded
        ? {
          OSD_DOWN: {
            severity: "HEALTH_WARN",
            summary: { message: `${osds - upOsds} osds down`, count: osds - upOsds },
            muted: false,
          },
          PG_DEGRADED: {
            severity: "HEALTH_WARN",
            summary: { message: "Degraded data redundancy: 1024/6144 objects degraded", count: 1 },
            muted: false,
          },
        }
        : {},
      mutes: [],
    },
    election_epoch: 42,
    quorum: up.map((_, i) => i),
    quorum_names: up.map((n) => n.name),
    monmap: { epoch: 3, num_mons: nodes.length },
    osdmap: { epoch: 311, num_osds: osds, num_up_osds: upOsds, num_in_osds: osds, num_remapped_pgs: 0 },
    pgmap: {
      pgs_by_state: [{ state_name: degraded ? "active+undersized+degraded" : "active+clean", count: 129 }],
      num_pgs: 129,
      num_pools: 2,
      num_objects: 6144,
      data_bytes: Math.round(used / 3),
      bytes_used: Math.round(used),
      bytes_avail: Math.round(6 * TiB * nodes.length / 3 - used),
      bytes_total: Math.round(6 * TiB * nodes.length / 3),
      read_bytes_sec: 1_250_000,
      write_bytes_sec: 3_400_000,
      read_op_per_sec: 120,
      write_op_per_sec: 340,
    },
    mgrmap: { available: true, num_standbys: Math.max(0, up.length - 1), modules: ["iostat", "nfs", "restful"] },
    servicemap: { epoch: 1, modified: "2026-01-01T00:00:00.000000+0000", services: {} },
  };
}

function sdnList(pick: (i: ReturnType<typeof infraOf>) => Obj[], key: string, typeFilter = false) {
  return (ctx: SimContext): Obj[] => {
    const type = typeFilter ? str(ctx, "type") : undefined;
    const pending = bool(ctx, "pending") ?? false;
    return pick(infraOf(ctx.sim.state)).filter((z) => type === undefined || z.type === type).map((z) => ({
      ...z,
      digest: digestOf(z),
      ...(pending ? { pending: {} } : {}),
      [key]: z[key],
    }));
  };
}

function subnets(ctx: SimContext): Obj[] {
  const vnet = str(ctx, "vnet") ?? "";
  const infra = infraOf(ctx.sim.state);
  if (!infra.sdnVnets.some((v) => v.vnet === vnet)) throw new SimError(500, `sdn vnet '${vnet}' does not exist`);
  return infra.sdnSubnets.filter((s) => s.vnet === vnet).map((s) => ({ ...s, digest: digestOf(s) }));
}

function joinInfo(ctx: SimContext): Obj {
  const { state } = ctx.sim;
  const wanted = str(ctx, "node");
  if (wanted !== undefined) nodeOf(ctx);
  const nodes = [...state.nodes.values()];
  const preferred = wanted ?? nodes.find((n) => n.online)?.name ?? "";
  return {
    config_digest: digestOf(nodes.map((n) => [n.name, n.nodeid, n.ip])),
    preferred_node: preferred,
    nodelist: nodes.map((n) => ({
      name: n.name,
      nodeid: n.nodeid,
      pve_addr: n.ip,
      pve_fp: ctx.sim.fingerprint,
      quorum_votes: 1,
      ring0_addr: n.ip,
    })),
    totem: {
      cluster_name: state.clusterName,
      config_version: nodes.length + 2,
      interface: { "0": { linknumber: "0" } },
      ip_version: "ipv4-6",
      link_mode: "passive",
      secauth: "on",
      version: "2",
    },
  };
}

function replicationJobs(ctx: SimContext): Obj[] {
  return infraOf(ctx.sim.state).replication.filter((j) => ctx.sim.state.guests.has(Number(j.guest))).map((j) => ({
    ...j,
  }));
}

function nodeReplication(ctx: SimContext): Obj[] {
  const n = nodeOf(ctx);
  const guest = str(ctx, "guest");
  const nowS = Math.floor(ctx.sim.now() / 1000);
  const out: Obj[] = [];
  for (const j of replicationJobs(ctx)) {
    const g = ctx.sim.state.guests.get(Number(j.guest));
    if (!g || g.node !== n.name || (guest !== undefined && String(j.guest) !== guest)) continue;
    const targetUp = ctx.sim.state.nodes.get(String(j.target))?.online ?? false;
    out.push({
      ...j,
      source: n.name,
      last_sync: nowS - 600,
      last_try: nowS - 300,
      next_sync: nowS + 600,
      duration: 3.4,
      fail_count: targetUp ? 0 : 3,
      ...(targetUp ? {} : { error: `no tunnel IP received for node '${j.target}'` }),
      vmtype: g.type,
    });
  }
  return out;
}

/** Routes of this file. */
export const clusterExtraRoutes: SimRoute[] = [
  { method: "GET", path: "/cluster/ha/status/current", handler: haStatus },
  { method: "GET", path: "/cluster/ha/resources", handler: haResources },
  { method: "GET", path: "/cluster/ha/groups", handler: () => [] },
  { method: "GET", path: "/cluster/ha/rules", handler: haRules },
  { method: "GET", path: "/cluster/ceph/status", handler: cephStatus },
  { method: "GET", path: "/cluster/sdn/zones", handler: sdnList((i) => i.sdnZones, "zone", true) },
  { method: "GET", path: "/cluster/sdn/vnets", handler: sdnList((i) => i.sdnVnets, "vnet") },
  { method: "GET", path: "/cluster/sdn/vnets/{vnet}/subnets", handler: subnets },
  { method: "GET", path: "/cluster/config/join", handler: joinInfo },
  { method: "GET", path: "/cluster/replication", handler: replicationJobs },
  { method: "GET", path: "/nodes/{node}/replication", handler: nodeReplication },
];
