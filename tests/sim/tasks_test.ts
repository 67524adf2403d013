import { deepStrictEqual as assertEquals, match, ok as assert, strictEqual } from "node:assert/strict";
import { parseUpid } from "../../src/sim/mod.ts";
import { Api, ManualClock } from "./helpers.ts";

function pick(api: Api, type: "qemu" | "lxc", status: "running" | "stopped") {
  const g = [...api.sim.state.guests.values()].find((x) => x.type === type && !x.template && x.status === status);
  assert(g, `a ${status} ${type} guest exists`);
  return g;
}

Deno.test("sim tasks: start returns a UPID, runs until the clock passes its duration, then changes state", async () => {
  const clock = new ManualClock();
  await using api = await Api.start({ now: clock.now, taskDurationMs: 5000, guests: 40 });
  const g = pick(api, "qemu", "stopped");
  const r = await api.call("POST", `/nodes/${g.node}/qemu/${g.vmid}/status/start`, {
    auth: api.sim.tokens.operator.header,
  });
  strictEqual(r.status, 200);
  const upid: string = r.body.data;
  match(upid, /^UPID:pve\d+:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:qmstart:\d+:mcp@pve!operator:$/);
  const parsed = parseUpid(upid);
  strictEqual(parsed?.node, g.node);
  strictEqual(parsed?.starttime, Math.floor(clock.t / 1000));

  const statusPath = `/nodes/${g.node}/tasks/${encodeURIComponent(upid)}/status`;
  let st = await api.get(statusPath);
  assertEquals(
    { status: st.status, type: st.type, id: st.id, user: st.user, tokenid: st.tokenid },
    { status: "running", type: "qmstart", id: String(g.vmid), user: "mcp@pve", tokenid: "operator" },
  );
  strictEqual(st.exitstatus, undefined);
  strictEqual((await api.get(`/nodes/${g.node}/qemu/${g.vmid}/status/current`)).status, "stopped");
  const active = await api.get(`/nodes/${g.node}/tasks?source=active`);
  assert(active.some((t: { upid: string }) => t.upid === upid));
  const runningLog = await api.call("GET", `/nodes/${g.node}/tasks/${upid}/log`, { auth: api.sim.tokens.admin.header });
  assertEquals(runningLog.body, { data: [{ n: 1, t: "no content" }], total: 1 });

  clock.advance(5000);
  st = await api.get(statusPath);
  assertEquals([st.status, st.exitstatus], ["stopped", "OK"]);
  const cur = await api.get(`/nodes/${g.node}/qemu/${g.vmid}/status/current`);
  assertEquals([cur.status, cur.qmpstatus, cur.uptime], ["running", "running", 0]);
  clock.advance(60_000);
  strictEqual((await api.get(`/nodes/${g.node}/qemu/${g.vmid}/status/current`)).uptime, 60);
  const vm = (await api.get("/cluster/resources?type=vm")).find((x: { vmid: number }) => x.vmid === g.vmid);
  strictEqual(vm.status, "running");

  const log = await api.call("GET", `/nodes/${g.node}/tasks/${upid}/log`, { auth: api.sim.tokens.admin.header });
  strictEqual(log.body.data.at(-1).t, "TASK OK");
  strictEqual(log.body.total, log.body.data.length);
  const list = await api.get(`/nodes/${g.node}/tasks?vmid=${g.vmid}&typefilter=qmstart`);
  strictEqual(list[0].upid, upid);
  strictEqual(list[0].status, "OK");
  strictEqual(typeof list[0].endtime, "number");
});

Deno.test("sim tasks: every power action for qemu and lxc, errors PVE reports", async () => {
  const clock = new ManualClock();
  await using api = await Api.start({ now: clock.now, taskDurationMs: 100, guests: 60 });
  const auth = api.sim.tokens.admin.header;
  const run = async (type: string, vmid: number, node: string, action: string) => {
    const r = await api.call("POST", `/nodes/${node}/${type}/${vmid}/status/${action}`, { auth });
    if (r.status !== 200) return { status: r.status, message: r.body?.message as string };
    clock.advance(100);
    const st = await api.get(`/nodes/${node}/tasks/${r.body.data}/status`);
    return { status: 200, exitstatus: st.exitstatus as string };
  };
  const q = pick(api, "qemu", "running");
  const cur = () => api.get(`/nodes/${q.node}/qemu/${q.vmid}/status/current`);
  assertEquals(await run("qemu", q.vmid, q.node, "suspend"), { status: 200, exitstatus: "OK" });
  strictEqual((await cur()).qmpstatus, "paused");
  assertEquals(await run("qemu", q.vmid, q.node, "resume"), { status: 200, exitstatus: "OK" });
  strictEqual((await cur()).qmpstatus, "running");
  for (const a of ["reboot", "reset"]) {
    assertEquals(await run("qemu", q.vmid, q.node, a), { status: 200, exitstatus: "OK" });
  }
  assertEquals(await run("qemu", q.vmid, q.node, "start"), { status: 200, exitstatus: `VM ${q.vmid} already running` });
  assertEquals(await run("qemu", q.vmid, q.node, "shutdown"), { status: 200, exitstatus: "OK" });
  strictEqual((await cur()).status, "stopped");
  assertEquals(await run("qemu", q.vmid, q.node, "reboot"), { status: 200, exitstatus: `VM ${q.vmid} not running` });
  assertEquals(await run("qemu", q.vmid, q.node, "stop"), { status: 200, exitstatus: "OK" });

  const c = pick(api, "lxc", "stopped");
  assertEquals(await run("lxc", c.vmid, c.node, "stop"), { status: 500, message: `CT ${c.vmid} not running\n` });
  assertEquals(await run("lxc", c.vmid, c.node, "start"), { status: 200, exitstatus: "OK" });
  assertEquals(await run("lxc", c.vmid, c.node, "start"), { status: 500, message: `CT ${c.vmid} already running\n` });
  for (const a of ["suspend", "resume", "reboot", "shutdown"]) {
    assertEquals(await run("lxc", c.vmid, c.node, a), { status: 200, exitstatus: "OK" }, a);
  }
  strictEqual((await api.get(`/nodes/${c.node}/lxc/${c.vmid}/status/current`)).status, "stopped");
  // no reset for containers
  strictEqual((await api.call("POST", `/nodes/${c.node}/lxc/${c.vmid}/status/reset`, { auth })).status, 501);

  const tpl = [...api.sim.state.guests.values()].find((x) => x.template);
  if (tpl) {
    const r = await run(tpl.type, tpl.vmid, tpl.node, "start");
    strictEqual(r.status, 500);
  }
  // the guest must be addressed on its own node
  const other = [...api.sim.state.nodes.keys()].find((n) => n !== q.node);
  const wrongNode = await api.call("POST", `/nodes/${other}/qemu/${q.vmid}/status/start`, { auth });
  strictEqual(wrongNode.status, 500);
  strictEqual(
    wrongNode.body.message,
    `Configuration file 'nodes/${other}/qemu-server/${q.vmid}.conf' does not exist\n`,
  );
  // errors filter finds the failed tasks
  const errs = await api.get(`/nodes/${q.node}/tasks?errors=1&vmid=${q.vmid}`);
  assert(errs.length >= 2 && errs.every((t: { status: string }) => t.status !== "OK"));
});

Deno.test("sim tasks: DELETE stops a running task without its effect; unknown UPIDs fail like PVE", async () => {
  const clock = new ManualClock();
  await using api = await Api.start({ now: clock.now, taskDurationMs: 10_000 });
  const auth = api.sim.tokens.admin.header;
  const g = pick(api, "qemu", "stopped");
  const upid = (await api.call("POST", `/nodes/${g.node}/qemu/${g.vmid}/status/start`, { auth })).body.data;
  const del = await api.call("DELETE", `/nodes/${g.node}/tasks/${encodeURIComponent(upid)}`, { auth });
  assertEquals([del.status, del.body], [200, { data: null }]);
  clock.advance(20_000);
  const st = await api.get(`/nodes/${g.node}/tasks/${upid}/status`);
  assertEquals([st.status, st.exitstatus], ["stopped", "received interrupt"]);
  strictEqual((await api.get(`/nodes/${g.node}/qemu/${g.vmid}/status/current`)).status, "stopped");
  const log = await api.get(`/nodes/${g.node}/tasks/${upid}/log`);
  strictEqual(log.at(-1).t, "TASK ERROR: received interrupt");

  const bad = await api.call("GET", `/nodes/${g.node}/tasks/not-a-upid/status`, { auth });
  assertEquals([bad.status, bad.body.message], [500, "unable to parse worker upid 'not-a-upid'\n"]);
  const gone = upid.replace(/:[0-9A-F]{8}:qmstart/, ":DEADBEEF:qmstart");
  strictEqual((await api.call("GET", `/nodes/${g.node}/tasks/${gone}/status`, { auth })).status, 500);
  // the auditor may read every task (Sys.Audit), but only the owner or Sys.Modify may stop one
  const upid2 = (await api.call("POST", `/nodes/${g.node}/qemu/${g.vmid}/status/start`, { auth })).body.data;
  strictEqual(
    (await api.call("GET", `/nodes/${g.node}/tasks/${upid2}/status`, { auth: api.sim.tokens.auditor.header })).status,
    200,
  );
  const stop = await api.call("DELETE", `/nodes/${g.node}/tasks/${upid2}`, { auth: api.sim.tokens.auditor.header });
  strictEqual(stop.status, 403);
});

Deno.test("sim tasks: list paging, totals and seeded history", async () => {
  await using api = await Api.start();
  const r = await api.call("GET", "/nodes/pve1/tasks", { auth: api.sim.tokens.admin.header, query: "start=1&limit=1" });
  strictEqual(r.body.data.length, 1);
  assert(r.body.total >= 3);
  const backups = await api.get("/nodes/pve1/tasks?typefilter=vzdump");
  assert(backups.length >= 1);
  const log = await api.get(`/nodes/pve1/tasks/${backups[0].upid}/log?limit=2`);
  strictEqual(log.length, 2);
  match(log[0].t, /^INFO: starting new backup job/);
  const all = await api.get("/cluster/tasks");
  assert(all.length >= 9);
});
