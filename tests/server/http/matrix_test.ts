/**
 * The HTTP matrix: a real SDK client and raw requests against the real listener (guards + SDK handler) with a small
 * MCP server behind it. The full stack with the real tools is in serve_http_test.ts.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects as assertRejects } from "node:assert/strict";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { INIT_BODY, mcpHeaders, rawRequest, startTestServer } from "./helpers.ts";

function client(url: string, token: string | undefined, mode: "legacy" | "auto" = "legacy") {
  const c = new Client({ name: "matrix", version: "1.2.3" }, { versionNegotiation: { mode } });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } },
  });
  return { c, connect: () => c.connect(transport) };
}

Deno.test("HTTP matrix: a valid device token works through the SDK client (2025 and 2026 eras)", async () => {
  const t = await startTestServer();
  try {
    const { token } = await t.devices.add({ name: "laptop", mode: "read-only" });
    for (const mode of ["legacy", "auto"] as const) {
      const { c, connect } = client(t.server.url, token, mode);
      await connect();
      assertEquals((await c.listTools()).tools.map((x) => x.name), ["whoami"]);
      const r = await c.callTool({ name: "whoami", arguments: {} });
      const who = JSON.parse((r.content as { text: string }[])[0]!.text);
      assertEquals(who, { id: "device:laptop", mode: "read-only", client: { name: "matrix", version: "1.2.3" } });
      await c.close();
    }
    assert(t.audit.entries.every((e) => e.phase === "auth" && e.decision === "allowed"));
    assert(!JSON.stringify(t.audit.entries).includes(token));
  } finally {
    await t.close();
  }
});

Deno.test("HTTP matrix: no, bad, expired and revoked tokens get 401 with WWW-Authenticate", async () => {
  let now = Date.UTC(2026, 0, 1);
  const t = await startTestServer({ devicesNow: () => now });
  try {
    const expiring = await t.devices.add({ name: "short", expiresInMs: 60_000 });
    const revoked = await t.devices.add({ name: "gone" });
    await t.devices.revoke("gone");

    const post = (auth?: string) =>
      fetch(t.server.url, {
        method: "POST",
        headers: mcpHeaders(auth === undefined ? {} : { authorization: auth }),
        body: INIT_BODY,
      });
    const none = await post();
    assertEquals(none.status, 401);
    assertEquals(none.headers.get("www-authenticate"), 'Bearer realm="pve-mcp"');
    assertEquals((await none.json()).error.message, "Unauthorized: no credential");
    for (
      const [auth, reason] of [
        ["Bearer pvemcp_" + "x".repeat(43), "the device token is not known"],
        ["Bearer not-a-token", "the bearer token is not a pve-mcp device token"],
        [`Bearer ${revoked.token}`, "the device token was revoked"],
        ["Basic dXNlcjpwYXNz", "unsupported authorization scheme"],
      ]
    ) {
      const r = await post(auth);
      assertEquals(r.status, 401, auth);
      assertEquals(r.headers.get("www-authenticate"), 'Bearer realm="pve-mcp", error="invalid_token"');
      assertEquals((await r.json()).error.message, `Unauthorized: ${reason}`);
    }
    const ok = await post(`Bearer ${expiring.token}`);
    assertEquals(ok.status, 200);
    await ok.body?.cancel();
    now += 60_000;
    const expired = await post(`Bearer ${expiring.token}`);
    assertEquals(expired.status, 401);
    assertEquals((await expired.json()).error.message, "Unauthorized: the device token has expired");

    // The SDK client sees the 401 as a connection failure.
    const { connect } = client(t.server.url, undefined);
    await assertRejects(connect());
    const denied = t.audit.entries.filter((e) => e.decision === "denied");
    assert(denied.length >= 6);
    assert(denied.some((e) => e.principal === "device:gone" && e.reason === "the device token was revoked"));
    assert(t.metrics.render().includes('pve_mcp_auth_failures_total{reason="no credential"}'));
  } finally {
    await t.close();
  }
});

Deno.test("HTTP matrix: bad Host or Origin → 403 before authentication; allowed Origin gets CORS headers", async () => {
  const t = await startTestServer({ allowedOrigins: ["https://inspector.example"] });
  try {
    const { token } = await t.devices.add({ name: "web" });
    const auth = { authorization: `Bearer ${token}` };
    const badHost = await rawRequest(t.server.url, {
      method: "POST",
      headers: { ...mcpHeaders(auth), host: "evil.example" },
      body: INIT_BODY,
    });
    assertEquals(badHost.status, 403);
    assert(badHost.body.includes("Host header not allowed"));
    const badOrigin = await rawRequest(t.server.url, {
      method: "POST",
      headers: { ...mcpHeaders(auth), origin: "https://evil.example" },
      body: INIT_BODY,
    });
    assertEquals(badOrigin.status, 403);
    assert(badOrigin.body.includes("Origin not allowed"));
    // No credential and a bad Host: 403 comes first (no 401 challenge leaks).
    const both = await rawRequest(t.server.url, { method: "POST", headers: { host: "evil.example" }, body: "{}" });
    assertEquals(both.status, 403);
    const good = await rawRequest(t.server.url, {
      method: "POST",
      headers: { ...mcpHeaders(auth), origin: "https://inspector.example" },
      body: INIT_BODY,
    });
    assertEquals(good.status, 200);
    assertEquals(good.headers["access-control-allow-origin"], "https://inspector.example");
    const preflight = await rawRequest(t.server.url, {
      method: "OPTIONS",
      headers: { origin: "https://inspector.example", "access-control-request-method": "POST" },
    });
    assertEquals(preflight.status, 204, "preflight needs no credential");
    assert(preflight.headers["access-control-allow-headers"]?.includes("authorization"));
  } finally {
    await t.close();
  }
});

Deno.test("HTTP matrix: disallowed network → 403; X-Forwarded-For honoured only from trusted proxies", async () => {
  const closed = await startTestServer({ allowNetworks: ["10.0.0.0/8"] });
  try {
    const r = await fetch(closed.server.url, { method: "POST", headers: mcpHeaders(), body: INIT_BODY });
    assertEquals(r.status, 403);
    assert((await r.json()).error.message.includes("network is not allowed"));
    const spoof = await fetch(closed.server.url, {
      method: "POST",
      headers: mcpHeaders({ "x-forwarded-for": "10.1.2.3" }),
      body: INIT_BODY,
    });
    assertEquals(spoof.status, 403, "X-Forwarded-For from an untrusted peer is ignored");
    await spoof.body?.cancel();
  } finally {
    await closed.close();
  }
  const proxied = await startTestServer({ allowNetworks: ["203.0.113.0/24"], trustedProxies: ["127.0.0.1/32"] });
  try {
    const { token } = await proxied.devices.add({ name: "behind-proxy" });
    const viaProxy = await fetch(proxied.server.url, {
      method: "POST",
      headers: mcpHeaders({ authorization: `Bearer ${token}`, "x-forwarded-for": "203.0.113.5" }),
      body: INIT_BODY,
    });
    assertEquals(viaProxy.status, 200);
    await viaProxy.body?.cancel();
    const outside = await fetch(proxied.server.url, {
      method: "POST",
      headers: mcpHeaders({ authorization: `Bearer ${token}`, "x-forwarded-for": "198.51.100.1" }),
      body: INIT_BODY,
    });
    assertEquals(outside.status, 403);
    await outside.body?.cancel();
    assert(proxied.audit.entries.some((e) => e.remote === "203.0.113.5" && e.decision === "allowed"));
  } finally {
    await proxied.close();
  }
});

Deno.test("HTTP matrix: unsupported MCP-Protocol-Version → 400 (after authentication)", async () => {
  const t = await startTestServer();
  try {
    const { token } = await t.devices.add({ name: "v" });
    const bad = await fetch(t.server.url, {
      method: "POST",
      headers: mcpHeaders({ authorization: `Bearer ${token}`, "mcp-protocol-version": "2024-01-01" }),
      body: INIT_BODY,
    });
    assertEquals(bad.status, 400);
    assert((await bad.json()).error.message.includes("unsupported MCP-Protocol-Version"));
    const unauth = await fetch(t.server.url, {
      method: "POST",
      headers: mcpHeaders({ "mcp-protocol-version": "2024-01-01" }),
      body: INIT_BODY,
    });
    assertEquals(unauth.status, 401, "authentication comes before the version check");
    await unauth.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("HTTP matrix: a flood gets 429 with Retry-After; failed logins drain the bucket faster", async () => {
  const t = await startTestServer({ preAuth: { perMinute: 60, burst: 10, failureCost: 5 } });
  try {
    const { token } = await t.devices.add({ name: "flood" });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 12; i++) {
      const r = await fetch(t.server.url, {
        method: "POST",
        headers: mcpHeaders({ authorization: `Bearer ${token}` }),
        body: INIT_BODY,
      });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get("retry-after");
      await r.body?.cancel();
    }
    assertEquals(statuses.slice(0, 10), Array(10).fill(200));
    assertEquals(statuses.slice(10), [429, 429]);
    assertEquals(retryAfter, "1");
    assert(t.metrics.render().includes('pve_mcp_rate_limited_total{scope="pre_auth"} 2'));
  } finally {
    await t.close();
  }
  const g = await startTestServer({ preAuth: { perMinute: 60, burst: 10, failureCost: 5 } });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await fetch(g.server.url, {
        method: "POST",
        headers: mcpHeaders({ authorization: "Bearer guess" }),
        body: "{}",
      });
      statuses.push(r.status);
      await r.body?.cancel();
    }
    assertEquals(statuses, [401, 401, 429], "each failure costs 1 + 5 tokens of 10");
  } finally {
    await g.close();
  }
});

Deno.test("HTTP matrix: body limit 413, wrong path 404, GET on the stateless endpoint 405", async () => {
  const t = await startTestServer({ maxBodyBytes: 2048 });
  try {
    const { token } = await t.devices.add({ name: "b" });
    const auth = { authorization: `Bearer ${token}` };
    const big = await fetch(t.server.url, { method: "POST", headers: mcpHeaders(auth), body: "x".repeat(5000) });
    assertEquals(big.status, 413);
    await big.body?.cancel();
    const wrong = await fetch(t.server.url.replace("/mcp", "/other"), {
      method: "POST",
      headers: mcpHeaders(auth),
      body: "{}",
    });
    assertEquals(wrong.status, 404);
    await wrong.body?.cancel();
    const get = await fetch(t.server.url, { headers: { ...auth, accept: "text/event-stream" } });
    assertEquals(get.status, 405);
    await get.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("test mode: anonymous requests served on loopback only; refused for wide binds or networks", async () => {
  const anonymousPrincipal = { id: "conformance", transport: "http" as const, mode: "read-only" as const };
  const t = await startTestServer({ anonymousPrincipal });
  try {
    const { c, connect } = client(t.server.url, undefined);
    await connect();
    const r = await c.callTool({ name: "whoami", arguments: {} });
    assertEquals(JSON.parse((r.content as { text: string }[])[0]!.text).id, "conformance");
    await c.close();
    const bad = await fetch(t.server.url, {
      method: "POST",
      headers: mcpHeaders({ authorization: "Bearer nope" }),
      body: "{}",
    });
    assertEquals(bad.status, 401, "a presented credential is still checked");
    await bad.body?.cancel();
  } finally {
    await t.close();
  }
  await assertRejects(startTestServer({ anonymousPrincipal, host: "0.0.0.0" }), /loopback only/);
  await assertRejects(startTestServer({ anonymousPrincipal, allowNetworks: ["0.0.0.0/0"] }), /loopback only/);
});
