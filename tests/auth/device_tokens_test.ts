import { deepStrictEqual as assertEquals, ok as assert, rejects as assertRejects } from "node:assert/strict";
import {
  DeviceTokenStore,
  generateDeviceToken,
  hashDeviceToken,
  principalForDevice,
} from "../../src/auth/device_tokens.ts";

async function tempStore(now: () => number = Date.now) {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-tokens-" });
  const path = `${dir}/sub/tokens.json`;
  const store = new DeviceTokenStore({ path, now });
  return {
    store,
    path,
    cleanup: async () => {
      await store.flush();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("device tokens: 256-bit base64url tokens with the pvemcp_ prefix", () => {
  const a = generateDeviceToken();
  assert(/^pvemcp_[A-Za-z0-9_-]{43}$/.test(a), a);
  assert(a !== generateDeviceToken());
});

Deno.test("device tokens: add stores only a hash, 0600; the token verifies and carries its caps", async () => {
  const t = await tempStore();
  try {
    const { token, info } = await t.store.add({ name: "laptop", mode: "read-only", toolsets: ["guests"] });
    const text = await Deno.readTextFile(t.path);
    assert(!text.includes(token), "the token itself must not be stored");
    assert(!text.includes(token.slice(7)), "no part of the token may be stored");
    assert(text.includes(hashDeviceToken(token)));
    assertEquals(((await Deno.stat(t.path)).mode ?? 0) & 0o777, 0o600);
    const check = await t.store.verify(token);
    assert(check.ok);
    assertEquals(check.token.name, "laptop");
    assertEquals(principalForDevice(check.token), {
      id: "device:laptop",
      transport: "http",
      mode: "read-only",
      toolsets: ["guests"],
    });
    assertEquals(info.source, "cli");
    assertEquals((await t.store.list()).map((x) => x.name), ["laptop"]);
    assert(!("hash" in (await t.store.list())[0]!));
  } finally {
    await t.cleanup();
  }
});

Deno.test("device tokens: unknown, malformed, expired and revoked tokens are refused with their reason", async () => {
  let now = Date.UTC(2026, 0, 1);
  const t = await tempStore(() => now);
  try {
    const short = await t.store.add({ name: "short", expiresInMs: 60_000 });
    const gone = await t.store.add({ name: "gone" });
    assertEquals(await t.store.verify("nope"), { ok: false, reason: "malformed" });
    assertEquals(await t.store.verify(generateDeviceToken()), { ok: false, reason: "unknown" });
    assert((await t.store.verify(short.token)).ok);
    now += 60_000;
    assertEquals(await t.store.verify(short.token), { ok: false, reason: "expired", name: "short" });
    await t.store.revoke("gone");
    assertEquals(await t.store.verify(gone.token), { ok: false, reason: "revoked", name: "gone" });
    await assertRejects(t.store.revoke("gone"), /no active token/);
  } finally {
    await t.cleanup();
  }
});

Deno.test("device tokens: names are checked and unique among active tokens; revoke by id works", async () => {
  const t = await tempStore();
  try {
    await assertRejects(t.store.add({ name: "bad name" }), /Invalid device name/);
    const a = await t.store.add({ name: "ci" });
    await assertRejects(t.store.add({ name: "ci" }), /active token has that name/);
    await t.store.revoke(a.info.id);
    const b = await t.store.add({ name: "ci" });
    assert((await t.store.verify(b.token)).ok);
  } finally {
    await t.cleanup();
  }
});

Deno.test("device tokens: last use is recorded, at most once a minute", async () => {
  let now = Date.UTC(2026, 0, 1);
  const t = await tempStore(() => now);
  try {
    const { token } = await t.store.add({ name: "d" });
    await t.store.verify(token);
    await t.store.flush(); // wait for the queued write
    assertEquals((await t.store.list())[0]?.lastUsed, "2026-01-01T00:00:00.000Z");
    now += 30_000;
    await t.store.verify(token);
    await t.store.flush();
    assertEquals((await t.store.list())[0]?.lastUsed, "2026-01-01T00:00:00.000Z");
    now += 30_000;
    await t.store.verify(token);
    await t.store.flush();
    assertEquals((await t.store.list())[0]?.lastUsed, "2026-01-01T00:01:00.000Z");
  } finally {
    await t.cleanup();
  }
});

Deno.test("device tokens: two stores on one file (server and CLI) see each other's changes and lose none", async () => {
  const t = await tempStore();
  try {
    const other = new DeviceTokenStore({ path: t.path });
    const made = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? t.store : other).add({ name: `dev${i}` })),
    );
    assertEquals((await t.store.list()).length, 10);
    await other.revoke("dev3");
    const check = await t.store.verify(made[3]!.token);
    assertEquals(check, { ok: false, reason: "revoked", name: "dev3" });
  } finally {
    await t.cleanup();
  }
});

Deno.test("device tokens: a damaged file gives a clear error", async () => {
  const t = await tempStore();
  try {
    await t.store.add({ name: "x" });
    await Deno.writeTextFile(t.path, "{not json");
    await assertRejects(t.store.list(), /not valid JSON/);
  } finally {
    await t.cleanup();
  }
});
