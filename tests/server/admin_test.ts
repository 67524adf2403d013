import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { startAdminServer } from "../../src/server/admin.ts";
import { Metrics } from "../../src/server/http/metrics.ts";
import { DeviceTokenStore } from "../../src/auth/device_tokens.ts";
import { Registrations } from "../../src/auth/registration.ts";
import { MemoryAuditSink } from "../../src/audit/memory.ts";
import { rawRequest } from "./http/helpers.ts";

const ADMIN = "admin-token-0123456789abcdef";

async function setup(opts: { adminToken?: string; ready?: () => Promise<string | undefined> } = { adminToken: ADMIN }) {
  const dir = await Deno.makeTempDir();
  const devices = new DeviceTokenStore({ path: `${dir}/tokens.json` });
  const metrics = new Metrics();
  const audit = new MemoryAuditSink();
  const admin = await startAdminServer({
    host: "127.0.0.1",
    port: 0,
    ...(opts.adminToken !== undefined && { adminToken: opts.adminToken }),
    metrics,
    devices,
    registrations: new Registrations(devices),
    audit,
    ready: opts.ready ?? (() => Promise.resolve(undefined)),
  });
  const call = (path: string, init: RequestInit & { admin?: boolean } = {}) => {
    const headers = new Headers(init.headers);
    if (init.admin) headers.set("authorization", `Bearer ${ADMIN}`);
    return fetch(`${admin.url}${path}`, { ...init, headers });
  };
  return {
    admin,
    devices,
    metrics,
    audit,
    call,
    close: async () => {
      await admin.close();
      await devices.flush();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("admin: healthz, readyz (up and down), metrics behind the admin token", async () => {
  let down: string | undefined;
  const s = await setup({ adminToken: ADMIN, ready: () => Promise.resolve(down) });
  try {
    assertEquals(await (await s.call("/healthz")).text(), "ok\n");
    assertEquals(await (await s.call("/readyz")).json(), { ready: true });
    s.metrics.onCall("guest_list", "ok", 5);
    const noAuth = await s.call("/metrics");
    assertEquals(noAuth.status, 401);
    await noAuth.body?.cancel();
    const m = await s.call("/metrics", { admin: true });
    assertEquals(m.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const text = await m.text();
    assert(text.includes('pve_mcp_tool_calls_total{tool="guest_list",outcome="ok"} 1'));
    assert(text.includes('pve_mcp_auth_failures_total{reason="admin token"} 1'));
  } finally {
    await s.close();
  }
  const d = await setup({ ready: () => Promise.reject(new Error("Cannot connect to pve1:8006")) });
  try {
    const r = await d.call("/readyz");
    assertEquals(r.status, 503);
    assertEquals(await r.json(), { ready: false, reason: "Cannot connect to pve1:8006" });
    const mgmt = await d.call("/tokens");
    assertEquals(mgmt.status, 403, "no admin token configured: management is off");
    await mgmt.body?.cancel();
  } finally {
    await d.close();
  }
});

Deno.test("admin: registration end to end — device asks, operator approves over the API, device fetches once", async () => {
  const s = await setup();
  try {
    const ask = await s.call("/register", { method: "POST", body: JSON.stringify({ name: "phone", mode: "admin" }) });
    assertEquals(ask.status, 202);
    const ticket = await ask.json();
    assert(ticket.id && ticket.code && ticket.pollSecret && ticket.poll === `/register/${ticket.id}`);
    const poll = () => s.call(ticket.poll, { method: "POST", body: JSON.stringify({ pollSecret: ticket.pollSecret }) });
    const p1 = await poll();
    assertEquals([p1.status, (await p1.json()).status], [202, "pending"]);

    const listNoAuth = await s.call("/requests");
    assertEquals(listNoAuth.status, 401);
    assertEquals(listNoAuth.headers.get("www-authenticate"), 'Bearer realm="pve-mcp-admin"');
    await listNoAuth.body?.cancel();
    const list = await (await s.call("/requests", { admin: true })).json();
    assertEquals(list.map((r: { code: string; status: string }) => [r.code, r.status]), [[ticket.code, "pending"]]);

    const approve = await s.call(`/requests/${ticket.code}/approve`, {
      method: "POST",
      admin: true,
      body: JSON.stringify({ mode: "operator", toolsets: ["guests"], expires: "30d" }),
    });
    assertEquals(approve.status, 200);
    assertEquals((await approve.json()).mode, "operator");

    const p2 = await poll();
    assertEquals(p2.status, 200);
    const got = await p2.json();
    assertEquals([got.status, got.mode, got.toolsets], ["approved", "operator", ["guests"]]);
    assert((await s.devices.verify(got.token)).ok);
    const p3 = await poll();
    assertEquals(p3.status, 410);
    await p3.body?.cancel();

    const tokens = await (await s.call("/tokens", { admin: true })).json();
    assertEquals(tokens.map((t: { name: string }) => t.name), ["phone"]);
    assert(!JSON.stringify(tokens).includes(got.token));
    const revoke = await s.call("/tokens/phone", { method: "DELETE", admin: true });
    assertEquals(revoke.status, 200);
    await revoke.body?.cancel();
    assertEquals((await s.devices.verify(got.token)).ok, false);
    // The audit write follows the answer: poll for it instead of sleeping a fixed time.
    for (let i = 0; i < 200 && !s.audit.entries.some((e) => e.tool === "tokens.revoke"); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert(s.audit.entries.some((e) => e.tool === "requests.approve"));
    assert(s.audit.entries.some((e) => e.tool === "tokens.revoke"));
    assert(!JSON.stringify(s.audit.entries).includes(got.token));
  } finally {
    await s.close();
  }
});

Deno.test("admin: browsers and foreign Host names are refused; registration is rate limited", async () => {
  const s = await setup();
  try {
    const o = await s.call("/healthz", { headers: { origin: "http://localhost" } });
    assertEquals(o.status, 403);
    await o.body?.cancel();
    const h = await rawRequest(`${s.admin.url}/healthz`, { headers: { host: "evil.example" } });
    assertEquals(h.status, 403);
    assertEquals((await rawRequest(`${s.admin.url}/healthz`, { headers: { host: "localhost:1" } })).status, 200);
    let last = 0;
    for (let i = 0; i < 12; i++) {
      const r = await s.call("/register", { method: "POST", body: JSON.stringify({ name: `d${i}` }) });
      last = r.status;
      await r.body?.cancel();
    }
    assertEquals(last, 429);
  } finally {
    await s.close();
  }
});

Deno.test("admin: a loopback flood fills only its own share of the queue, and the operator purges it", async () => {
  const s = await setup();
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await s.call("/register", { method: "POST", body: JSON.stringify({ name: `flood${i}` }) });
      statuses.push(r.status);
      await r.body?.cancel();
    }
    assertEquals(statuses, [202, 202, 202, 400, 400]);
    const purgeNoAuth = await s.call("/requests", { method: "DELETE" });
    assertEquals(purgeNoAuth.status, 401);
    await purgeNoAuth.body?.cancel();
    assertEquals((await (await s.call("/requests", { admin: true })).json()).length, 3);
    const purge = await s.call("/requests", { method: "DELETE", admin: true });
    assertEquals([purge.status, await purge.json()], [200, { removed: 3 }]);
    assertEquals(await (await s.call("/requests", { admin: true })).json(), []);
    const again = await s.call("/register", { method: "POST", body: JSON.stringify({ name: "legit" }) });
    assertEquals(again.status, 202);
    await again.body?.cancel();
    assert(s.audit.entries.some((e) => e.tool === "requests.purge"));
  } finally {
    await s.close();
  }
});
