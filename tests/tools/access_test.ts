import { accessInfo, accessToken, tokenSecretName } from "../../src/tools/access.ts";
import { effectOf } from "../../src/tools/registry.ts";
import { PveError } from "../../src/pve/types.ts";
import { assert, assertEquals, callTool, errorOf, fakeInfra, HOSTILE } from "./infra_fake.ts";

const SECRET = "5f0a3c1e-0000-4000-8000-123456789abc";
const users = [
  { userid: "root@pam", enable: 1, "realm-type": "pam", tokens: [{ tokenid: "mcp", privsep: 0 }] },
  { userid: "ops@pve", enable: 1, groups: "admins", comment: HOSTILE, tokens: [] },
];

Deno.test("access_info: users, groups, roles, acl and tokens as tables; no secrets", async () => {
  const { ctx, sent } = fakeInfra({
    "GET /access/users": users,
    "GET /access/groups": [{ groupid: "admins", users: "ops@pve" }],
    "GET /access/roles": [{ roleid: "PVEAuditor", special: 1, privs: "Sys.Audit,VM.Audit" }],
    "GET /access/acl": [{ path: "/", type: "token", ugid: "root@pam!mcp", roleid: "Administrator", propagate: 1 }],
    "GET /access/users/ops@pve/token": [{ tokenid: "ci", privsep: 1, expire: 0 }],
  });
  const u = await callTool(accessInfo, {}, ctx);
  assertEquals(u.columns, ["userid", "enable", "realm-type", "groups", "tokens", "comment"]);
  assertEquals(u.rows?.[0], ["ops@pve", 1, null, "admins", null, "ok[31mevilend"]);
  assertEquals(sent[0]?.params, { full: "1" });
  assertEquals((await callTool(accessInfo, { view: "groups" }, ctx)).rows, [["admins", "ops@pve"]]);
  assertEquals((await callTool(accessInfo, { view: "roles" }, ctx)).rows?.[0]?.[0], "PVEAuditor");
  assertEquals((await callTool(accessInfo, { view: "acl" }, ctx)).rows?.[0]?.[2], "root@pam!mcp");
  assertEquals((await callTool(accessInfo, { view: "tokens" }, ctx)).rows, [["root@pam!mcp", 0]]);
  assertEquals((await callTool(accessInfo, { view: "tokens", userid: "ops@pve" }, ctx)).rows, [["ops@pve!ci", 1, 0]]);
});

Deno.test("access_token: create without a secret store is refused before PVE is called", async () => {
  const { ctx, sent } = fakeInfra({});
  const msg = await errorOf(() => callTool(accessToken, { action: "create", userid: "ops@pve", tokenid: "ci" }, ctx));
  assert(msg.includes("no secret store"), msg);
  assertEquals(sent.length, 0);
});

Deno.test("access_token: create stores the secret and returns only its reference", async () => {
  const stored = new Map<string, string>();
  {
    const { ctx, sent } = fakeInfra({
      "POST /access/users/ops@pve/token/ci": {
        "full-tokenid": "ops@pve!ci",
        info: { privsep: 1, expire: 0 },
        value: SECRET,
      },
    });
    withStore(ctx, (name, value) => Promise.resolve(void stored.set(name, value)));
    const args = { action: "create", userid: "ops@pve", tokenid: "ci", comment: "CI" };
    assertEquals(effectOf(accessToken as never, accessToken.input.parse(args)).cls, "write");
    const out = await callTool<Record<string, unknown>>(accessToken, args, ctx);
    assertEquals(out, {
      tokenid: "ops@pve!ci",
      action: "created",
      secret_ref: "secret://pve-token.ops.pve.ci",
      privsep: true,
      expire: 0,
    });
    assertEquals(stored.get("pve-token.ops.pve.ci"), SECRET);
    assert(!JSON.stringify(out).includes(SECRET) && !accessToken.text(out as never).includes(SECRET), "secret leaked");
    assertEquals(sent[0]?.params, { comment: "CI", privsep: "1" });
  }
});

Deno.test("access_token: a store failure removes the new token again and never shows the secret", async () => {
  {
    const { ctx, sent } = fakeInfra({
      "POST /access/users/ops@pve/token/ci": { "full-tokenid": "ops@pve!ci", info: {}, value: SECRET },
      "DELETE /access/users/ops@pve/token/ci": null,
    });
    withStore(ctx, () => Promise.reject(new Error("disk full")));
    const msg = await errorOf(() => callTool(accessToken, { action: "create", userid: "ops@pve", tokenid: "ci" }, ctx));
    assert(msg.includes("token removed again") && !msg.includes(SECRET), msg);
    assertEquals(sent.map((s) => s.method), ["POST", "DELETE"]);
  }
});

/** Gives a fake tool context a secret store whose `set` is the given function. */
function withStore(ctx: object, set: (name: string, value: string) => Promise<void>): void {
  Object.assign(ctx, { secrets: { set } });
}

Deno.test("access_token: the context's secret store is used when it can store values", async () => {
  const stored = new Map<string, string>();
  const { ctx } = fakeInfra({
    "POST /access/users/ops@pve/token/ci": { "full-tokenid": "ops@pve!ci", info: {}, value: SECRET },
  });
  Object.assign(ctx, { secrets: { set: (n: string, v: string) => Promise.resolve(void stored.set(n, v)) } });
  const out = await callTool<Record<string, unknown>>(accessToken, {
    action: "create",
    userid: "ops@pve",
    tokenid: "ci",
  }, ctx);
  assertEquals(out.secret_ref, "secret://pve-token.ops.pve.ci");
  assertEquals(stored.size, 1);
});

Deno.test("access_token: delete and privsep=false are destructive, with plans", async () => {
  const { ctx } = fakeInfra({
    "GET /access/users/ops@pve/token/ci": { privsep: 1, expire: 0, comment: "CI" },
    "GET /access/users/ops@pve/token/gone": () => {
      throw new PveError("server", "no such token 'gone' for user 'ops@pve'", { status: 500 });
    },
  });
  const del = accessToken.input.parse({ action: "delete", userid: "ops@pve", tokenid: "ci" });
  assertEquals(effectOf(accessToken as never, del).cls, "destructive");
  assertEquals((await accessToken.plan!(del, ctx)).current, "exists, privsep 1, expire never");
  assertEquals((await accessToken.plan!({ ...del, tokenid: "gone" }, ctx)).current, "not found");
  const full = accessToken.input.parse({ action: "create", userid: "ops@pve", tokenid: "xx", privsep: false });
  assertEquals(effectOf(accessToken as never, full).cls, "destructive");
  assert((await accessToken.plan!(full, ctx)).effect.includes("every privilege of ops@pve"), "plan names the effect");
});

Deno.test("tokenSecretName: safe, lower-case, at most 64 characters and unique", () => {
  assertEquals(tokenSecretName("Ops@PVE", "CI"), "pve-token.ops.pve.ci");
  const a = tokenSecretName("a".repeat(60) + "@pve", "t1");
  const b = tokenSecretName("a".repeat(60) + "@pve", "t2");
  assert(a.length <= 64 && b.length <= 64 && a !== b, `${a} ${b}`);
  assert(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(tokenSecretName("x y@pam", "t")), "name is store-safe");
});

Deno.test("access_info: view secrets lists store names and dates, never values", async () => {
  const { ctx, sent } = fakeInfra({});
  const value = "canary-value-never-shown";
  Object.assign(ctx, {
    secrets: {
      list: () => Promise.resolve([{ name: "ci-pass", created: "2026-01-01", updated: "2026-01-01" }]),
      get: () => Promise.resolve(value),
    },
  });
  const out = await callTool<{ rows?: unknown[][]; columns?: string[] }>(accessInfo, { view: "secrets" }, ctx);
  assertEquals(out.rows?.[0]?.[0], "ci-pass");
  assert(!JSON.stringify(out).includes(value), "secret value leaked");
  assertEquals(sent.length, 0);
  const none = await callTool<{ total: number }>(accessInfo, { view: "secrets" }, fakeInfra({}).ctx);
  assertEquals(none.total, 0);
});
