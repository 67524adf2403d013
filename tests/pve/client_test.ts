import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { createPveClient, type PveClientOptions } from "../../src/pve/client.ts";
import { type PveCallRecord, PveError } from "../../src/pve/types.ts";
import {
  caught,
  closedPort,
  fakeSleep,
  ok,
  rawResponse,
  startFakePve,
  startRawTlsServer,
  testCert,
  untilAborted,
} from "./fake_pve.ts";

const TOKEN = { tokenId: "monitor@pve!mcp", tokenSecret: "11111111-2222-3333-4444-555555555555" };

async function clientFor(
  target: { host: string; port: number },
  extra: Partial<PveClientOptions> = {},
) {
  const cert = await testCert();
  return createPveClient({
    host: target.host,
    port: target.port,
    tls: { caCertPem: cert.caCertPem },
    auth: TOKEN,
    ...extra,
  });
}

const kindOf = caught;

Deno.test("token auth: header, envelope, query encoding for GET", async () => {
  const pve = await startFakePve(() => ok([{ node: "pve1" }], { total: 7 }));
  const client = await clientFor(pve);
  try {
    const res = await client.request({
      method: "GET",
      path: "/nodes",
      params: { full: true, off: false, skip: undefined, ids: [1, 2], name: "a b&c" },
    });
    assertEquals(res, { data: [{ node: "pve1" }], total: 7 });
    const seen = pve.seen[0]!;
    assertEquals(seen.method, "GET");
    assertEquals(seen.path, "/nodes");
    assertEquals(seen.headers.get("authorization"), `PVEAPIToken=${TOKEN.tokenId}=${TOKEN.tokenSecret}`);
    assertEquals(seen.headers.get("cookie"), null);
    assertEquals(seen.headers.get("csrfpreventiontoken"), null);
    assertEquals(seen.query.get("full"), "1");
    assertEquals(seen.query.get("off"), "0");
    assertEquals(seen.query.has("skip"), false);
    assertEquals(seen.query.getAll("ids"), ["1", "2"]);
    assertEquals(seen.query.get("name"), "a b&c");
    assertEquals(seen.body, "");
  } finally {
    client.close();
    await pve.close();
  }
});

Deno.test("POST and PUT send form bodies, DELETE sends a query string, null data is fine", async () => {
  const pve = await startFakePve(() => ok(null));
  const client = await clientFor(pve);
  try {
    assertEquals(
      await client.request({ method: "POST", path: "/nodes/pve1/qemu/100/status/start", params: { skiplock: true } }),
      { data: null },
    );
    await client.request({ method: "PUT", path: "/nodes/pve1/qemu/100/config", params: { memory: 2048, tags: ["a"] } });
    await client.request({ method: "DELETE", path: "/nodes/pve1/qemu/100/snapshot/s1", params: { force: false } });
    const [post, put, del] = pve.seen;
    assertEquals(post!.headers.get("content-type"), "application/x-www-form-urlencoded");
    assertEquals(post!.form.get("skiplock"), "1");
    assertEquals([...post!.query.keys()], []);
    assertEquals(put!.form.get("memory"), "2048");
    assertEquals(put!.form.getAll("tags"), ["a"]);
    assertEquals(del!.body, "");
    assertEquals(del!.query.get("force"), "0");
  } finally {
    client.close();
    await pve.close();
  }
});

Deno.test("paths: UPIDs and user ids arrive intact, raw or encoded; traversal is refused before sending", async () => {
  const pve = await startFakePve(() => ok({}));
  const client = await clientFor(pve);
  const upid = "UPID:pve1:0000ABCD:00112233:65000000:qmstart:100:monitor@pve!mcp:";
  try {
    await client.request({ method: "GET", path: `/nodes/pve1/tasks/${upid}/status` });
    await client.request({ method: "GET", path: `/nodes/pve1/tasks/${encodeURIComponent(upid)}/status` });
    await client.request({ method: "GET", path: "/access/users/a user@pve" });
    assertEquals(pve.seen.map((s) => s.path), [
      `/nodes/pve1/tasks/${upid}/status`,
      `/nodes/pve1/tasks/${upid}/status`,
      "/access/users/a user@pve",
    ]);
    for (const bad of ["/nodes/../access", "/nodes//x", "/nodes/%2E%2E/x", "/nodes/a%2Fb", "nodes"]) {
      const e = await kindOf(client.request({ method: "GET", path: bad }));
      assertEquals(e.kind, "invalid", bad);
    }
    assertEquals(pve.seen.length, 3);
  } finally {
    client.close();
    await pve.close();
  }
});

Deno.test("GET is retried with jittered exponential backoff on 502/503/504", async () => {
  let n = 0;
  const statuses = [502, 503, 504];
  const pve = await startFakePve(() => {
    const s = statuses[n++];
    return s ? new Response("", { status: s }) : ok("fine");
  });
  const { sleep, delays } = fakeSleep();
  const calls: PveCallRecord[] = [];
  const client = await clientFor(pve, {
    sleep,
    retries: 3,
    random: () => 0,
    backoff: { baseMs: 100, maxMs: 250 },
    onCall: (r) => calls.push(r),
  });
  try {
    assertEquals((await client.request({ method: "GET", path: "/version" })).data, "fine");
    assertEquals(pve.seen.length, 4);
    assertEquals(delays, [50, 100, 125]); // 100·2^(n-1) capped at 250, times 0.5 with random()=0
    assertEquals(calls.map((c) => [c.attempt, c.status, c.errorKind]), [
      [1, 502, "server"],
      [2, 503, "server"],
      [3, 504, "server"],
      [4, 200, undefined],
    ]);
  } finally {
    client.close();
    await pve.close();
  }
});

Deno.test("GET gives up after `retries` extra attempts with the last error", async () => {
  const pve = await startFakePve(() => new Response("", { status: 503 }));
  const { sleep, delays } = fakeSleep();
  const client = await clientFor(pve, { sleep, retries: 2 });
  try {
    const e = await kindOf(client.request({ method: "GET", path: "/version" }));
    assertEquals(e.kind, "server");
    assertEquals(e.details.status, 503);
    assertEquals(pve.seen.length, 3);
    assertEquals(delays.length, 2);
    assert(delays[1]! >= delays[0]!, "backoff grows");
  } finally {
    client.close();
    await pve.close();
  }
});

Deno.test("POST, PUT and DELETE are never retried, whatever the failure", async () => {
  const pve = await startFakePve(() => new Response("", { status: 503 }));
  const { sleep, delays } = fakeSleep();
  const client = await clientFor(pve, { sleep });
  try {
    for (const method of ["POST", "PUT", "DELETE"] as const) {
      const e = await kindOf(client.request({ method, path: "/nodes/pve1/qemu/100/status/start" }));
      assertEquals(e.kind, "server");
    }
    assertEquals(pve.seen.length, 3);
    assertEquals(delays, []);
  } finally {
    client.close();
    await pve.close();
  }
  // Connection refused: GET retried, POST not.
  const port = closedPort();
  const calls: PveCallRecord[] = [];
  const refused = await clientFor({ host: "127.0.0.1", port }, { sleep, retries: 2, onCall: (r) => calls.push(r) });
  try {
    const g = await kindOf(refused.request({ method: "GET", path: "/version" }));
    assertEquals(g.kind, "connection");
    assert(g.message.includes(`GET /version on 127.0.0.1:${port}`), g.message);
    assert(g.message.includes("refused"), g.message);
    assertEquals(calls.length, 3);
    const p = await kindOf(refused.request({ method: "POST", path: "/nodes/pve1/qemu/100/status/stop" }));
    assertEquals(p.kind, "connection");
    assertEquals(calls.length, 4);
    assertEquals(calls.map((c) => c.status), [0, 0, 0, 0]);
  } finally {
    refused.close();
  }
});

Deno.test("timeout: a server that never answers gives kind timeout, GET retried, request timeoutMs wins", async () => {
  const pve = await startFakePve((req) => untilAborted(req));
  const { sleep } = fakeSleep();
  const calls: PveCallRecord[] = [];
  const client = await clientFor(pve, { sleep, retries: 1, timeoutMs: 60_000, onCall: (r) => calls.push(r) });
  try {
    const started = performance.now();
    const e = await kindOf(client.request({ method: "GET", path: "/cluster/resources", timeoutMs: 80 }));
    assertEquals(e.kind, "timeout");
    assert(e.message.includes("GET /cluster/resources on 127.0.0.1:"), e.message);
    assert(e.message.includes("timed out after 80 ms"), e.message);
    // Counted on our side: under load a retry can time out before its request reaches the server.
    assertEquals(calls.map((c) => c.errorKind), ["timeout", "timeout"]);
    assert(performance.now() - started < 10_000);
    const w = await kindOf(
      client.request({ method: "POST", path: "/nodes/pve1/qemu/100/status/start", timeoutMs: 50 }),
    );
    assertEquals(w.kind, "timeout");
    assertEquals(calls.length, 3);
  } finally {
    client.close();
    await pve.close();
  }
});

Deno.test("abort: the caller's signal cancels without retry; a pre-aborted signal sends nothing", async () => {
  let arrived: () => void = () => {};
  const arrival = new Promise<void>((r) => (arrived = r));
  const pve = await startFakePve((req) => {
    arrived();
    return untilAborted(req);
  });
  const { sleep, delays } = fakeSleep();
  const client = await clientFor(pve, { sleep });
  try {
    const ac = new AbortController();
    const p = client.request({ method: "GET", path: "/version", signal: ac.signal });
    await arrival;
    ac.abort();
    const e = await kindOf(p);
    assertEquals(e.kind, "aborted");
    assertEquals(delays, []);
    assertEquals(pve.seen.length, 1);
    const pre = await kindOf(client.request({ method: "GET", path: "/version", signal: AbortSignal.abort() }));
    assertEquals(pre.kind, "aborted");
    assertEquals(pve.seen.length, 1);
  } finally {
    client.close();
    await pve.close();
  }
});

Deno.test("malformed and truncated bodies are protocol errors; GET retried, POST not", async () => {
  const answers = [
    rawResponse("200 OK", "{not json", { "content-type": "application/json" }),
    rawResponse("200 OK", '{"nodata":1}'),
    // says 100 bytes, sends 10 and closes
    `HTTP/1.1 200 OK\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{"data":[1`,
  ];
  let i = 0;
  const raw = await startRawTlsServer(() => answers[Math.min(i++, answers.length - 1)]!);
  const { sleep } = fakeSleep();
  const client = await clientFor(raw, { sleep, retries: 0 });
  try {
    const a = await kindOf(client.request({ method: "GET", path: "/version" }));
    assertEquals([a.kind, a.message.includes("not JSON")], ["protocol", true]);
    const b = await kindOf(client.request({ method: "GET", path: "/version" }));
    assertEquals([b.kind, b.message.includes('"data"')], ["protocol", true]);
    const c = await kindOf(client.request({ method: "GET", path: "/version" }));
    assertEquals(c.kind, "protocol");
    assert(c.message.includes("cut off"), c.message);
  } finally {
    client.close();
    await raw.close();
  }
  // With retries, a truncated GET is tried again and can succeed; a POST is not.
  let j = 0;
  const flaky = await startRawTlsServer(() =>
    j++ === 0
      ? `HTTP/1.1 200 OK\r\ncontent-length: 50\r\nconnection: close\r\n\r\n{"da`
      : rawResponse("200 OK", '{"data":2}')
  );
  const retrying = await clientFor(flaky, { sleep, retries: 2 });
  try {
    assertEquals((await retrying.request({ method: "GET", path: "/version" })).data, 2);
    assertEquals(flaky.requests.length, 2);
    j = 0;
    const p = await kindOf(retrying.request({ method: "POST", path: "/nodes/pve1/qemu/100/status/start" }));
    assertEquals(p.kind, "protocol");
    assertEquals(flaky.requests.length, 3);
  } finally {
    retrying.close();
    await flaky.close();
  }
});

Deno.test("connection closed without an answer: kind connection, GET retried", async () => {
  const raw = await startRawTlsServer(() => ({ close: true }));
  const { sleep } = fakeSleep();
  const client = await clientFor(raw, { sleep, retries: 2 });
  try {
    const e = await kindOf(client.request({ method: "GET", path: "/version" }));
    assertEquals(e.kind, "connection");
    assertEquals(raw.requests.length, 3);
  } finally {
    client.close();
    await raw.close();
  }
});

Deno.test("redirects are not followed; oversized answers are refused", async () => {
  const pve = await startFakePve((req) =>
    req.path === "/redirect"
      ? new Response(null, { status: 301, headers: { location: "https://elsewhere.invalid/" } })
      : ok("x".repeat(5000))
  );
  const client = await clientFor(pve, { maxResponseBytes: 1000, retries: 0 });
  try {
    const r = await kindOf(client.request({ method: "GET", path: "/redirect" }));
    assertEquals([r.kind, r.details.status], ["protocol", 301]);
    assert(r.message.includes("redirect"), r.message);
    const big = await kindOf(client.request({ method: "GET", path: "/big" }));
    assertEquals(big.kind, "protocol");
    assert(big.message.includes("larger than 1000 bytes"), big.message);
  } finally {
    client.close();
    await pve.close();
  }
});

Deno.test("onCall reports every attempt with parameter names only", async () => {
  const pve = await startFakePve(() => ok(1));
  const calls: PveCallRecord[] = [];
  const client = await clientFor(pve, { onCall: (r) => calls.push(r) });
  try {
    await client.request({
      method: "POST",
      path: "/access/users",
      params: { userid: "bob@pve", password: "hunter2-value", comment: undefined },
    });
    assertEquals(calls.length, 1);
    const c = calls[0]!;
    assertEquals([c.method, c.path, c.status, c.paramNames, c.attempt], [
      "POST",
      "/access/users",
      200,
      ["userid", "password"],
      1,
    ]);
    assert(c.durationMs >= 0);
    assert(!JSON.stringify(calls).includes("hunter2"));
  } finally {
    client.close();
    await pve.close();
  }
});

Deno.test("an onCall hook that throws does not break the call", async () => {
  const pve = await startFakePve(() => ok(1));
  const client = await clientFor(pve, {
    onCall: () => {
      throw new Error("observer bug");
    },
  });
  try {
    assertEquals((await client.request({ method: "GET", path: "/version" })).data, 1);
  } finally {
    client.close();
    await pve.close();
  }
});

Deno.test("connections are reused across requests", async () => {
  const pve = await startFakePve(() => ok(1));
  const client = await clientFor(pve);
  try {
    for (let i = 0; i < 5; i++) await client.request({ method: "GET", path: "/version" });
    assertEquals(new Set(pve.seen.map((s) => s.remotePort)).size, 1);
  } finally {
    client.close();
    await pve.close();
  }
});

Deno.test("close(): in-flight requests end as aborted, later ones are refused, close is idempotent", async () => {
  let arrived: () => void = () => {};
  const arrival = new Promise<void>((r) => (arrived = r));
  const pve = await startFakePve((req) => {
    arrived();
    return untilAborted(req);
  });
  const client = await clientFor(pve);
  const p = client.request({ method: "GET", path: "/version" });
  await arrival;
  client.close();
  client.close();
  try {
    assertEquals((await kindOf(p)).kind, "aborted");
    const later = await kindOf(client.request({ method: "GET", path: "/version" }));
    assertEquals(later.kind, "aborted");
    assert(later.message.includes("closed"), later.message);
  } finally {
    await pve.close();
  }
});

Deno.test("bad settings fail at creation with a clear message", () => {
  const cases: [Partial<PveClientOptions>, string][] = [
    [{ host: "https://pve:8006" }, "Invalid PVE host"],
    [{ host: "pve/x" }, "Invalid PVE host"],
    [{ port: 0 }, "Invalid PVE port"],
    [{ port: 70000 }, "Invalid PVE port"],
  ];
  for (const [over, text] of cases) {
    const e = (() => {
      try {
        createPveClient({ host: "pve1", auth: TOKEN, ...over });
      } catch (err) {
        return err;
      }
    })();
    assert(e instanceof PveError, JSON.stringify(over));
    assert(e.message.includes(text), e.message);
  }
  // An IPv6 literal is fine and labelled in brackets.
  const v6 = createPveClient({ host: "::1", auth: TOKEN });
  assertEquals(v6.host, "[::1]:8006");
  v6.close();
});
