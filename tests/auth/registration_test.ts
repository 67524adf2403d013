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
