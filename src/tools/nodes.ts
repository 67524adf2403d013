/**
 * Node read tools.
 * @module
 */
import { z } from "zod";
import { defineTool } from "./registry.ts";
import { NodeName } from "../guard/schemas.ts";

const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

interface NodeRow {
  node: string;
  status: string;
  cpu?: number;
  maxcpu?: number;
  mem?: number;
  maxmem?: number;
  uptime?: number;
  ssl_fingerprint?: string;
}

/** `node_info`: all nodes (no argument) or one node's detailed status. */
export const nodeInfo = defineTool({
  name: "node_info",
  title: "List nodes or show one node's status",
  description: "Without node: every node with status, CPU %, memory. With node: that node's detailed status " +
    "(CPU model, load, memory, root disk, kernel, PVE version, uptime).",
  toolset: "nodes",
  annotations: READ,
  privileges: ["Sys.Audit"],
  input: z.object({ node: NodeName.optional() }).strict(),
  output: z.object({
    nodes: z.array(z.object({
      node: z.string(),
      status: z.string(),
      cpu_pct: z.number().nullable(),
      mem_used_mb: z.number().nullable(),
      mem_total_mb: z.number().nullable(),
      uptime: z.number().nullable(),
    })).optional(),
    status: z.record(z.string(), z.unknown()).optional(),
  }),
  async handler(args, ctx) {
    if (args.node === undefined) {
      const { data } = await ctx.pve.request<NodeRow[]>({ method: "GET", path: "/nodes", signal: ctx.signal });
      return {
        nodes: data.map((n) => ({
          node: n.node,
          status: n.status,
          cpu_pct: n.cpu === undefined ? null : Math.round(n.cpu * 1000) / 10,
          mem_used_mb: n.mem === undefined ? null : Math.round(n.mem / 1048576),
          mem_total_mb: n.maxmem === undefined ? null : Math.round(n.maxmem / 1048576),
          uptime: n.uptime ?? null,
        })).sort((a, b) => a.node.localeCompare(b.node)),
      };
    }
    const { data } = await ctx.pve.request<Record<string, unknown>>({
      method: "GET",
      path: `/nodes/${args.node}/status`,
      signal: ctx.signal,
    });
    return { status: data };
  },
  text: (o) =>
    o.nodes
      ? o.nodes.map((n) =>
        `${n.node}\t${n.status}\tcpu ${n.cpu_pct ?? "-"}%\tmem ${n.mem_used_mb ?? "-"}/${n.mem_total_mb ?? "-"} MiB`
      )
        .join("\n")
      : Object.entries(o.status ?? {}).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(
        "\n",
      ),
});
