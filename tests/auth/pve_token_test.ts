import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { parsePveTokenHeader, type PveTokenCredential, PveTokenVerifier } from "../../src/auth/pve_token.ts";
import { type PveApi, PveError, type PveRequest } from "../../src/pve/types.ts";

Deno.test("parsePveTokenHeader: PVE's forms; split at the last '='; bad ids refused", () => {
  const secret = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  assertEquals(parsePveTokenHeader(`PVEAPIToken=monitor@pve!mcp=${secret}`), { tokenId: "monitor@pve!mcp", secret });
  assertEquals(parsePveTokenHeader(`PVEAPIToken monitor@pve!mcp=${secret}`), { tokenId: "monitor@pve!mcp", secret });
  assertEquals(parsePveTokenHeader(`PVEAPIToken=root%40pam!ci=${secret}`), { tokenId: "root@pam!ci", secret });
  assertEquals(parsePveTokenHeader("Bearer x"), undefined);
  assertEquals(parsePveTokenHeader("PVEAPIToken=nouser=secret"), undefined);
  assertEquals(parsePveTokenHeader("PVEAPIToken=a@pve!x="), undefined);
});

function fakePve(valid: Record<string, Record<string, Record<string, number>>>) {
  const calls: string[] = [];
  let closed = 0;
  let down = false;
  const connect = (cred: PveTokenCredential): PveApi & { close(): void } => ({
    host: "pve.test:8006",
    close: () => void closed++,
    request<T>(req: PveRequest) {
      calls.push(`${cred.tokenId} ${req.path}`);
      if (down) return Promise.reject(new PveError("connection", "Cannot connect"));
      const perms = valid[`${cred.tokenId}=${cred.secret}`];
      if (perms === undefined) return Promise.reject(new PveError("auth", "401", { status: 401 }));
      return Promise.resolve({ data: (req.path === "/version" ? { version: "9.1" } : perms) as T });
    },
  });
  return { connect, calls, closed: () => closed, setDown: (v: boolean) => void (down = v) };
}

Deno.test("PveTokenVerifier: checks /version and /access/permissions, caches briefly, names only the token id", async () => {
  let now = 0;
  const pve = fakePve({ "ops@pve!mcp=s3cr3t-value": { "/vms": { "VM.Audit": 1 } } });
  const v = new PveTokenVerifier({ connect: pve.connect, now: () => now, cacheMs: 60_000 });
  const cred = { tokenId: "ops@pve!mcp", secret: "s3cr3t-value" };
  const ok = await v.verify(cred);
  assert(ok.ok);
  assertEquals(ok.identity.principal, { id: "pve:ops@pve!mcp", transport: "http" });
  assertEquals(ok.identity.permissions, { "/vms": { "VM.Audit": 1 } });
  assertEquals(pve.calls, ["ops@pve!mcp /version", "ops@pve!mcp /access/permissions"]);
  await v.verify(cred);
  assertEquals(pve.calls.length, 2, "cached");
  now += 60_001;
  await v.verify(cred);
  assertEquals(pve.calls.length, 4, "asked again after the cache time");
  assertEquals(pve.closed(), 1, "the expired entry's client was closed");
  const bad = await v.verify({ tokenId: "ops@pve!mcp", secret: "wrong" });
  assertEquals(bad, { ok: false, status: 401, reason: "PVE rejected token ops@pve!mcp" });
  assert(!JSON.stringify(bad).includes("wrong"));
});

Deno.test("PveTokenVerifier: a token without privileges is refused; PVE down gives 503 and is not cached", async () => {
  const pve = fakePve({ "empty@pve!x=s": {} });
  const v = new PveTokenVerifier({ connect: pve.connect });
  const empty = await v.verify({ tokenId: "empty@pve!x", secret: "s" });
  assert(!empty.ok && empty.status === 403);
  pve.setDown(true);
  const down = await v.verify({ tokenId: "a@pve!b", secret: "c" });
  assert(!down.ok && down.status === 503);
  const before = pve.calls.length;
  await v.verify({ tokenId: "a@pve!b", secret: "c" });
  assert(pve.calls.length > before, "a connection failure is not cached");
});

Deno.test("PveTokenVerifier: concurrent checks of one token share one round trip", async () => {
  const pve = fakePve({ "u@pve!t=s": { "/": { "Sys.Audit": 1 } } });
  const v = new PveTokenVerifier({ connect: pve.connect });
  const results = await Promise.all(Array.from({ length: 5 }, () => v.verify({ tokenId: "u@pve!t", secret: "s" })));
  assert(results.every((r) => r.ok));
  assertEquals(pve.calls.length, 2);
});
