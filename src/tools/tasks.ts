/**
 * Task tools: list recent tasks, a task's status or log, wait for a task (read); stop a running task (change).
 * @module
 */
import { effect } from "../core/mod.ts";
import { z } from "zod";
import { defineTool } from "./registry.ts";
import { NodeName, VmId } from "../guard/schemas.ts";
import { isUpid } from "../pve/upid.ts";
import { isTaskSuccess, waitForTask } from "../pve/tasks.ts";
import { InfoOut, infoText, need, READ, table } from "./infra_common.ts";

type Obj = Record<string, unknown>;

/** The node named inside a UPID (`UPID:<node>:...`). */
export function upidNode(upid: string): string {
  return upid.split(":")[1] ?? "";
}

/** The guest a task works on, when its UPID's id field is a vmid (e.g. `qmstart:105`). */
export function upidGuest(upid: string): number | undefined {
  const id = upid.split(":")[6] ?? "";
  return /^\d{3,9}$/.test(id) ? Number(id) : undefined;
}

/** A UPID argument; the full format is checked before use (a shorter schema keeps tools/list small). */
const UpidArg = z.string().regex(/^UPID:/).max(512);

function taskPath(upid: string): string {
  if (!isUpid(upid)) {
    throw new TypeError(
      `Invalid UPID "${String(upid).slice(0, 80)}": expected UPID:<node>:<pid>:<pstart>:<start>:<type>:<id>:<user>:`,
    );
  }
  return `/nodes/${upidNode(upid)}/tasks/${encodeURIComponent(upid)}`;
}

/** A task's exit status counts as success when it is `OK` or `WARNINGS: n`. */
function exitOk(exitstatus: unknown): boolean {
  return typeof exitstatus === "string" && isTaskSuccess(exitstatus);
}

/** `task_info`: recent tasks, one task's status or log, or wait for a task to finish. */
export const taskInfo = defineTool({
  name: "task_info",
  title: "Task info",
  description:
    "list recent tasks (node or cluster). status, log (untrusted), wait (until done or timeout, with progress) need upid.",
  toolset: "tasks",
  annotations: READ,
  privileges: ["Sys.Audit"],
  input: z.object({
    action: z.enum(["list", "status", "log", "wait"]).default("list"),
    upid: UpidArg.optional(),
    node: NodeName.optional(),
    vmid: VmId.optional(),
    errors: z.boolean().default(false),
    running: z.boolean().default(false),
    start: z.number().int().min(0).max(1_000_000).default(0).describe("log start"),
    limit: z.number().int().min(1).max(500).default(50),
    timeout: z.number().int().min(1).max(3600).default(60).describe("wait s"),
  }).strict(),
  output: InfoOut,
  textCaps: { "info.exitstatus": 500, "log.lines": 500 },
  async handler(args, ctx) {
    if (args.action === "list") {
      const path = args.node ? `/nodes/${args.node}/tasks` : "/cluster/tasks";
      const params = args.node
        ? {
          vmid: args.vmid,
          errors: args.errors || undefined,
          limit: args.limit,
          // PVE lists only finished tasks by default (`archive`); include running ones.
          source: args.running ? "active" : "all",
        }
        : {};
      const { data } = await ctx.pve.request<Obj[]>({ method: "GET", path, params, signal: ctx.signal });
      const failed = (t: Obj) => typeof t.status === "string" && !exitOk(t.status);
      const rows = data.filter((t) =>
        (args.vmid === undefined || t.id === String(args.vmid)) &&
        (!args.errors || failed(t)) &&
        (!args.running || t.status === undefined || t.status === "running")
      ).sort((a, b) => Number(b.starttime) - Number(a.starttime));
      return {
        total: rows.length,
        ...table(rows.slice(0, args.limit), ["upid", "type", "id", "user", "status", "starttime", "endtime"], {
          status: (t) => t.status ?? "running",
        }),
      };
    }
    const upid = args.upid ?? need("upid", `task_info action=${args.action}`);
    if (args.action === "status") {
      const { data } = await ctx.pve.request<Obj>({
        method: "GET",
        path: `${taskPath(upid)}/status`,
        signal: ctx.signal,
      });
      const info: Obj = {
        upid,
        type: data.type ?? null,
        id: data.id ?? null,
        user: data.user ?? null,
        status: data.status ?? null,
        starttime: data.starttime ?? null,
      };
      if (typeof data.exitstatus === "string") {
        info.exitstatus = data.exitstatus;
        info.ok = exitOk(data.exitstatus);
      }
      return { info };
    }
    if (args.action === "log") {
      const res = await ctx.pve.request<{ n: number; t: string }[]>({
        method: "GET",
        path: `${taskPath(upid)}/log`,
        params: { start: args.start, limit: args.limit },
        signal: ctx.signal,
      });
      return {
        total: res.total ?? res.data.length,
        log: { untrusted: true as const, lines: res.data.map((l) => l.t) },
      };
    }
    const timeoutMs = Math.min(args.timeout * 1000, ctx.maxTaskWaitMs);
    const res = await waitForTask(ctx.pve, upid, {
      signal: ctx.signal,
      timeoutMs,
      onProgress: (status, tail) =>
        ctx.progress({
          message: `${status.status}${tail.length ? `: ${(tail[tail.length - 1] ?? "").slice(0, 200)}` : ""}`,
        }),
    });
    const info: Obj = { upid, status: res.status };
    if (res.done) {
      info.exitstatus = res.exitstatus ?? "unknown";
      info.ok = res.ok;
    } else info.note = `still running after ${Math.round(res.elapsedMs / 1000)} s`;
    return {
      info,
      ...(res.logTail.length ? { log: { untrusted: true as const, lines: res.logTail } } : {}),
    };
  },
  text: (o) => infoText(o),
});

/** `task_stop`: stops a running task (DELETE /nodes/{node}/tasks/{upid}). */
export const taskStop = defineTool({
  name: "task_stop",
  title: "Stop task",
  description: "Stop a running task by UPID (e.g. a stuck backup). A finished task is left as is.",
  toolset: "tasks",
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  privileges: ["Sys.Modify"],
  input: z.object({ upid: UpidArg }).strict(),
  output: z.object({ upid: z.string(), stopped: z.boolean(), status: z.string(), exitstatus: z.string().optional() }),
  effect: (args) => {
    const vmid = upidGuest(args.upid);
    return vmid === undefined
      ? effect({ cls: "write", undetermined: "the task names no guest, so what stopping it affects cannot be told" })
      : effect({ cls: "write", guests: [{ vmid, role: "target" }] });
  },
  async handler({ upid }, ctx) {
    const { data } = await ctx.pve.request<Obj>({
      method: "GET",
      path: `${taskPath(upid)}/status`,
      signal: ctx.signal,
    });
    if (data.status !== "running") {
      return {
        upid,
        stopped: false,
        status: String(data.status ?? "unknown"),
        ...(typeof data.exitstatus === "string" ? { exitstatus: data.exitstatus } : {}),
      };
    }
    await ctx.pveWrite.request({ method: "DELETE", path: taskPath(upid), signal: ctx.signal });
    return { upid, stopped: true, status: "stopping" };
  },
  text: (o) =>
    o.stopped
      ? `Stop requested for task ${o.upid} (status ${o.status})`
      : `Task ${o.upid} is not running (${o.status}${o.exitstatus ? `: ${o.exitstatus}` : ""}); nothing stopped`,
});
