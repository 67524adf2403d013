import { deepStrictEqual as assertEquals, ok as assert, rejects as assertRejects } from "node:assert/strict";
import { DeviceTokenStore } from "../../src/auth/device_tokens.ts";
import { Registrations } from "../../src/auth/registration.ts";

async function setup(opts: { ttlMs?: number; maxPending?: number } = {}) {
  let now = Date.UTC(2026, 0, 1);
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-reg-" });
  const store = new DeviceTokenStore({ path: `${dir}/tokens.json`, now: () => now });
  return {
    store,
    reg: new Registrations(store, opts),
    path: `${dir}/tokens.json`,
    advance: (ms: number) => void (now += ms),
    cleanup: async () => {
      await store.flush();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("registration: ask → pending → approve → fetch once → token works with the operator's caps", async () => {
  const s = await setup();
  try {
    const ticket = await s.reg.request({ name: "phone", remote: "10.0.0.5", mode: "admin" });
    assert(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/.test(ticket.code));
    assertEquals(await s.reg.fetch(ticket.id, ticket.pollSecret), { status: "pending" });
    const pending = await s.reg.list();
    assertEquals(pending.map((r) => [r.name, r.status, r.requestedMode, r.remote]), [
      ["phone", "pending", "admin", "10.0.0.5"],
    ]);
    assert(!JSON.stringify(pending).includes(ticket.pollSecret));
    const approved = await s.reg.approve(ticket.code.toLowerCase(), { toolsets: ["guests"] });
    assertEquals([approved.name, approved.mode, approved.source], ["phone", "read-only", "registration"]);
    assertEquals(await s.reg.fetch(ticket.id, "wrong-secret"), { status: "unknown" });
    const got = await s.reg.fetch(ticket.id, ticket.pollSecret);
    assert(got.status === "approved");
    assertEquals([got.mode, got.toolsets], ["read-only", ["guests"]]);
    const check = await s.store.verify(got.token);
    assert(check.ok && check.token.name === "phone");
    assertEquals(await s.reg.fetch(ticket.id, ticket.pollSecret), { status: "fetched" });
    const text = await Deno.readTextFile(s.path);
    assert(!text.includes(got.token) && !text.includes(ticket.pollSecret), "no token or poll secret on disk");
  } finally {
    await s.cleanup();
  }
});

Deno.test("registration: the token does not work before approval, nor after a denial", async () => {
  const s = await setup();
  try {
    const t = await s.reg.request({ name: "tv" });
    await s.reg.deny(t.id);
    assertEquals(await s.reg.fetch(t.id, t.pollSecret), { status: "denied" });
    await assertRejects(s.reg.approve(t.id), /already denied/);
    assertEquals((await s.store.list()).length, 0);
  } finally {
    await s.cleanup();
  }
});

Deno.test("registration: requests expire; an approved token never fetched is revoked", async () => {
  const s = await setup({ ttlMs: 60_000 });
  try {
    const a = await s.reg.request({ name: "a" });
    const b = await s.reg.request({ name: "b" });
    await s.reg.approve(b.id);
    s.advance(61_000);
    assertEquals(await s.reg.fetch(a.id, a.pollSecret), { status: "unknown" });
    assertEquals(await s.reg.fetch(b.id, b.pollSecret), { status: "unknown" });
    assertEquals(await s.reg.list(), []);
    const tokens = await s.store.list();
    assert(tokens.every((x) => x.revoked !== undefined), "the unfetched token is revoked");
  } finally {
    await s.cleanup();
  }
});

Deno.test("registration: pending requests are bounded", async () => {
  const s = await setup({ maxPending: 2 });
  try {
    await s.reg.request({ name: "a" });
    await s.reg.request({ name: "b" });
    await assertRejects(s.reg.request({ name: "c" }), /already pending/);
    await assertRejects(s.reg.request({ name: "bad name!" }), /Invalid device name/);
  } finally {
    await s.cleanup();
  }
});

Deno.test("registration: pending requests per address are bounded; loopback counts as one address, IPv6 by /64", async () => {
  const s = await setup();
  try {
    // Two loopback addresses (and a mapped one) cannot fill the queue between them.
    await s.reg.request({ name: "l1", remote: "127.0.0.1" });
    await s.reg.request({ name: "l2", remote: "::1" });
    await s.reg.request({ name: "l3", remote: "127.0.0.2" });
    for (const remote of ["::1", "127.0.0.1", "::ffff:127.0.0.1", "[0:0:0:0:0:0:0:1]"]) {
      await assertRejects(s.reg.request({ name: "l4", remote }), /3 requests from this address are already pending/);
    }
    // One /64 is one address; the next /64 and other IPv4 addresses are not affected.
    for (const remote of ["2001:db8:1:2::1", "2001:db8:1:2:aaaa::9", "2001:0db8:0001:0002:ffff:ffff:ffff:ffff"]) {
      await s.reg.request({ name: "v6", remote });
    }
    await assertRejects(s.reg.request({ name: "v6", remote: "2001:db8:1:2::77" }), /from this address/);
    await s.reg.request({ name: "v6b", remote: "2001:db8:1:3::1" });
    await s.reg.request({ name: "v4", remote: "192.0.2.10" });
    await s.reg.request({ name: "v4", remote: "::ffff:192.0.2.11" });
    assertEquals((await s.reg.list()).filter((r) => r.status === "pending").length, 9);
  } finally {
    await s.cleanup();
  }
});

Deno.test("registration: the operator purges the queue; approved tokens not yet fetched are kept", async () => {
  const s = await setup({ maxPending: 3 });
  try {
    const kept = await s.reg.request({ name: "kept", remote: "192.0.2.1" });
    await s.reg.approve(kept.code);
    const denied = await s.reg.request({ name: "denied", remote: "192.0.2.2" });
    await s.reg.deny(denied.code);
    for (const i of [3, 4, 5]) await s.reg.request({ name: `flood${i}`, remote: `192.0.2.${i}` });
    await assertRejects(s.reg.request({ name: "late", remote: "192.0.2.9" }), /3 requests are already pending/);
    assertEquals(await s.reg.purge(), 4);
    assertEquals((await s.reg.list()).map((r) => r.name), ["kept"]);
    await s.reg.request({ name: "late", remote: "192.0.2.9" });
    assertEquals((await s.reg.fetch(kept.id, kept.pollSecret)).status, "approved");
  } finally {
    await s.cleanup();
  }
});
