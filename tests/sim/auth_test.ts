import { deepStrictEqual as assertEquals, match, ok as assert, strictEqual } from "node:assert/strict";
import { Api, ManualClock } from "./helpers.ts";

const rawGet = (path: string, auth?: string) =>
  `GET /api2/json${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${
    auth ? `Authorization: ${auth}\r\n` : ""
  }Connection: close\r\n\r\n`;

Deno.test("sim auth: API token accepted; bad or missing credentials give 401 with an empty body", async () => {
  await using api = await Api.start();
  const ok = await api.call("GET", "/version", { auth: api.sim.tokens.auditor?.header });
  strictEqual(ok.status, 200);
  strictEqual(ok.body.data.release, "9.1");

  const t = api.sim.tokens.admin;
  assert(t);
  for (
    const auth of [
      `PVEAPIToken=${t.tokenId}=wrong-secret`,
      `PVEAPIToken=nobody@pve!x=${t.secret}`,
      "PVEAPIToken=garbage",
      undefined,
    ]
  ) {
    const r = await api.call("GET", "/nodes", auth === undefined ? {} : { auth });
    strictEqual(r.status, 401, String(auth));
    strictEqual(r.text, "");
  }
  // the reason phrase carries PVE's text on the wire (Deno's fetch shows only the canonical phrase, so read it raw)
  strictEqual(await api.raw(rawGet("/nodes")), "HTTP/1.1 401 No ticket");
  strictEqual(await api.raw(rawGet("/nodes", "PVEAPIToken=a@pve!b=c")), "HTTP/1.1 401 Authentication failed!");
  // space instead of '=' and URL-escaped value are accepted like PVE does
  const spaced = await api.call("GET", "/version", {
    auth: `PVEAPIToken ${encodeURIComponent(`${t.tokenId}=${t.secret}`)}`,
  });
  strictEqual(spaced.status, 200);
  // records carry the auth id, never the secret
  const last = api.sim.requests.at(-1);
  strictEqual(last?.authId, t.tokenId);
  strictEqual(last?.authKind, "token");
  assert(!JSON.stringify(api.sim.requests).includes(t.secret));
});

Deno.test("sim auth: ticket login, cookie, CSRF required on writes, renewal, expiry after 2 h", async () => {
  const clock = new ManualClock();
  await using api = await Api.start({ now: clock.now });
  const { username, password } = api.sim.user;

  const bad = await api.call("POST", "/access/ticket", { form: { username, password: "nope" } });
  strictEqual(bad.status, 401);
  assertEquals(bad.body, { data: null, message: "authentication failure\n" });

  const login = await api.call("POST", "/access/ticket", { form: { username, password } });
  strictEqual(login.status, 200);
  const { ticket, CSRFPreventionToken: csrf } = login.body.data;
  match(ticket, /^PVE:root@pam:[0-9A-F]{8}::\S+$/);
  match(csrf, /^[0-9A-F]{8}:\S+$/);
  strictEqual(login.body.data.username, "root@pam");
  assert(login.body.data.cap.vms["VM.PowerMgmt"] === 1);
  assert(!JSON.stringify(api.sim.requests).includes(password), "password must be redacted in records");

  const cookie = { cookie: `PVEAuthCookie=${encodeURIComponent(ticket)}` };
  strictEqual((await api.call("GET", "/nodes", { headers: cookie })).status, 200);
  // Authorization: PVEAuthCookie=... works when there is no cookie
  strictEqual((await api.call("GET", "/nodes", { headers: { authorization: `PVEAuthCookie=${ticket}` } })).status, 200);

  const node = (await api.get("/nodes"))[0].node;
  const guest = (await api.get(`/nodes/${node}/qemu`)).find((g: { template?: number }) => !g.template);
  const path = `/nodes/${node}/qemu/${guest.vmid}/status/reboot`;
  const noCsrf = await api.call("POST", path, { headers: cookie });
  strictEqual(noCsrf.status, 401);
  strictEqual(noCsrf.text, "");
  const wrongCsrf = await api.call("POST", path, { headers: { ...cookie, CSRFPreventionToken: "00000000:abc" } });
  strictEqual(wrongCsrf.status, 401);
  const withCsrf = await api.call("POST", path, { headers: { ...cookie, CSRFPreventionToken: csrf } });
  strictEqual(withCsrf.status, 200);
  match(withCsrf.body.data, /^UPID:.*:qmreboot:\d+:root@pam:$/);

  // renew with the ticket as password
  clock.advance(3600_000);
  const renewed = await api.call("POST", "/access/ticket", { form: { username, password: ticket } });
  strictEqual(renewed.status, 200);
  const ticket2 = renewed.body.data.ticket;

  // the first ticket expires 2 h after issue; the renewed one still works
  clock.advance(3600_000 + 1000);
  strictEqual((await api.call("GET", "/nodes", { headers: cookie })).status, 401);
  strictEqual((await api.call("GET", "/nodes", { headers: { cookie: `PVEAuthCookie=${ticket2}` } })).status, 200);
  // an expired ticket cannot renew itself
  strictEqual((await api.call("POST", "/access/ticket", { form: { username, password: ticket } })).status, 401);
  // a forged ticket fails
  const forged = ticket2.replace("root@pam", "auditor@pve");
  strictEqual((await api.call("GET", "/nodes", { headers: { cookie: `PVEAuthCookie=${forged}` } })).status, 401);
});

Deno.test("sim auth: tokens are refused on allowtoken:0 endpoints; privileges give 403 like PVE", async () => {
  await using api = await Api.start();
  const { admin, auditor, operator } = api.sim.tokens;
  assert(admin && auditor && operator);
  const pw = await api.call("PUT", "/access/password", {
    auth: admin.header,
    form: { userid: "root@pam", password: "x" },
  });
  strictEqual(pw.status, 403);
  strictEqual(
    pw.body.message,
    "Permission check failed (URI '/access/password' not available with API token, need proper ticket.)\n",
  );

  const g = [...api.sim.state.guests.values()].find((x) => x.type === "qemu" && !x.template);
  assert(g);
  const path = `/nodes/${g.node}/qemu/${g.vmid}/status/start`;
  const denied = await api.call("POST", path, { auth: auditor.header });
  strictEqual(denied.status, 403);
  assertEquals(denied.body, { data: null, message: `Permission check failed (/vms/${g.vmid}, VM.PowerMgmt)\n` });
  strictEqual((await api.call("POST", path, { auth: operator.header })).status, 200);

  // "any" checks list the alternatives with |
  const custom = await Api.start({ tokens: { nobody: { tokenId: "nobody@pve!t", privs: ["VM.Audit"] } } });
  try {
    const r = await custom.call("GET", `/nodes/pve1/storage/local/status`, { auth: custom.sim.tokens.nobody?.header });
    strictEqual(r.status, 403);
    strictEqual(r.body.message, "Permission check failed (/storage/local, Datastore.Audit|Datastore.AllocateSpace)\n");
    // endpoints without declared permissions are root@pam only, even for an admin token
    const root = await custom.call("POST", "/nodes/pve1/execute", {
      auth: custom.sim.tokens.admin?.header,
      form: { commands: "[]" },
    });
    strictEqual(root.status, 403);
    strictEqual(root.body.message, "Permission check failed (user != root@pam)\n");
  } finally {
    await custom[Symbol.asyncDispose]();
  }
});

Deno.test("sim auth: pool-scoped ACL filters listings and grants on members only", async () => {
  await using api = await Api.start({
    guests: 40,
    tokens: { prod: { tokenId: "ops@pve!prod", acl: [{ path: "/pool/prod", privs: ["VM.Audit", "VM.PowerMgmt"] }] } },
  });
  const auth = api.sim.tokens.prod?.header;
  const all = [...api.sim.state.guests.values()];
  const prod = all.filter((g) => g.pool === "prod").map((g) => g.vmid).sort((a, b) => a - b);
  assert(prod.length > 0 && prod.length < all.length);
  const res = await api.call("GET", "/cluster/resources", { auth, query: "type=vm" });
  assertEquals(res.body.data.map((r: { vmid: number }) => r.vmid), prod);
  const other = all.find((g) => g.pool !== "prod" && !g.template);
  const member = all.find((g) => g.pool === "prod" && !g.template);
  assert(other && member);
  strictEqual(
    (await api.call("GET", `/nodes/${other.node}/${other.type}/${other.vmid}/status/current`, { auth })).status,
    403,
  );
  strictEqual(
    (await api.call("GET", `/nodes/${member.node}/${member.type}/${member.vmid}/status/current`, { auth })).status,
    200,
  );
  const perms = await api.call("GET", "/access/permissions", { auth, query: `path=/vms/${member.vmid}` });
  assertEquals(perms.body.data, { [`/vms/${member.vmid}`]: { "VM.Audit": 1, "VM.PowerMgmt": 1 } });
});

Deno.test("sim auth: optional delay before 401", async () => {
  await using api = await Api.start({ authFailureDelayMs: 150 });
  const t0 = performance.now();
  const r = await api.call("GET", "/nodes", { auth: "PVEAPIToken=a@pve!b=c" });
  strictEqual(r.status, 401);
  assert(performance.now() - t0 >= 140);
});
