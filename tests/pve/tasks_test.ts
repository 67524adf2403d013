import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { isTaskSuccess, readTaskLogTail, type TaskStatus, waitForTask } from "../../src/pve/tasks.ts";
import { type PveApi, PveError, type PveRequest, type PveResult } from "../../src/pve/types.ts";
import { caught } from "./fake_pve.ts";

const UPID = "UPID:pve2:0000ABCD:00112233:65000000:qmstart:100:monitor@pve!mcp:";
const ENC = encodeURIComponent(UPID);

/** A test double of the PVE API for one task: a script of statuses and a log. */
function fakeTaskApi(statuses: TaskStatus[], log: string[]) {
  const requests: PveRequest[] = [];
  let i = 0;
  const api: PveApi = {
    host: "fake:8006",
    request<T>(req: PveRequest): Promise<PveResult<T>> {
      requests.push(req);
      if (req.signal?.aborted) return Promise.reject(new PveError("aborted", "cancelled"));
      if (req.path === `/nodes/pve2/tasks/${ENC}/status`) {
        const s = statuses[Math.min(i++, statuses.length - 1)]!;
        return Promise.resolve({ data: s as T });
      }
      if (req.path === `/nodes/pve2/tasks/${ENC}/log`) {
        const start = Number(req.params?.start ?? 0);
        const limit = Number(req.params?.limit ?? 50);
        const rows = log.slice(start, start + limit).map((t, k) => ({ n: start + k + 1, t }));
        return Promise.resolve({ data: rows as T, total: log.length });
      }
      return Promise.reject(new PveError("not_implemented", `unexpected ${req.method} ${req.path}`));
    },
  };
  return { api, requests };
}

function fakeTime() {
  let t = 0;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleeps,
    sleep: (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) return Promise.reject(signal.reason);
      sleeps.push(ms);
      t += ms;
      return Promise.resolve();
    },
  };
}

const running: TaskStatus = { status: "running", upid: UPID, node: "pve2" };

Deno.test("waitForTask polls the UPID's node with backoff until stopped and returns the log tail", async () => {
  const log = Array.from({ length: 30 }, (_, k) => `line ${k + 1}`).concat(["TASK OK"]);
  const { api, requests } = fakeTaskApi([running, running, running, { status: "stopped", exitstatus: "OK" }], log);
  const time = fakeTime();
  const out = await waitForTask(api, UPID, { ...time, logLines: 5 });
  assertEquals(out.done, true);
  assertEquals(out.ok, true);
  assertEquals(out.timedOut, false);
  assertEquals([out.status, out.exitstatus, out.node, out.type, out.id], ["stopped", "OK", "pve2", "qmstart", "100"]);
  assertEquals(out.logTail, ["line 27", "line 28", "line 29", "line 30", "TASK OK"]);
  assertEquals(out.logTotal, 31);
  assertEquals(time.sleeps, [300, 450, 675]);
  assertEquals(out.elapsedMs, 1425);
  assertEquals(out.message, "Task qmstart 100 on pve2 finished: OK");
  assert(requests.every((r) => r.method === "GET"));
  assertEquals(requests.filter((r) => r.path.endsWith("/status")).length, 4);
  // Long log: first page tells the total, the second fetches the tail.
  assertEquals(requests.filter((r) => r.path.endsWith("/log")).map((r) => r.params?.start), [0, 26]);
});

Deno.test("waitForTask: WARNINGS counts as success, an error text as failure", async () => {
  for (
    const [exitstatus, ok] of [["WARNINGS: 2", true], ["start failed: QEMU exited with code 1", false], [
      "unexpected status",
      false,
    ]] as const
  ) {
    const { api } = fakeTaskApi([{ status: "stopped", exitstatus }], ["TASK ERROR: boom"]);
    const out = await waitForTask(api, UPID, fakeTime());
    assertEquals([out.ok, out.exitstatus, out.done], [ok, exitstatus, true], exitstatus);
    assert(out.message.includes(ok ? "finished" : "failed"), out.message);
    assert(out.message.includes(exitstatus), out.message);
  }
  assertEquals([
    isTaskSuccess("OK"),
    isTaskSuccess("WARNINGS: 12"),
    isTaskSuccess("WARNINGS: x"),
    isTaskSuccess(undefined),
  ], [
    true,
    true,
    false,
    false,
  ]);
});

Deno.test("waitForTask: timeout returns with the task still running (not an exception)", async () => {
  const { api, requests } = fakeTaskApi([running], ["starting", "still going"]);
  const time = fakeTime();
  const out = await waitForTask(api, UPID, { ...time, timeoutMs: 2000, pollMs: { initial: 500, factor: 2, max: 800 } });
  assertEquals([out.done, out.ok, out.timedOut, out.status], [false, false, true, "running"]);
  assertEquals(out.exitstatus, undefined);
  assertEquals(out.logTail, ["starting", "still going"]);
  assertEquals(time.sleeps, [500, 800, 700]); // the last sleep is cut to the deadline
  assertEquals(out.elapsedMs, 2000);
  assert(out.message.includes("still running after 2 s") && out.message.includes(UPID), out.message);
  assertEquals(requests.filter((r) => r.path.endsWith("/status")).length, 4);
});

Deno.test("waitForTask: onProgress sees each running poll with the log tail", async () => {
  const { api } = fakeTaskApi([running, running, { status: "stopped", exitstatus: "OK" }], ["a", "b", "TASK OK"]);
  const seen: [string, string[]][] = [];
  await waitForTask(api, UPID, {
    ...fakeTime(),
    logLines: 2,
    onProgress: (s, tail) => {
      seen.push([s.status, tail]);
    },
  });
  assertEquals(seen, [["running", ["b", "TASK OK"]], ["running", ["b", "TASK OK"]]]);
});

Deno.test("waitForTask: the signal stops the wait (the task keeps running on PVE)", async () => {
  const { api } = fakeTaskApi([running], []);
  const ac = new AbortController();
  let polls = 0;
  const e = await caught(waitForTask(api, UPID, {
    signal: ac.signal,
    now: () => 0,
    sleep: (_ms, signal) => {
      if (++polls === 2) ac.abort();
      return signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve();
    },
  }));
  assertEquals(e.kind, "aborted");
  assert(e.message.includes("continues on PVE") && e.message.includes(UPID), e.message);
  const pre = await caught(waitForTask(api, UPID, { signal: AbortSignal.abort(), ...fakeTime() }));
  assertEquals(pre.kind, "aborted");
});

Deno.test("waitForTask: a malformed UPID is refused before any request; polling errors propagate", async () => {
  const { api, requests } = fakeTaskApi([running], []);
  const e = await caught(waitForTask(api, "UPID:../../access:x", fakeTime()));
  assertEquals(e.kind, "invalid");
  assertEquals(requests.length, 0);
  const failing: PveApi = {
    host: "x",
    request: () => Promise.reject(new PveError("permission", "Permission denied for GET …")),
  };
  assertEquals((await caught(waitForTask(failing, UPID, fakeTime()))).kind, "permission");
});

Deno.test("waitForTask: a failing log read does not hide the result", async () => {
  const api: PveApi = {
    host: "x",
    request<T>(req: PveRequest): Promise<PveResult<T>> {
      if (req.path.endsWith("/log")) return Promise.reject(new PveError("permission", "no log for you"));
      return Promise.resolve({ data: { status: "stopped", exitstatus: "OK" } as T });
    },
  };
  const out = await waitForTask(api, UPID, fakeTime());
  assertEquals([out.ok, out.logTail], [true, []]);
});

Deno.test("readTaskLogTail: short logs take one request; none asked, none sent", async () => {
  const { api, requests } = fakeTaskApi([], ["x", "TASK OK"]);
  assertEquals(await readTaskLogTail(api, UPID, 20), { lines: ["x", "TASK OK"], total: 2 });
  assertEquals(requests.length, 1);
  assertEquals(requests[0]!.params, { start: 0, limit: 20 });
  assertEquals(await readTaskLogTail(api, UPID, 0), { lines: [], total: 0 });
  assertEquals(requests.length, 1);
});
