/**
 * Cluster-wide read tools: overview (status, quorum, version, counts).
 * @module
 */
import { z } from "zod";
import { defineTool } from "./registry.ts";
import type { VmResource } from "../pve/guests.ts";

const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

interface StatusRow {
  type: string;
  name?: string;
  id?: string;
  online?: number;
  ip?: string;
  quorate?: number;
  nodes?: number;
  version?: number;
  local?: number;
}

/** `cluster_overview`: quorum, nodes, PVE version and guest counts in one call. */
export const clusterOverview = defineTool({
  name: "cluster_overview",
  title: "Cluster overview",
  description: "Cluster name, quorum, nodes (online, ip), PVE version, and guest counts by type and status.",
  toolset: "cluster",
  annotations: READ,
  privileges: ["Sys.Audit"],
  input: z.object({}).strict(),
  output: z.object({
    cluster: z.string().nullable(),
    quorate: z.boolean().nullable(),
    version: z.string(),
    nodes: z.array(z.object({ name: z.string(), online: z.boolean(), ip: z.string().optional() })),
    guests: z.object({ qemu: z.number(), lxc: z.number(), running: z.number(), stopped: z.number() }),
  }),
  async handler(_args, ctx) {
    const [status, version, resources] = await Promise.all([
      ctx.pve.request<StatusRow[]>({ method: "GET", path: "/cluster/status", signal: ctx.signal }),
      ctx.pve.request<{ version: string; release?: string }>({ method: "GET", path: "/version", signal: ctx.signal }),
      ctx.pve.request<VmResource[]>({
        method: "GET",
        path: "/cluster/resources",
        params: { type: "vm" },
        signal: ctx.signal,
      }),
    ]);
    const clusterRow = status.data.find((r) => r.type === "cluster");
    const guests = { qemu: 0, lxc: 0, running: 0, stopped: 0 };
    for (const r of resources.data) {
      if (r.type === "qemu") guests.qemu++;
      if (r.type === "lxc") guests.lxc++;
      if (r.status === "running") guests.running++;
      if (r.status === "stopped") guests.stopped++;
    }
    return {
      cluster: clusterRow?.name ?? null,
      quorate: clusterRow?.quorate === undefined ? null : clusterRow.quorate === 1,
      version: version.data.version,
      nodes: status.data.filter((r) => r.type === "node").map((r) => ({
        name: r.name ?? "",
        online: r.online === 1,
        ...(r.ip ? { ip: r.ip } : {}),
      })),
      guests,
    };
  },
  text: (o) =>
    `cluster ${o.cluster ?? "(standalone)"}, quorate: ${o.quorate ?? "n/a"}, PVE ${o.version}\n` +
    `nodes: ${o.nodes.map((n) => `${n.name}${n.ip ? ` ${n.ip}` : ""}${n.online ? "" : " (offline)"}`).join(", ")}\n` +
    `guests: ${o.guests.qemu} VMs, ${o.guests.lxc} containers; ${o.guests.running} running, ${o.guests.stopped} stopped`,
});
