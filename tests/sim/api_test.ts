import { deepStrictEqual as assertEquals, ok as assert, strictEqual } from "node:assert/strict";
import { listEndpoints } from "../../src/pve/contract.ts";
import { SimError, startSimulator } from "../../src/sim/mod.ts";
import { Api } from "./helpers.ts";

Deno.test("sim api: envelope and PVE's headers", async () => {
  await using api = await Api.start();
  const r = await api.call("GET", "/version", { auth: api.sim.tokens.admin.header });
  strictEqual(r.status, 200);
  strictEqual(r.headers.get("content-type"), "application/json;charset=UTF-8");
  strictEqual(r.headers.get("server"), "pve-api-daemon/3.0");
  strictEqual(r.headers.get("cache-control"), "max-age=0");
  strictEqual(r.headers.get("pragma"), "no-cache");
  assert(r.headers.get("expires"));
  assertEquals(Object.keys(r.body), ["data"]);
  const log = await api.call("GET", `/nodes/pve1/tasks`, { auth: api.sim.tokens.admin.header, query: "limit=1" });
  strictEqual(typeof log.body.total, "number");
  strictEqual(log.body.data.length, 1);
});

Deno.test("sim api: 400 with PVE's errors map; 501 for unknown paths, methods, formats; 500 for missing objects", async () => {
  await using api = await Api.start();
  const auth = api.sim.tokens.admin.header;
  const bad = await api.call("GET", "/nodes/pve1/qemu/abc/config", { auth, query: "bogus=1" });
  strictEqual(bad.status, 400);
  assertEquals(bad.body, {
    data: null,
    errors: {
      vmid: "type check ('integer') failed - got 'abc'",
      bogus: "property is not defined in schema and the schema does not allow additional properties",
    },
    message: "Parameter verification failed.\n",
  });
  const unknown = await api.call("GET", "/nodes/pve1/nonsense", { auth });
  strictEqual(unknown.status, 501);
  assertEquals(unknown.body, { data: null, message: "Method 'GET /nodes/pve1/nonsense' not implemented\n" });
  strictEqual((await api.call("DELETE", "/version", { auth })).status, 501);
  // an endpoint of the API that has no simulator handler (found dynamically: routes keep being added)
  const missing = listEndpoints().find((e) =>
    e.method === "GET" && e.pathParams.length === 1 && e.pathParams[0] === "node" &&
    !Object.values(e.params).some((p) => !p.optional && p !== e.params.node) && !api.sim.routes.get("GET", e.path)
  );
  assert(missing, "some GET /nodes/{node}/... endpoint has no handler");
  const noHandler = await api.call("GET", missing.path.replace("{node}", "pve1"), { auth });
  strictEqual(noHandler.status, 501);
  assert(noHandler.body.message.includes(`the simulator has no handler for GET ${missing.path}`));
  strictEqual((await api.call("PATCH", "/version", { auth })).status, 501);
  const extjs = await fetch(`${api.sim.url}/api2/extjs/version`, {
    client: api.client,
    headers: { authorization: auth },
  });
  strictEqual(extjs.status, 501);
  await extjs.body?.cancel();
  const root = await fetch(`${api.sim.url}/`, { client: api.client });
  strictEqual(root.status, 501);
  await root.body?.cancel();

  const vmMissing = await api.call("GET", "/nodes/pve1/qemu/99999/status/current", { auth });
  strictEqual(vmMissing.status, 500);
  strictEqual(vmMissing.body.message, "Configuration file 'nodes/pve1/qemu-server/99999.conf' does not exist\n");
  const nodeMissing = await api.call("GET", "/nodes/pve9/status", { auth });
  strictEqual(nodeMissing.status, 500);
  assert(nodeMissing.body.message.startsWith("hostname lookup 'pve9' failed"));
  const storeMissing = await api.call("GET", "/nodes/pve1/storage/nope/status", { auth });
  strictEqual(storeMissing.body.message, "storage 'nope' does not exist\n");
});

Deno.test("sim api: request encoding — form and JSON bodies, query wins, body on GET refused, duplicates", async () => {
  await using api = await Api.start({ taskDurationMs: 0 });
  const auth = api.sim.tokens.admin.header;
  const g = [...api.sim.state.guests.values()].find((x) => x.type === "qemu" && !x.template && x.status === "running");
  assert(g);
  const base = `/nodes/${g.node}/qemu/${g.vmid}/status`;
  const json = await api.call("POST", `${base}/reboot`, { auth, json: { timeout: 30 } });
  strictEqual(json.status, 200);
  const badJson = await api.call("POST", `${base}/reboot`, { auth, json: { timeout: "soon" } });
  assertEquals(badJson.body.errors, { timeout: "type check ('integer') failed - got 'soon'" });
  // query parameters win over body parameters
  const q = await api.call("POST", `${base}/reboot`, { auth, form: { timeout: "x" }, query: "timeout=10" });
  strictEqual(q.status, 200);
  strictEqual(api.sim.requests.at(-1)?.params.timeout, "10");
  // a body on GET is refused (fetch will not send one, so speak HTTP/1.1 directly)
  const status = await api.raw(
    `GET /api2/json/version HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth}\r\n` +
      `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\nConnection: close\r\n\r\na=1`,
  );
  strictEqual(status, "HTTP/1.1 501 Unexpected content for method 'GET'");
  // a path parameter sent again with another value
  const dup = await api.call("GET", `/nodes/${g.node}/qemu/${g.vmid}/config`, { auth, query: `vmid=${g.vmid + 1}` });
  strictEqual(dup.status, 400);
  assertEquals(dup.body.errors, { vmid: "duplicate parameter (already defined in URI) with conflicting values!" });
  // _dc is dropped silently
  strictEqual((await api.call("GET", "/version", { auth, query: "_dc=12345" })).status, 200);
});

Deno.test("sim api: offline node answers 595 for forwarded endpoints; cluster views show it", async () => {
  await using api = await Api.start({ offlineNodes: ["pve2"] });
  const auth = api.sim.tokens.admin.header;
  const r = await api.call("GET", "/nodes/pve2/qemu", { auth });
  strictEqual(r.status, 595);
  strictEqual(r.text, "");
  const nodes = await api.get("/nodes");
  strictEqual(nodes.find((n: { node: string }) => n.node === "pve2").status, "offline");
  const st = await api.get("/cluster/status");
  strictEqual(st.find((n: { name: string }) => n.name === "pve2").online, 0);
  strictEqual(st[0].quorate, 1);
  const vms = await api.get("/cluster/resources?type=vm");
  assert(
    vms.filter((v: { node: string }) => v.node === "pve2").every((v: { status: string }) => v.status === "unknown"),
  );
});

Deno.test("sim api: /cluster/resources type filter, sizes and determinism", async () => {
  await using a = await Api.start({ nodes: 4, guests: 60, seed: 7 });
  await using b = await Api.start({ nodes: 4, guests: 60, seed: 7 });
  const all = await a.get("/cluster/resources");
  const types = new Set(all.map((r: { type: string }) => r.type));
  assertEquals([...types].sort(), ["lxc", "node", "pool", "qemu", "sdn", "storage"]);
  strictEqual((await a.get("/cluster/resources?type=vm")).length, 60);
  strictEqual((await a.get("/cluster/resources?type=node")).length, 4);
  strictEqual((await a.get("/cluster/resources?type=storage")).length, 12); // 3 storages on 4 nodes
  strictEqual((await a.get("/cluster/resources?type=sdn")).length, 4);
  const bad = await a.call("GET", "/cluster/resources", { auth: a.sim.tokens.admin.header, query: "type=vms" });
  strictEqual(bad.status, 400);
  // same seed, same cluster (names, tags, pools, placement)
  const strip = (rs: Record<string, unknown>[]) => rs.map((r) => [r.id, r.name, r.node, r.tags, r.pool, r.status]);
  assertEquals(strip(await b.get("/cluster/resources?type=vm")), strip(await a.get("/cluster/resources?type=vm")));
  await using c = await Api.start({ nodes: 4, guests: 60, seed: 8 });
  assert(JSON.stringify(strip(await c.get("/cluster/resources?type=vm"))) !== JSON.stringify(strip(all)));
});

Deno.test("sim api: large cluster (50 nodes, 10,000 guests) lists in one request", async () => {
  await using api = await Api.start({ nodes: 50, guests: 10_000 });
  const vms = await api.get("/cluster/resources?type=vm");
  strictEqual(vms.length, 10_000);
  strictEqual(new Set(vms.map((v: { node: string }) => v.node)).size, 50);
  strictEqual((await api.get("/nodes")).length, 50);
});

Deno.test("sim api: extra routes, typo guard, request log", async () => {
  const sim = await startSimulator({
    routes: [
      { method: "GET", path: "/nodes/{node}/network", handler: () => [{ iface: "vmbr0", type: "bridge" }] },
      {
        method: "GET",
        path: "/nodes/{node}/dns",
        handler: () => {
          throw new SimError(500, "resolv.conf is broken");
        },
      },
    ],
  });
  const api = new Api(sim);
  try {
    assertEquals(await api.get("/nodes/pve1/network"), [{ iface: "vmbr0", type: "bridge" }]);
    const err = await api.call("GET", "/nodes/pve1/dns", { auth: sim.tokens.admin.header });
    assertEquals([err.status, err.body.message], [500, "resolv.conf is broken\n"]);
    const rec = sim.requests.find((r) => r.path === "/nodes/pve1/network");
    assertEquals(rec && { ...rec, time: 0 }, {
      time: 0,
      method: "GET",
      path: "/nodes/pve1/network",
      template: "/nodes/{node}/network",
      params: {},
      authId: sim.tokens.admin.tokenId,
      authKind: "token",
      status: 200,
    });
    sim.clearRequests();
    strictEqual(sim.requests.length, 0);
  } finally {
    await api[Symbol.asyncDispose]();
  }
  await assertRejectsSync(() =>
    startSimulator({ routes: [{ method: "GET", path: "/nodes/{node}/networks", handler: () => null }] })
  );
  await assertRejectsSync(() => startSimulator({ guests: 10_001 }));
});

async function assertRejectsSync(fn: () => Promise<unknown>): Promise<void> {
  let threw = false;
  try {
    const s = await fn();
    if (s && typeof s === "object" && "close" in s) await (s as { close(): Promise<void> }).close();
  } catch {
    threw = true;
  }
  assert(threw, "expected a rejection");
}
