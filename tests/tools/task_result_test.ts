/**
 * startTask: progress while waiting, the maximum wait, and cancellation stopping the task the call started.
 * A fake PVE API (unit test only) and a fake clock: no sleeps.
 */
import { type ProgressUpdate } from "../../src/core/mod.ts";
import { cleanDeep, cleanText } from "../../src/guard/untrusted.ts";
import { deepStrictEqual, ok, rejects } from "node:assert/strict";
import { startTask, taskText } from "../../src/tools/task_result.ts";
import type { ToolContext } from "../../src/tools/registry.ts";
import { type PveApi, PveError, type PveRequest } from "../../src/pve/types.ts";

const UPID = "UPID:pve1:00001234:00005678:65000000:qmstart:150:root@pam:";

/** A cluster whose task runs for `runningPolls` status polls, then stops with `exitstatus`. */
function fakeApi(opts: { runningPolls: number; exitstatus?: string; failStop?: boolean }) {
  const calls: PveRequest[] = [];
  let polls = 0;
  const api: PveApi = {
    host: "fake:8006",
    request<T>(req: PveRequest) {
      calls.push(req);
      if (req.method === "POST") return Promise.resolve({ data: UPID as T });
      if (req.method === "DELETE") {
        return opts.failStop
          ? Promise.reject(new PveError("permission", "Permission check failed"))
          : Promise.resolve({ data: null as T });
      }
      if (req.path.endsWith("/status")) {
        polls++;
        const done = polls > opts.runningPolls;
        return Promise.resolve({
          data: (done ? { status: "stopped", exitstatus: opts.exitstatus ?? "OK" } : { status: "running" }) as T,
        });
      }
      if (req.path.endsWith("/log")) {
        return Promise.resolve({ data: [{ n: 1, t: "starting \u202Eguest" }] as T, total: 1 });
      }
      return Promise.reject(new PveError("invalid", `unexpected ${req.method} ${req.path}`));
    },
  };
  return { api, calls };
}

function ctxFor(api: PveApi, opts: { signal?: AbortSignal; maxWaitMs?: number; mode?: "read-only" } = {}) {
  const progress: ProgressUpdate[] = [];
  const noted: string[] = [];
  const ctx: ToolContext = {
    pve: api,
    pveWrite: api,
    cluster: "default",
    resolveGuest: () => Promise.reject(new Error("not used")),
    listGuests: () => Promise.reject(new Error("not used")),
    signal: opts.signal ?? new AbortController().signal,
    principal: { id: "t", transport: "stdio", ...(opts.mode ? { mode: opts.mode } : {}) },
    progress: (u) => (progress.push(u), Promise.resolve()),
    noteTask: (u) => noted.push(u),
    maxTaskWaitMs: opts.maxWaitMs ?? 60_000,
  };
  return { ctx, progress, noted };
}

/** A clock that advances by the requested sleep. */
function fakeClock(onSleep?: () => void) {
  let t = 0;
  return {
    now: () => t,
    sleep: (ms: number, signal?: AbortSignal) => {
      t += ms;
      onSleep?.();
      return signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve();
    },
  };
}

const START: PveRequest = { method: "POST", path: "/nodes/pve1/qemu/150/status/start" };

Deno.test("startTask: waits with progress and returns the cleaned outcome", async () => {
  const { api } = fakeApi({ runningPolls: 3 });
  const { ctx, progress, noted } = ctxFor(api);
  // The pipeline cleans results and progress messages (one cleaner); here the test does.
  const res = cleanDeep(await startTask(ctx, START, true, fakeClock()));
  deepStrictEqual(noted, [UPID]);
  deepStrictEqual(res.status, "stopped");
  deepStrictEqual(res.ok, true);
  deepStrictEqual(res.log_tail, { untrusted: true, lines: ["starting guest"] });
  deepStrictEqual(progress.length, 3);
  ok(progress[0]!.message.startsWith("qmstart 150 on pve1 running ("), progress[0]!.message);
  ok(cleanText(progress[0]!.message).endsWith(": starting guest"), "log tail in the progress message");
  ok(taskText("start 150", res).includes("done"));
});

Deno.test("startTask: without wait returns the UPID at once; a failed task is reported", async () => {
  const quick = fakeApi({ runningPolls: 0 });
  deepStrictEqual(await startTask(ctxFor(quick.api).ctx, START, false), { upid: UPID, status: "running" });
  deepStrictEqual(quick.calls.length, 1);
  const failed = fakeApi({ runningPolls: 0, exitstatus: "start failed: no disk" });
  const res = await startTask(ctxFor(failed.api).ctx, START, true, fakeClock());
  deepStrictEqual([res.ok, res.exitstatus], [false, "start failed: no disk"]);
  ok(taskText("start 150", res).includes("FAILED"));
});

Deno.test("startTask: the maximum wait returns a running task and leaves it alone", async () => {
  const { api, calls } = fakeApi({ runningPolls: 1_000 });
  const res = await startTask(ctxFor(api, { maxWaitMs: 10_000 }).ctx, START, true, fakeClock());
  deepStrictEqual(res.status, "running");
  deepStrictEqual(res.ok, undefined);
  deepStrictEqual(calls.filter((c) => c.method === "DELETE").length, 0);
});

Deno.test("startTask: client cancellation stops the task it started, with the write credential", async () => {
  const { api, calls } = fakeApi({ runningPolls: 1_000 });
  const abort = new AbortController();
  const { ctx } = ctxFor(api, { signal: abort.signal });
  const writes: PveRequest[] = [];
  ctx.pveWrite = { host: api.host, request: (r) => (writes.push(r), api.request(r)) };
  let sleeps = 0;
  await rejects(
    startTask(ctx, START, true, fakeClock(() => ++sleeps === 2 && abort.abort("client cancelled"))),
    (e: unknown) => e instanceof PveError && e.kind === "aborted" && e.message.includes("the task was stopped"),
  );
  const stop = writes.find((r) => r.method === "DELETE");
  ok(stop, "no stop request");
  deepStrictEqual(stop.path, `/nodes/pve1/tasks/${encodeURIComponent(UPID)}`);
  ok(stop.signal && !stop.signal.aborted, "the stop request used the cancelled signal");
  deepStrictEqual(calls.filter((c) => c.method === "DELETE").length, 1);
});

Deno.test("startTask: a read-only principal never stops tasks; a failed stop is reported", async () => {
  const ro = fakeApi({ runningPolls: 1_000 });
  const a1 = new AbortController();
  await rejects(
    startTask(ctxFor(ro.api, { signal: a1.signal, mode: "read-only" }).ctx, START, true, fakeClock(() => a1.abort())),
    (e: unknown) => e instanceof PveError && e.message.includes("may not stop tasks"),
  );
  deepStrictEqual(ro.calls.filter((c) => c.method === "DELETE").length, 0);
  const failing = fakeApi({ runningPolls: 1_000, failStop: true });
  const a2 = new AbortController();
  await rejects(
    startTask(ctxFor(failing.api, { signal: a2.signal }).ctx, START, true, fakeClock(() => a2.abort())),
    (e: unknown) => e instanceof PveError && e.message.includes("stopping the task failed"),
  );
});
