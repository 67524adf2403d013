/**
 * Node endpoints: the node list and a node's status.
 * @module
 */
import { nodeOf, type SimContext, type SimRoute } from "../router.ts";
import { nodeUptime } from "../views.ts";

function listNodes(ctx: SimContext): unknown[] {
  const nowS = Math.floor(ctx.sim.now() / 1000);
  const out: unknown[] = [];
  for (const n of ctx.sim.state.nodes.values()) {
    if (!n.online) {
      out.push({ node: n.name, status: "offline", level: "" });
      continue;
    }
    out.push({
      node: n.name,
      status: "online",
      cpu: n.cpu,
      maxcpu: n.maxcpu,
      mem: n.memUsed,
      maxmem: n.memTotal,
      uptime: nodeUptime(n, nowS),
      level: "",
      ssl_fingerprint: ctx.sim.fingerprint,
    });
  }
  return out;
}

function nodeStatus(ctx: SimContext): Record<string, unknown> {
  const n = nodeOf(ctx);
  const nowS = Math.floor(ctx.sim.now() / 1000);
  const swapTotal = 8 * 1024 ** 3;
  return {
    uptime: nodeUptime(n, nowS),
    cpu: n.cpu,
    wait: 0.0012,
    idle: 0,
    loadavg: n.loadavg,
    kversion: `Linux ${n.kernel} #1 SMP PREEMPT_DYNAMIC PMX ${n.kernel.replace(/-pve$/, "")} (2025-10-10T08:04Z)`,
    pveversion: `pve-manager/${ctx.sim.version.version}/${ctx.sim.version.repoid}`,
    "current-kernel": {
      sysname: "Linux",
      release: n.kernel,
      version: `#1 SMP PREEMPT_DYNAMIC PMX ${n.kernel.replace(/-pve$/, "")} (2025-10-10T08:04Z)`,
      machine: "x86_64",
    },
    "boot-info": { mode: "efi", secureboot: 0 },
    cpuinfo: { cores: n.maxcpu / n.sockets / 2, cpus: n.maxcpu, model: n.cpuModel, sockets: n.sockets },
    memory: {
      total: n.memTotal,
      used: n.memUsed,
      free: n.memTotal - n.memUsed,
      available: Math.round((n.memTotal - n.memUsed) * 0.95),
    },
    swap: { total: swapTotal, used: 0, free: swapTotal },
    rootfs: {
      total: n.rootfsTotal,
      used: n.rootfsUsed,
      free: n.rootfsTotal - n.rootfsUsed,
      avail: n.rootfsTotal - n.rootfsUsed,
    },
    ksm: { shared: 0 },
  };
}

/** Routes of this file. */
export const nodeRoutes: SimRoute[] = [
  { method: "GET", path: "/nodes", handler: listNodes },
  { method: "GET", path: "/nodes/{node}/status", handler: nodeStatus },
];
