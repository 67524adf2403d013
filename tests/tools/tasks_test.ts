import { taskInfo, taskStop, upidGuest } from "../../src/tools/tasks.ts";
import { assert, assertEquals, callTool, errorOf, fakeInfra, HOSTILE, upid, withTotal } from "./infra_fake.ts";

const U = upid("pve2", "qmstart", 105);

Deno.test("task_info: cluster-wide list filters by vmid, errors and running; newest first", async () => {
  const { ctx } = fakeInfra({
    "GET /cluster/tasks": [
      {
        upid: "a",
        node: "pve1",
        type: "qmstart",
        id: "105",
        user: "root@pam",
        status: "OK",
        starttime: 10,
        endtime: 11,
      },
      {
        upid: "b",
        node: "pve1",
        type: "vzdump",
        id: "105",
        user: "root@pam",
        status: "job errors",
        starttime: 20,
        endtime: 25,
      },
      { upid: "c", node: "pve2", type: "qmstop", id: "106", user: "root@pam", starttime: 30 },
      {
        upid: "d",
        node: "pve2",
        type: "qmstop",
        id: "105",
        user: "root@pam",
        status: "WARNINGS: 1",
        starttime: 5,
        endtime: 6,
      },
    ],
  });
  const all = await callTool(taskInfo, { vmid: 105 }, ctx);
  assertEquals(all.rows?.map((r) => r[0]), ["b", "a", "d"]);
  const failed = await callTool(taskInfo, { errors: true }, ctx);
  assertEquals(failed.rows?.map((r) => r[0]), ["b"]);
  const running = await callTool(taskInfo, { running: true }, ctx);
  assertEquals(running.rows?.map((r) => [r[0], r[4]]), [["c", "running"]]);
});

Deno.test("task_info: node list passes PVE's own filters", async () => {
  const { ctx, sent } = fakeInfra({ "GET /nodes/pve1/tasks": [] });
  await callTool(taskInfo, { node: "pve1", vmid: 100, errors: true, running: true, limit: 5 }, ctx);
  assertEquals(sent[0]?.params, { vmid: "100", errors: "1", limit: "5", source: "active" });
  await callTool(taskInfo, { node: "pve1" }, ctx);
  assertEquals(sent[1]?.params, { limit: "50", source: "all" });
});

Deno.test("task_info: status and log need a valid UPID; log text is untrusted", async () => {
  const { ctx, sent } = fakeInfra({
    [`GET /nodes/pve2/tasks/${U}/status`]: {
      status: "stopped",
      exitstatus: `failed: ${HOSTILE}`,
      type: "qmstart",
      id: "105",
    },
    [`GET /nodes/pve2/tasks/${U}/log`]: withTotal([{ n: 3, t: HOSTILE }], 40),
  });
  const st = await callTool(taskInfo, { action: "status", upid: U }, ctx);
  assertEquals(st.info?.ok, false);
  assertEquals(st.info?.exitstatus, "failed: ok[31mevilend");
  const log = await callTool(taskInfo, { action: "log", upid: U, start: 2, limit: 1 }, ctx);
  assertEquals(log.log, { untrusted: true, lines: ["ok[31mevilend"] });
  assertEquals(log.total, 40);
  assertEquals(sent.at(-1)?.params, { start: "2", limit: "1" });
  assert((await errorOf(() => callTool(taskInfo, { action: "status" }, ctx))).includes("pass upid"), "needs upid");
  const bad = await errorOf(() => callTool(taskInfo, { action: "status", upid: "UPID:x/../y" }, ctx));
  assert(bad.startsWith("Invalid UPID"), bad);
});

Deno.test("task_info: wait polls until stopped, reports progress, returns the log tail", async () => {
  let polls = 0;
  const { ctx, progress } = fakeInfra({
    [`GET /nodes/pve2/tasks/${U}/status`]: () =>
      ++polls < 2 ? { status: "running" } : { status: "stopped", exitstatus: "OK" },
    [`GET /nodes/pve2/tasks/${U}/log`]: withTotal([{ n: 1, t: "starting" }, { n: 2, t: "TASK OK" }], 2),
  });
  const out = await callTool(taskInfo, { action: "wait", upid: U, timeout: 30 }, ctx);
  assertEquals(out.info, { upid: U, status: "stopped", exitstatus: "OK", ok: true });
  assertEquals(out.log?.lines.at(-1), "TASK OK");
  assertEquals(progress.length, 1);
  assert(progress[0]!.message.startsWith("running"), progress[0]!.message);
});

Deno.test("task_info: wait stops at the server's maximum and says the task still runs", async () => {
  const { ctx } = fakeInfra({
    [`GET /nodes/pve2/tasks/${U}/status`]: { status: "running" },
    [`GET /nodes/pve2/tasks/${U}/log`]: withTotal([{ n: 1, t: "busy" }], 1),
  }, { maxTaskWaitMs: 1 });
  const out = await callTool(taskInfo, { action: "wait", upid: U, timeout: 3600 }, ctx);
  assertEquals(out.info?.status, "running");
  assert(String(out.info?.note).startsWith("still running"), String(out.info?.note));
});

Deno.test("task_stop: stops a running task, leaves a finished one; targets the task's guest", async () => {
  let status = "running";
  const { ctx, sent } = fakeInfra({
    [`GET /nodes/pve2/tasks/${U}/status`]: () => ({ status, exitstatus: status === "stopped" ? "OK" : undefined }),
    [`DELETE /nodes/pve2/tasks/${U}`]: null,
  });
  assertEquals(taskStop.effect!({ upid: U }).guests, [{ vmid: 105, role: "target" }]);
  assert(taskStop.effect!({ upid: upid("pve1", "aptupdate") }).undetermined, "a task without a guest is undetermined");
  assertEquals(upidGuest(upid("pve1", "aptupdate")), undefined);
  const out = await taskStop.handler({ upid: U }, ctx);
  assertEquals(out.stopped, true);
  assertEquals(sent.map((s) => s.method), ["GET", "DELETE"]);
  status = "stopped";
  const again = await taskStop.handler({ upid: U }, ctx);
  assertEquals([again.stopped, again.status], [false, "stopped"]);
  assertEquals(sent.filter((s) => s.method === "DELETE").length, 1);
});
