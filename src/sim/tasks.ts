/**
 * Simulated worker tasks: real UPIDs, `running` → `stopped` after a simulated duration on the simulator's clock,
 * logs ending in `TASK OK` / `TASK ERROR: ...`, effects applied when a task finishes, and stopping running tasks.
 * @module
 */

/** A task as the simulator keeps it. */
export interface SimTask {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  /** Epoch seconds. */
  starttime: number;
  type: string;
  id: string;
  /** Who started it: user or token id (`user@realm!token`). */
  user: string;
  startedAtMs: number;
  durationMs: number;
  endtime?: number;
  /** Set once stopped: `OK`, `WARNINGS: n` or the error text. */
  exitstatus?: string;
  log: string[];
  /** Runs when the task finishes successfully (changes guest state). */
  onSuccess?: () => void;
  /** Error the task will end with (decided at start, reported at the end). */
  failWith?: string;
}

/** What a handler passes to start a task. */
export interface StartTask {
  node: string;
  type: string;
  id?: string | number;
  user: string;
  /** Overrides the default duration. */
  durationMs?: number;
  log?: string[];
  onSuccess?: () => void;
  failWith?: string;
}

const HEX8 = (n: number) => (n >>> 0).toString(16).toUpperCase().padStart(8, "0");

/** Encodes a UPID exactly as PVE does (`UPID:node:pid:pstart:starttime:type:id:user:`). */
export function encodeUpid(t: Pick<SimTask, "node" | "pid" | "pstart" | "starttime" | "type" | "id" | "user">): string {
  return `UPID:${t.node}:${HEX8(t.pid)}:${HEX8(t.pstart)}:${HEX8(t.starttime)}:${t.type}:${t.id}:${t.user}:`;
}

const UPID_RE =
  /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

/** Parses a UPID (PVE's regex); undefined when it is not one. */
export function parseUpid(upid: string):
  | { node: string; pid: number; pstart: number; starttime: number; type: string; id: string; user: string }
  | undefined {
  const m = UPID_RE.exec(upid);
  if (!m) return undefined;
  return {
    node: m[1] as string,
    pid: parseInt(m[3] as string, 16),
    pstart: parseInt(m[4] as string, 16),
    starttime: parseInt(m[5] as string, 16),
    type: m[6] as string,
    id: m[7] as string,
    user: m[8] as string,
  };
}

/** Keeps every task of the simulated cluster. */
export class TaskManager {
  readonly #tasks = new Map<string, SimTask>();
  readonly #running: SimTask[] = [];
  #pid = 0x1000;
  readonly #now: () => number;
  readonly #defaultDurationMs: number;
  readonly #maxTasks: number;
  readonly #onChange: () => void;

  constructor(opts: { now: () => number; durationMs: number; maxTasks?: number; onChange?: () => void }) {
    this.#now = opts.now;
    this.#defaultDurationMs = opts.durationMs;
    this.#maxTasks = opts.maxTasks ?? 5000;
    this.#onChange = opts.onChange ?? (() => {});
  }

  /** Starts a task and returns it (status `running` until its duration has passed on the clock). */
  start(req: StartTask, pstart = 0x1a2b3c): SimTask {
    const nowMs = this.#now();
    const t: SimTask = {
      upid: "",
      node: req.node,
      pid: this.#pid++,
      pstart,
      starttime: Math.floor(nowMs / 1000),
      type: req.type,
      id: req.id === undefined ? "" : String(req.id),
      user: req.user,
      startedAtMs: nowMs,
      durationMs: req.durationMs ?? this.#defaultDurationMs,
      log: [...(req.log ?? [])],
    };
    if (req.onSuccess) t.onSuccess = req.onSuccess;
    if (req.failWith !== undefined) t.failWith = req.failWith;
    t.upid = encodeUpid(t);
    this.#tasks.set(t.upid, t);
    this.#running.push(t);
    this.#trim();
    this.tick();
    return t;
  }

  /** Adds an already finished task (history seeded at start). */
  addFinished(
    t: Omit<SimTask, "upid" | "startedAtMs" | "durationMs"> & { endtime: number; exitstatus: string },
  ): SimTask {
    const task: SimTask = {
      ...t,
      upid: "",
      startedAtMs: t.starttime * 1000,
      durationMs: (t.endtime - t.starttime) * 1000,
    };
    task.upid = encodeUpid(task);
    this.#tasks.set(task.upid, task);
    return task;
  }

  /** Finishes every task whose time has come (in start order), applying its effect. */
  tick(): void {
    if (this.#running.length === 0) return;
    const nowMs = this.#now();
    let changed = false;
    for (let i = 0; i < this.#running.length;) {
      const t = this.#running[i] as SimTask;
      if (nowMs >= t.startedAtMs + t.durationMs) {
        this.#running.splice(i, 1);
        this.#finish(t, Math.floor((t.startedAtMs + t.durationMs) / 1000));
        changed = true;
      } else i++;
    }
    if (changed) this.#onChange();
  }

  #finish(t: SimTask, endtime: number): void {
    t.endtime = Math.max(endtime, t.starttime);
    if (t.failWith !== undefined) {
      t.exitstatus = t.failWith;
      t.log.push(`TASK ERROR: ${t.failWith}`);
      return;
    }
    t.onSuccess?.();
    t.exitstatus = "OK";
    t.log.push("TASK OK");
  }

  /** Stops a running task (`DELETE /nodes/{node}/tasks/{upid}`); its effect is not applied. */
  stop(upid: string): boolean {
    const i = this.#running.findIndex((t) => t.upid === upid);
    if (i < 0) return false;
    const [t] = this.#running.splice(i, 1);
    if (!t) return false;
    delete t.onSuccess;
    t.failWith = "received interrupt";
    this.#finish(t, Math.floor(this.#now() / 1000));
    this.#onChange();
    return true;
  }

  /** A task by UPID. */
  get(upid: string): SimTask | undefined {
    return this.#tasks.get(upid);
  }

  /** True while the task runs. */
  isRunning(t: SimTask): boolean {
    return t.exitstatus === undefined;
  }

  /** Tasks of a node, newest first. */
  onNode(node: string): SimTask[] {
    const out: SimTask[] = [];
    for (const t of this.#tasks.values()) if (t.node === node) out.push(t);
    return out.sort((a, b) => b.starttime - a.starttime || b.pid - a.pid);
  }

  /** All tasks (cluster-wide), newest first. */
  all(): SimTask[] {
    return [...this.#tasks.values()].sort((a, b) => b.starttime - a.starttime || b.pid - a.pid);
  }

  /** Forgets the oldest finished tasks beyond the cap, so long runs do not grow memory. */
  #trim(): void {
    if (this.#tasks.size <= this.#maxTasks) return;
    for (const [upid, t] of this.#tasks) {
      if (this.#tasks.size <= this.#maxTasks) break;
      if (t.exitstatus !== undefined) this.#tasks.delete(upid);
    }
  }
}

/** Status text PVE classifies as an error (anything but OK / WARNINGS). */
export function isErrorStatus(exitstatus: string | undefined): boolean {
  return exitstatus !== undefined && exitstatus !== "OK" && !exitstatus.startsWith("WARNINGS");
}
