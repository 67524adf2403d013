/**
 * Waiting for PVE worker tasks: poll `GET /nodes/{node}/tasks/{upid}/status` (node taken from the UPID) with backoff
 * until `stopped`, then read the last log lines. Time comes from an injectable clock and sleep so tests need no waits.
 * @module
 */
import { pvePath } from "./encode.ts";
import { cleanLine } from "./errors.ts";
import { type PveApi, PveError } from "./types.ts";
import { parseUpid, type Upid } from "./upid.ts";
import { abortableSleep } from "./sleep.ts";

/** `GET /nodes/{node}/tasks/{upid}/status` data (fields PVE may omit are optional). */
export interface TaskStatus {
  upid?: string;
  node?: string;
  status: "running" | "stopped" | string;
  /** When stopped: `OK`, `WARNINGS: <n>`, `unexpected status`, or the error text. Untrusted text. */
  exitstatus?: string;
  type?: string;
  id?: string;
  user?: string;
  tokenid?: string;
  starttime?: number;
  pid?: number;
  pstart?: number;
}

/** Options of {@linkcode waitForTask}. */
export interface WaitForTaskOptions {
  /** Stops waiting (the task keeps running on PVE); the wait then throws a PveError of kind `aborted`. */
  signal?: AbortSignal;
  /** Give up waiting after this long and return with `done: false`; default 120 000 ms. */
  timeoutMs?: number;
  /** Called after each poll that finds the task still running, with the last log lines (untrusted text). */
  onProgress?: (status: TaskStatus, logTail: string[]) => void | Promise<void>;
  /** Clock in ms; default `Date.now`. */
  now?: () => number;
  /** Wait function; default a timer that rejects when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Poll interval: starts at `initial` (300 ms), grows by `factor` (1.5) up to `max` (5 000 ms). */
  pollMs?: { initial?: number; max?: number; factor?: number };
  /** How many log lines to return (and pass to onProgress); default 20, 0 for none. */
  logLines?: number;
}

/** How the wait ended. Log lines and `exitstatus` are untrusted text from the cluster: sanitise before display. */
export interface TaskOutcome {
  upid: string;
  node: string;
  type: string;
  id: string;
  /** `stopped`, or `running` when the wait timed out. */
  status: string;
  /** Whether the task has finished. */
  done: boolean;
  /** Finished with `OK` or `WARNINGS: n`. */
  ok: boolean;
  /** Stopped waiting at `timeoutMs` while the task was still running. */
  timedOut: boolean;
  exitstatus?: string;
  /** Last log lines (`TASK OK` / `TASK ERROR: …` last when finished). */
  logTail: string[];
  /** Number of log lines PVE reports. */
  logTotal: number;
  elapsedMs: number;
  /** One sentence in std style, e.g. `Task qmstart 100 on pve1 failed: start failed: …`. */
  message: string;
}

/** Whether a task exit status counts as success: `OK` or `WARNINGS: <n>` (like pve-common's `status_is_error`). */
export function isTaskSuccess(exitstatus: string | undefined): boolean {
  return exitstatus === "OK" || (exitstatus !== undefined && /^WARNINGS: \d+$/.test(exitstatus));
}

function parse(upid: string): Upid {
  try {
    return parseUpid(upid);
  } catch (e) {
    throw new PveError("invalid", (e as Error).message);
  }
}

/**
 * Reads the last `lines` log lines of a task: one request when the log is short (or `knownTotal` is given),
 * two when it is longer.
 */
export async function readTaskLogTail(
  api: PveApi,
  upid: string,
  lines: number,
  opts: { signal?: AbortSignal; knownTotal?: number } = {},
): Promise<{ lines: string[]; total: number }> {
  if (lines <= 0) return { lines: [], total: opts.knownTotal ?? 0 };
  const { node } = parse(upid);
  const path = pvePath("nodes", node, "tasks", upid, "log");
  const get = (start: number) =>
    api.request<{ n?: number; t?: unknown }[]>({
      method: "GET",
      path,
      params: { start, limit: lines },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  let res = await get(Math.max(0, (opts.knownTotal ?? 0) - lines));
  let total = res.total ?? res.data.length;
  if (total > lines && res.data.length > 0 && (res.data[0]?.n ?? 1) <= total - lines) {
    res = await get(total - lines);
    total = res.total ?? total;
  }
  const rows = Array.isArray(res.data) ? res.data : [];
  return { lines: rows.slice(-lines).map((r) => String(r.t ?? "")), total };
}

/** `task qmstart 100 on pve1` */
function describe(u: Upid): string {
  return `task ${u.type}${u.id ? " " + u.id : ""} on ${u.node}`;
}

/**
 * Polls a task until it stops or `timeoutMs` passes. Returns the outcome (also when the task failed or is still
 * running); throws {@linkcode PveError} when the UPID is malformed, polling fails, or the signal aborts.
 */
export async function waitForTask(api: PveApi, upid: string, opts: WaitForTaskOptions = {}): Promise<TaskOutcome> {
  const u = parse(upid);
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? abortableSleep;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const initial = opts.pollMs?.initial ?? 300;
  const maxPoll = opts.pollMs?.max ?? 5_000;
  const factor = opts.pollMs?.factor ?? 1.5;
  const logLines = opts.logLines ?? 20;
  const signal = opts.signal;
  const statusPath = pvePath("nodes", u.node, "tasks", upid, "status");
  const started = now();
  let delay = initial;
  let knownTotal: number | undefined;

  const aborted = (reason?: unknown): PveError =>
    new PveError(
      "aborted",
      `Stopped waiting for ${describe(u)}: cancelled; the task continues on PVE (${upid})`,
      { ...(reason !== undefined ? { cause: reason } : {}) },
    );
  const tail = async (): Promise<{ lines: string[]; total: number }> => {
    try {
      const r = await readTaskLogTail(api, upid, logLines, {
        ...(signal ? { signal } : {}),
        ...(knownTotal !== undefined ? { knownTotal } : {}),
      });
      knownTotal = r.total;
      return r;
    } catch (e) {
      if (signal?.aborted || (e instanceof PveError && e.kind === "aborted")) throw aborted(e);
      return { lines: [], total: knownTotal ?? 0 }; // the log is a bonus; the status decides
    }
  };

  for (;;) {
    if (signal?.aborted) throw aborted(signal.reason);
    let status: TaskStatus;
    try {
      status = (await api.request<TaskStatus>({ method: "GET", path: statusPath, ...(signal ? { signal } : {}) })).data;
    } catch (e) {
      if (signal?.aborted || (e instanceof PveError && e.kind === "aborted")) throw aborted(e);
      throw e;
    }
    const elapsedMs = now() - started;
    if (status?.status === "stopped") {
      const log = await tail();
      const exitstatus = typeof status.exitstatus === "string" ? status.exitstatus : "unknown";
      const ok = isTaskSuccess(exitstatus);
      return {
        upid,
        node: u.node,
        type: u.type,
        id: u.id,
        status: "stopped",
        done: true,
        ok,
        timedOut: false,
        exitstatus,
        logTail: log.lines,
        logTotal: log.total,
        elapsedMs,
        message: `T${describe(u).slice(1)} ${ok ? "finished" : "failed"}: ${cleanLine(exitstatus, 300)}`,
      };
    }
    const timedOut = elapsedMs >= timeoutMs;
    if (opts.onProgress || timedOut) {
      const log = await tail();
      if (timedOut) {
        return {
          upid,
          node: u.node,
          type: u.type,
          id: u.id,
          status: typeof status?.status === "string" ? status.status : "running",
          done: false,
          ok: false,
          timedOut: true,
          logTail: log.lines,
          logTotal: log.total,
          elapsedMs,
          message:
            `T${describe(u).slice(1)} is still running after ${Math.round(elapsedMs / 1000)} s; it continues in the ` +
            `background: check it later by its UPID ${upid}`,
        };
      }
      await opts.onProgress?.(status, log.lines);
    }
    try {
      await sleep(Math.max(0, Math.min(delay, timeoutMs - elapsedMs)), signal);
    } catch (e) {
      throw aborted(e);
    }
    delay = Math.min(maxPoll, delay * factor);
  }
}
