import { deepStrictEqual as assertEquals, ok as assert, rejects, strictEqual } from "node:assert/strict";
import { Api } from "./helpers.ts";

Deno.test("sim faults: forced statuses, with and without bodies, limited by times", async () => {
  await using api = await Api.start();
  const auth = api.sim.tokens.admin.header;
  api.sim.faults.set("GET /nodes/{node}/status", { status: 503 }, { times: 2 });
  strictEqual((await api.call("GET", "/nodes/pve1/status", { auth })).status, 503);
  const second = await api.call("GET", "/nodes/pve2/status", { auth });
  assertEquals([second.status, second.text], [503, "Service Unavailable"]);
  strictEqual((await api.call("GET", "/nodes/pve1/status", { auth })).status, 200); // used up
  assertEquals(api.sim.faults.list(), []);

  const id = api.sim.faults.set("/cluster/resources", { status: 500, message: "cfs-lock timeout" });
  const r500 = await api.call("GET", "/cluster/resources", { auth });
  assertEquals([r500.status, r500.body], [500, { data: null, message: "cfs-lock timeout\n" }]);
  api.sim.faults.clear(id);
  strictEqual((await api.call("GET", "/cluster/resources", { auth })).status, 200);

  for (const status of [502, 504, 595, 596] as const) {
    api.sim.faults.set("*", { status }, { times: 1 });
    const r = await api.call("GET", "/version", { auth });
    strictEqual(r.status, status);
    if (status >= 595) strictEqual(r.text, "");
  }
  // concrete-path globs and methods
  api.sim.faults.set("POST /nodes/*/qemu/*/status/*", { status: 500 });
  strictEqual((await api.call("GET", "/nodes/pve1/qemu", { auth })).status, 200);
  const g = [...api.sim.state.guests.values()].find((x) => x.type === "qemu" && !x.template);
  assert(g);
  const before = g.status;
  strictEqual((await api.call("POST", `/nodes/${g.node}/qemu/${g.vmid}/status/stop`, { auth })).status, 500);
  strictEqual(api.sim.tasks.onNode(g.node).filter((t) => t.type === "qmstop").length, 0, "no task on a forced status");
  strictEqual(g.status, before);
  strictEqual(api.sim.requests.at(-1)?.fault, "status");
  api.sim.faults.clear();
});

Deno.test("sim faults: latency (wall clock) and malformed JSON", async () => {
  await using api = await Api.start({ faults: [{ pattern: "/version", fault: { latencyMs: 120 }, times: 1 }] });
  const auth = api.sim.tokens.admin.header;
  const t0 = performance.now();
  strictEqual((await api.call("GET", "/version", { auth })).status, 200);
  assert(performance.now() - t0 >= 110);
  strictEqual(api.sim.requests.at(-1)?.fault, "latency");

  api.sim.faults.set("/version", { malformed: true }, { times: 1 });
  const bad = await api.call("GET", "/version", { auth });
  strictEqual(bad.status, 200);
  strictEqual(bad.headers.get("content-type"), "application/json;charset=UTF-8");
  strictEqual(bad.body, undefined, "body must not parse as JSON");
  assert(bad.text.startsWith('{"data":'));
});

Deno.test("sim faults: connection reset after the action ran, and a truncated body", async () => {
  await using api = await Api.start({ taskDurationMs: 0 });
  const auth = api.sim.tokens.admin.header;
  const g = [...api.sim.state.guests.values()].find((x) => x.type === "qemu" && x.status === "running");
  assert(g);
  api.sim.faults.set(`POST /nodes/${g.node}/qemu/${g.vmid}/status/stop`, { reset: true }, { times: 1 });
  await rejects(() => api.call("POST", `/nodes/${g.node}/qemu/${g.vmid}/status/stop`, { auth }));
  // the write happened although the answer was lost — what a client must never retry blindly
  strictEqual(api.sim.tasks.onNode(g.node).filter((t) => t.type === "qmstop").length, 1);
  strictEqual(api.sim.requests.at(-1)?.fault, "reset");

  api.sim.faults.set("GET /cluster/resources", { truncated: true }, { times: 1 });
  await rejects(() => api.call("GET", "/cluster/resources", { auth }));
  strictEqual((await api.call("GET", "/cluster/resources", { auth })).status, 200);
});

Deno.test("sim faults: expired ticket applies to ticket requests only", async () => {
  await using api = await Api.start();
  const login = await api.call("POST", "/access/ticket", { form: api.sim.user as unknown as Record<string, string> });
  const cookie = { cookie: `PVEAuthCookie=${encodeURIComponent(login.body.data.ticket)}` };
  api.sim.faults.set("*", { expiredTicket: true }, { times: 1 });
  // a token request does not consume the fault
  strictEqual((await api.call("GET", "/nodes", { auth: api.sim.tokens.admin.header })).status, 200);
  const expired = await api.call("GET", "/nodes", { headers: cookie });
  assertEquals([expired.status, expired.text], [401, ""]);
  strictEqual(api.sim.requests.at(-1)?.fault, "expiredTicket");
  strictEqual((await api.call("GET", "/nodes", { headers: cookie })).status, 200);
});

Deno.test("sim faults: latency past the client's timeout — the client gives up, the simulator carries on", async () => {
  await using api = await Api.start();
  const auth = api.sim.tokens.admin.header;
  api.sim.faults.set("/nodes", { latencyMs: 300 }, { times: 1 });
  await rejects(() =>
    fetch(`${api.sim.url}/api2/json/nodes`, {
      client: api.client,
      headers: { authorization: auth },
      signal: AbortSignal.timeout(50),
    })
  );
  await new Promise((r) => setTimeout(r, 350)); // the delayed answer goes to a closed connection
  strictEqual((await api.call("GET", "/nodes", { auth })).status, 200);
});

Deno.test("sim: optional gzip like PVE for bodies over 1 KiB", async () => {
  await using api = await Api.start({ gzip: true });
  const auth = api.sim.tokens.admin.header;
  const big = await api.call("GET", "/cluster/resources", { auth, headers: { "accept-encoding": "gzip" } });
  strictEqual(big.headers.get("content-encoding"), "gzip");
  assert(Array.isArray(big.body.data)); // fetch inflates it
  const small = await api.call("GET", "/version", { auth, headers: { "accept-encoding": "gzip" } });
  strictEqual(small.headers.get("content-encoding"), null);
});
