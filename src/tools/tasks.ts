/**
 * Task read tools: recent tasks, one task's status, its log.
 * @module
 */
import { z } from "zod";
import { defineTool } from "./registry.ts";
import { NodeName, Upid, VmId } from "../guard/schemas.ts";
import { cleanText } from "../guard/untrusted.ts";

const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

interface TaskRow {
  upid: string;
  node: string;
  type: string;
  id?: string;
  user: string;
  status?: string;
  starttime: number;
  endtime?: number;
}

/** The node named inside a UPID (`UPID:<node>:...`). */
export function upidNode(upid: string): string {
  return upid.split(":")[1] ?? "";
}

/** `task_info`: list recent tasks, or show one task's status or log. */
export const taskInfo = defineTool({
  name: "task_info",
  title: "List tasks, or show a task's status or log",
  description: "action=list: recent tasks (of one node, or cluster-wide), filter by vmid or errors only. " +
    "action=status: state and exit status of a task by UPID. action=log: log lines of a task (untrusted text).",
  toolset: "tasks",
  annotations: READ,
  privileges: ["Sys.Audit"],
  input: z.object({
    action: z.enum(["list", "status", "log"]).default("list"),
    upid: Upid.optional(),
    node: NodeName.optional(),
    vmid: VmId.optional(),
    errors: z.boolean().default(false).describe("list: only failed tasks"),
    start: z.number().int().min(0).max(1_000_000).default(0).describe("log: first line"),
    limit: z.number().int().min(1).max(500).default(50),
  }).strict(),
  output: z.object({
    tasks: z.array(z.object({
      upid: z.string(),
      node: z.string(),
      type: z.string(),
      id: z.string(),
      user: z.string(),
      status: z.string(),
      start: z.number(),
      end: z.number().optional(),
    })).optional(),
    task: z.record(z.string(), z.unknown()).optional(),
    log: z.object({ untrusted: z.literal(true), lines: z.array(z.string()), total: z.number() }).optional(),
  }),
  async handler(args, ctx) {
    if (args.action === "list") {
      const path = args.node ? `/nodes/${args.node}/tasks` : "/cluster/tasks";
      const params = args.node ? { vmid: args.vmid, errors: args.errors || undefined, limit: args.limit } : {};
      const { data } = await ctx.pve.request<TaskRow[]>({ method: "GET", path, params, signal: ctx.signal });
      const rows = data.filter((t) =>
        args.node !== undefined ||
        ((args.vmid === undefined || t.id === String(args.vmid)) &&
          (!args.errors || (t.status !== undefined && t.status !== "OK" && !t.status.startsWith("WARNINGS"))))
      ).slice(0, args.limit);
      return {
        tasks: rows.map((t) => ({
          upid: t.upid,
          node: t.node,
          type: t.type,
          id: t.id ?? "",
          user: t.user,
          status: t.status === undefined ? "running" : cleanText(t.status, 200),
          start: t.starttime,
          ...(t.endtime !== undefined ? { end: t.endtime } : {}),
        })),
      };
    }
    if (args.upid === undefined) throw new TypeError(`Cannot show the task ${args.action}: pass upid`);
    const node = upidNode(args.upid);
    const base = `/nodes/${node}/tasks/${encodeURIComponent(args.upid)}`;
    if (args.action === "status") {
      const { data } = await ctx.pve.request<Record<string, unknown>>({
        method: "GET",
        path: `${base}/status`,
        signal: ctx.signal,
      });
      if (typeof data.exitstatus === "string") data.exitstatus = cleanText(data.exitstatus, 500);
      return { task: data };
    }
    const res = await ctx.pve.request<{ n: number; t: string }[]>({
      method: "GET",
      path: `${base}/log`,
      params: { start: args.start, limit: args.limit },
      signal: ctx.signal,
    });
    return {
      log: {
        untrusted: true as const,
        lines: res.data.map((l) => cleanText(l.t, 500)),
        total: res.total ?? res.data.length,
      },
    };
  },
  text: (o) => {
    if (o.tasks) return o.tasks.map((t) => `${t.upid}\t${t.type}\t${t.id}\t${t.status}`).join("\n") || "no tasks";
    if (o.task) return Object.entries(o.task).map(([k, v]) => `${k}: ${v}`).join("\n");
    return `task log (untrusted text, ${o.log?.lines.length} of ${o.log?.total} lines):\n${o.log?.lines.join("\n")}`;
  },
});
