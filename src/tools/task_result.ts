/**
 * Tools that start PVE tasks share one result shape and one way to start and (optionally) wait: progress
 * notifications while waiting, a maximum wait, and on client cancellation the task this call started is stopped.
 * @module
 */
import { z } from "zod";
import { log } from "../log.ts";
import { pvePath } from "../pve/encode.ts";
import { PveError, type PveRequest } from "../pve/types.ts";
import { type TaskStatus, waitForTask } from "../pve/tasks.ts";
import { parseUpid } from "../pve/upid.ts";
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
export const WaitArg = z.boolean().default(true).describe("Wait for the task to end");

/** How long stopping a task on cancellation may take. */
const STOP_TIMEOUT_MS = 15_000;

/** `qmstart 105` from a UPID, for messages. */
function taskLabel(upid: string): string {
  try {
    const u = parseUpid(upid);
    return `${u.type}${u.id ? ` ${u.id}` : ""} on ${u.node}`;
  } catch {
    return upid;
  }
}

/**
 * Stops a PVE task (`DELETE /nodes/{node}/tasks/{upid}`) with the write credential. Used when the client cancels a
 * call that started the task. Returns whether PVE accepted the stop.
 */
export async function stopTask(ctx: Pick<ToolContext, "pveWrite">, upid: string): Promise<boolean> {
  const { node } = parseUpid(upid);
  try {
    await ctx.pveWrite.request({
      method: "DELETE",
      path: pvePath("nodes", node, "tasks", upid),
      signal: AbortSignal.timeout(STOP_TIMEOUT_MS),
    });
    return true;
  } catch (e) {
    log("tasks").warn("Stopping task {upid} after cancellation failed: {error}", { upid, error: String(e) });
    return false;
  }
}

/**
 * Sends a request that starts a PVE task (with the write credential), records its UPID, and waits for it when asked.
 * While waiting it reports progress (status, elapsed time, last log line). A wait that reaches the server's maximum
 * returns with status `running`. When the client cancels the call during the wait, the task is stopped (the call
 * that started it was a change, so the session's mode is at least operator; a principal capped at read-only is
 * never allowed to stop it) and the cancellation is reported as an `aborted` error that names what happened.
 * `clock` replaces the time source and the poll sleep (tests).
 */
export async function startTask(
  ctx: ToolContext,
  req: PveRequest,
  wait: boolean,
  clock: { now?: () => number; sleep?: (ms: number, signal?: AbortSignal) => Promise<void> } = {},
): Promise<TaskResultT> {
  const now = clock.now ?? Date.now;
  const { data: upid } = await ctx.pveWrite.request<string>({ ...req, signal: ctx.signal });
  if (typeof upid !== "string" || !upid.startsWith("UPID:")) {
    // Some calls finish synchronously and return null.
    return { upid: String(upid ?? ""), status: "stopped", ok: true };
  }
  ctx.noteTask(upid);
  if (!wait) return { upid, status: "running" };
  const label = taskLabel(upid);
  const started = now();
  let res;
  try {
    res = await waitForTask(ctx.pve, upid, {
      signal: ctx.signal,
      timeoutMs: ctx.maxTaskWaitMs,
      now,
      ...(clock.sleep ? { sleep: clock.sleep } : {}),
      onProgress: (status: TaskStatus, tail: string[]) => {
        const last = tail.length ? `: ${(tail[tail.length - 1] ?? "").slice(0, 200)}` : "";
        const secs = Math.round((now() - started) / 1000);
        return ctx.progress({
          message: `${label} ${String(status.status ?? "running").slice(0, 40)} (${secs} s)${last}`,
        });
      },
    });
  } catch (e) {
    if (!ctx.signal.aborted) throw e;
    const allowed = ctx.principal.mode !== "read-only";
    const stopped = allowed && await stopTask(ctx, upid);
    const what = stopped
      ? "the task was stopped"
      : allowed
      ? "stopping the task failed; it may still be running"
      : "the task continues (this caller may not stop tasks)";
    log("tasks").info("Client cancelled the wait for {upid}: {what}", { upid, what });
    throw new PveError("aborted", `Cancelled while waiting for ${label}: ${what} (${upid})`, { cause: e });
  }
  return {
    upid,
    status: res.done ? "stopped" : "running",
    ...(res.exitstatus !== undefined ? { exitstatus: res.exitstatus } : {}),
    ...(res.done ? { ok: res.ok } : {}),
    ...(res.logTail.length ? { log_tail: { untrusted: true as const, lines: res.logTail } } : {}),
  };
}

/** Short text for a task result. */
export function taskText(what: string, r: TaskResultT): string {
  if (r.status === "running") return `${what}: task ${r.upid} started (status running)`;
  const head = `${what}: ${r.ok ? "done" : "FAILED"} (${r.exitstatus ?? "no exit status"}), task ${r.upid} stopped`;
  return r.log_tail?.lines.length ? `${head}\nlog tail (untrusted text):\n${r.log_tail.lines.join("\n")}` : head;
}
