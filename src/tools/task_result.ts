/**
 * Tools that start PVE tasks share one result shape and one way to start and (optionally) wait.
 * @module
 */
import { z } from "zod";
import type { PveRequest } from "../pve/types.ts";
import { waitForTask } from "../pve/tasks.ts";
import { cleanText } from "../guard/untrusted.ts";
import type { ToolContext } from "./registry.ts";

/** The result of a task-starting tool. */
export const TaskResult = z.object({
  upid: z.string(),
  status: z.enum(["running", "stopped"]),
  exitstatus: z.string().optional(),
  ok: z.boolean().optional(),
  log_tail: z.object({ untrusted: z.literal(true), lines: z.array(z.string()) }).optional(),
});
/** Type of {@linkcode TaskResult}. */
export type TaskResultT = z.infer<typeof TaskResult>;

/** The `wait` argument every task-starting tool takes. */
export const WaitArg = z.boolean().default(true).describe("Wait for the task to finish (progress is reported)");

/**
 * Sends a request that starts a PVE task (with the write credential), records its UPID, and waits for it when asked.
 * A wait that reaches the server's maximum returns with status `running`.
 */
export async function startTask(ctx: ToolContext, req: PveRequest, wait: boolean): Promise<TaskResultT> {
  const { data: upid } = await ctx.pveWrite.request<string>({ ...req, signal: ctx.signal });
  if (typeof upid !== "string" || !upid.startsWith("UPID:")) {
    // Some calls finish synchronously and return null.
    return { upid: String(upid ?? ""), status: "stopped", ok: true };
  }
  ctx.noteTask(upid);
  if (!wait) return { upid, status: "running" };
  const res = await waitForTask(ctx.pve, upid, {
    signal: ctx.signal,
    timeoutMs: ctx.maxTaskWaitMs,
    onProgress: (status, tail) =>
      ctx.progress({
        message: `${status.status}${tail.length ? `: ${cleanText(tail[tail.length - 1] ?? "", 200)}` : ""}`,
      }),
  });
  return {
    upid,
    status: res.done ? "stopped" : "running",
    ...(res.exitstatus !== undefined ? { exitstatus: cleanText(res.exitstatus, 500) } : {}),
    ...(res.done ? { ok: res.ok } : {}),
    ...(res.logTail.length ? { log_tail: { untrusted: true as const, lines: res.logTail.map((l) => cleanText(l, 500)) } } : {}),
  };
}

/** Short text for a task result. */
export function taskText(what: string, r: TaskResultT): string {
  if (r.status === "running") return `${what}: task ${r.upid} started (still running)`;
  return `${what}: ${r.ok ? "done" : "FAILED"} (${r.exitstatus ?? "no exit status"}), task ${r.upid}`;
}
