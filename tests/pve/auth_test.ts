import { deepStrictEqual as assertEquals, ok as assert, throws as assertThrows } from "node:assert/strict";
import { createPveClient, type PveClientOptions } from "../../src/pve/client.ts";
import { PveError } from "../../src/pve/types.ts";
import { caught, closedPort, ok, pveError, type SeenRequest, startFakePve } from "./fake_pve.ts";

const PASSWORD = "Pw-canary-0123456789";
const MIN = 60_000;

/** A fake PVE with ticket login: valid tickets are remembered; `reject` makes it refuse every ticket (expired). */
function ticketPve(opts: { tfa?: boolean } = {}) {
  const state = {
    logins: 0,
    issued: 0,
    valid: new Map<string, string>(), // ticket → csrf
    rejectAll: false,
    expireOnce: false,
    served: [] as SeenRequest[],
  };
  const handler = (req: SeenRequest): Response => {
    if (req.path === "/access/ticket" && req.method === "POST") {
      state.logins++;
      if (req.form.get("username") !== "root@pam" || req.form.get("password") !== PASSWORD) {
        return pveError(401, "authentication failure");
      }
      if (opts.tfa) return ok({ ticket: "PVE:!tfa!x::sig", CSRFPreventionToken: "c", NeedTFA: 1 });
      const n = ++state.issued;
      const ticket = `PVE:root@pam:${n.toString(16).toUpperCase().padStart(8, "0")}::sig+/=${n}`;
      state.valid.set(ticket, `0000000${n}:csrf${n}`);
      return ok({ ticket, CSRFPreventionToken: state.valid.get(ticket), username: "root@pam" });
    }
    const m = /PVEAuthCookie=([^;]+)/.exec(req.headers.get("cookie") ?? "");
    const ticket = m ? decodeURIComponent(m[1]!) : "";
    if (state.expireOnce) {
      state.expireOnce = false;
      state.valid.clear();
    }
    const csrf = state.valid.get(ticket);
    if (state.rejectAll || csrf === undefined) return new Response(null, { status: 401 });
    if (req.method !== "GET" && req.headers.get("csrfpreventiontoken") !== csrf) {
      return new Response(null, { status: 401, statusText: "Permission denied - invalid csrf token" });
    }
    state.served.push(req);
    return ok({ ticket, method: req.method });
  };
  return { state, handler };
}

async function setup(extra: Partial<PveClientOptions> = {}, pveOpts: { tfa?: boolean } = {}) {
  const fake = ticketPve(pveOpts);
  const pve = await startFakePve(fake.handler);
  let t = 1_000_000;
  const clock = { advance: (ms: number) => (t += ms) };
  const client = createPveClient({
    host: pve.host,
    port: pve.port,
    tls: { caCertPem: pve.cert.caCertPem },
    auth: { user: "root", realm: "pam", password: PASSWORD },
    now: () => t,
    retries: 0,
    ...extra,
  });
  return {
    ...fake,
    pve,
    client,
    clock,
    async [Symbol.asyncDispose]() {
      client.close();
      await pve.close();
    },
  };
}

Deno.test("ticket login: form login, cookie on every call, CSRF header only on writes", async () => {
  await using s = await setup();
  const get = await s.client.request<{ ticket: string }>({ method: "GET", path: "/version" });
  await s.client.request({ method: "POST", path: "/nodes/pve1/qemu/100/status/start" });
  await s.client.request({ method: "DELETE", path: "/nodes/pve1/qemu/100/snapshot/x" });
  assertEquals(s.state.logins, 1);
  const login = s.pve.seen[0]!;
  assertEquals([login.method, login.path, login.headers.get("content-type")], [
    "POST",
    "/access/ticket",
    "application/x-www-form-urlencoded",
  ]);
  assertEquals(login.form.get("username"), "root@pam");
  assertEquals(login.headers.get("cookie"), null);
  assertEquals(login.headers.get("authorization"), null);
  assertEquals(get.data.ticket, "PVE:root@pam:00000001::sig+/=1");
  const [g, p, d] = s.state.served;
  assertEquals(g!.headers.get("csrfpreventiontoken"), null);
  assertEquals(p!.headers.get("csrfpreventiontoken"), "00000001:csrf1");
  assertEquals(d!.headers.get("csrfpreventiontoken"), "00000001:csrf1");
  assert(g!.headers.get("cookie")!.startsWith("PVEAuthCookie=PVE%3Aroot%40pam%3A00000001"), "url-encoded ticket");
});

Deno.test("ticket login: concurrent calls share one login", async () => {
  await using s = await setup();
  const results = await Promise.all(
    Array.from({ length: 8 }, () => s.client.request({ method: "GET", path: "/version" })),
  );
  assertEquals(results.length, 8);
  assertEquals(s.state.logins, 1);
});

Deno.test("ticket renewal: a new login once the ticket is an hour old (fake clock)", async () => {
  await using s = await setup();
  await s.client.request({ method: "GET", path: "/version" });
  s.clock.advance(59 * MIN);
  await s.client.request({ method: "GET", path: "/version" });
  assertEquals(s.state.logins, 1);
  s.clock.advance(2 * MIN);
  const renewed = await s.client.request<{ ticket: string }>({ method: "POST", path: "/x" });
  assertEquals(s.state.logins, 2);
  assertEquals(renewed.data.ticket, "PVE:root@pam:00000002::sig+/=2");
  assertEquals(s.state.served.at(-1)!.headers.get("csrfpreventiontoken"), "00000002:csrf2");
  // A custom renewal age is honoured.
  await using t = await setup({ ticketRenewAfterMs: 10 * MIN });
  await t.client.request({ method: "GET", path: "/version" });
  t.clock.advance(11 * MIN);
  await t.client.request({ method: "GET", path: "/version" });
  assertEquals(t.state.logins, 2);
});

Deno.test("a 401 with a ticket logs in again once and repeats the call (writes too: PVE refused it unrun)", async () => {
  await using s = await setup();
  await s.client.request({ method: "GET", path: "/version" });
  s.state.expireOnce = true;
  const res = await s.client.request<{ method: string }>({ method: "POST", path: "/nodes/pve1/qemu/100/status/start" });
  assertEquals(res.data.method, "POST");
  assertEquals(s.state.logins, 2);
  assertEquals(s.state.served.filter((r) => r.method === "POST").length, 1, "the write ran exactly once");
});

Deno.test("a persistent 401 fails after one new login with a clear auth error", async () => {
  await using s = await setup();
  await s.client.request({ method: "GET", path: "/version" });
  s.state.rejectAll = true;
  const before = s.pve.seen.length;
  const e = await caught(s.client.request({ method: "GET", path: "/nodes" }));
  assertEquals(e.kind, "auth");
  assertEquals(e.details.status, 401);
  assert(e.message.includes(`GET /nodes on 127.0.0.1:${s.pve.port}`), e.message);
  assert(e.message.includes("check the token id/secret or user/password"), e.message);
  assertEquals(s.state.logins, 2);
  assertEquals(s.pve.seen.length - before, 3, "request, login, request");
  assert(!e.message.includes(PASSWORD));
});

Deno.test("wrong password: one login attempt, clear message, no secret", async () => {
  await using s = await setup({ auth: { user: "root@pam", password: "Wrong-canary-password" } });
  const e = await caught(s.client.request({ method: "GET", path: "/version" }));
  assertEquals(e.kind, "auth");
  assert(e.message.startsWith(`Login to 127.0.0.1:${s.pve.port} as root@pam failed`), e.message);
  assert(e.message.includes("check the user name, realm and password"), e.message);
  assert(!e.message.includes("Wrong-canary-password"));
  assert(!JSON.stringify(e.details).includes("Wrong-canary-password"));
  assertEquals(s.state.logins, 1);
});

Deno.test("an account that needs TFA is refused with advice to use a token", async () => {
  await using s = await setup({}, { tfa: true });
  const e = await caught(s.client.request({ method: "GET", path: "/version" }));
  assertEquals(e.kind, "auth");
  assert(e.message.includes("second factor") && e.message.includes("API token"), e.message);
});

Deno.test("a failed login (server down) is not cached: the next call logs in again", async () => {
  const port = closedPort();
  const client = createPveClient({
    host: "127.0.0.1",
    port,
    tls: { insecure: true },
    auth: { user: "root@pam", password: PASSWORD },
    retries: 0,
  });
  try {
    for (let i = 0; i < 2; i++) {
      const e = await caught(client.request({ method: "GET", path: "/version" }));
      assertEquals(e.kind, "connection");
      assert(e.message.includes("POST /access/ticket"), e.message);
    }
  } finally {
    client.close();
  }
});

Deno.test("token 401: no login dance, one request, token named in the advice", async () => {
  const pve = await startFakePve(() => new Response(null, { status: 401 }));
  const client = createPveClient({
    host: pve.host,
    port: pve.port,
    tls: { caCertPem: pve.cert.caCertPem },
    auth: { tokenId: "monitor@pve!mcp", tokenSecret: "tok-canary-secret" },
  });
  try {
    const e = await caught(client.request({ method: "GET", path: "/version" }));
    assertEquals(e.kind, "auth");
    assert(e.message.includes("monitor@pve!mcp"), e.message);
    assertEquals(pve.seen.length, 1);
  } finally {
    client.close();
    await pve.close();
  }
});

Deno.test("bad credentials fail at creation and never echo a secret", () => {
  const cases: PveClientOptions["auth"][] = [
    { tokenId: "monitor@pve!mcp=sekrit-canary-1", tokenSecret: "x-sekrit-canary-2" },
    { tokenId: "monitor", tokenSecret: "sekrit-canary-3" },
    { tokenId: "monitor@pve!mcp", tokenSecret: "has space sekrit-canary-4" },
    { tokenId: "monitor@pve!mcp", tokenSecret: "" },
    { user: "root@pam", password: "" },
    { user: "bad user", password: "sekrit-canary-5" },
  ];
  for (const auth of cases) {
    assertThrows(
      () => createPveClient({ host: "pve1", auth }),
      (e: unknown) => e instanceof PveError && e.kind === "auth" && !/sekrit-canary/.test(e.message),
      JSON.stringify(auth),
    );
  }
});
