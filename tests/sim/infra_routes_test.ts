/**
 * The simulator's infrastructure endpoints (node extras, RRD, downloads, firewall, access, pools, HA, Ceph, SDN,
 * join, replication): answers validate against the official `returns` schemas (with the keys real PVE sends beyond
 * them), and changes behave like PVE (checks, conflicts, effects).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Api, ManualClock } from "./helpers.ts";
import { validateReturns } from "./returns_validator.ts";
import { APIDATA_URL, apidataPresent } from "../referee/apidata_check.ts";

const present = apidataPresent();

// deno-lint-ignore no-explicit-any
type Schema = Record<string, any>;

/** Keys real PVE sends that its schema leaves out (firewall digests via copy_list_with_digest, HA and disk fields). */
const ALLOW: Record<string, string[]> = {
  rules: ["[].digest", ".digest"],
  options: [".digest"],
  "GET /cluster/ha/resources": [
    "[].type",
    "[].state",
    "[].max_restart",
    "[].max_relocate",
    "[].failback",
    "[].digest",
    "[].group",
    "[].comment",
  ],
  "GET /cluster/ha/rules": ["[].type", "[].resources", "[].nodes", "[].strict", "[].digest", "[].order", "[].affinity"],
  "GET /nodes/{node}/disks/list": ["[].type", "[].wearout", "[].rpm"],
  "GET /nodes/{node}/replication": [
    "type",
    "guest",
    "jobnum",
    "source",
    "target",
    "schedule",
    "rate",
    "last_sync",
    "last_try",
    "next_sync",
    "duration",
    "fail_count",
    "error",
    "vmtype",
  ].map((k) => `[].${k}`),
  "GET /cluster/sdn/vnets/{vnet}/subnets": [
    "[].subnet",
    "[].cidr",
    "[].gateway",
    "[].snat",
    "[].type",
    "[].vnet",
    "[].zone",
    "[].dhcp-range",
    "[].digest",
  ],
};

function allowFor(key: string): Set<string> {
  const extra = key.endsWith("/rules") || key.includes("/rules/") || key.includes("/groups/")
    ? ALLOW.rules
    : key.endsWith("/options")
    ? ALLOW.options
    : [];
  return new Set([...(ALLOW[key] ?? []), ...(extra ?? [])]);
}

Deno.test({
  name: "sim infra: GET answers validate against the official returns schemas (needs ../shared)",
  ignore: !present,
  fn: async () => {
    const returns = new Map<string, Schema>();
    const walk = (n: Schema) => {
      for (const [m, info] of Object.entries(n.info ?? {})) returns.set(`${m} ${n.path}`, (info as Schema).returns);
      for (const c of n.children ?? []) walk(c);
    };
    (JSON.parse(await Deno.readTextFile(APIDATA_URL)) as Schema[]).forEach(walk);
    await using api = await Api.start({ nodes: 3, guests: 30 });
    const qemu = [...api.sim.state.guests.values()].find((g) => g.type === "qemu" && !g.template)!;
    const lxc = [...api.sim.state.guests.values()].find((g) => g.type === "lxc" && !g.template)!;
    const q = `/nodes/${qemu.node}/qemu/${qemu.vmid}`;
    const c = `/nodes/${lxc.node}/lxc/${lxc.vmid}`;
    const cases: [string, string, string?][] = [
      ["GET /nodes/{node}/services", "/nodes/pve1/services"],
      ["GET /nodes/{node}/network", "/nodes/pve1/network"],
      ["GET /nodes/{node}/network", "/nodes/pve1/network", "type=bridge"],
      ["GET /nodes/{node}/disks/list", "/nodes/pve1/disks/list"],
      ["GET /nodes/{node}/syslog", "/nodes/pve1/syslog", "limit=5&service=pveproxy"],
      ["GET /nodes/{node}/journal", "/nodes/pve1/journal", "lastentries=5"],
      ["GET /nodes/{node}/apt/update", "/nodes/pve1/apt/update"],
      ["GET /nodes/{node}/rrddata", "/nodes/pve1/rrddata", "timeframe=day&cf=MAX"],
      ["GET /nodes/{node}/qemu/{vmid}/rrddata", `${q}/rrddata`, "timeframe=hour"],
      ["GET /nodes/{node}/lxc/{vmid}/rrddata", `${c}/rrddata`, "timeframe=year"],
      ["GET /nodes/{node}/storage/{storage}/rrddata", "/nodes/pve1/storage/local/rrddata", "timeframe=week"],
      [
        "GET /nodes/{node}/storage/{storage}/content/{volume}",
        "/nodes/pve1/storage/local-lvm/content/local-lvm:vm-100-disk-0",
      ],
      ["GET /cluster/firewall/rules", "/cluster/firewall/rules"],
      ["GET /cluster/firewall/rules/{pos}", "/cluster/firewall/rules/1"],
      ["GET /cluster/firewall/options", "/cluster/firewall/options"],
      ["GET /cluster/firewall/aliases", "/cluster/firewall/aliases"],
      ["GET /cluster/firewall/ipset", "/cluster/firewall/ipset"],
      ["GET /cluster/firewall/ipset/{name}", "/cluster/firewall/ipset/management"],
      ["GET /cluster/firewall/groups", "/cluster/firewall/groups"],
      ["GET /cluster/firewall/groups/{group}", "/cluster/firewall/groups/webservers"],
      ["GET /nodes/{node}/firewall/rules", "/nodes/pve1/firewall/rules"],
      ["GET /nodes/{node}/firewall/options", "/nodes/pve1/firewall/options"],
      ["GET /nodes/{node}/qemu/{vmid}/firewall/rules", `${q}/firewall/rules`],
      ["GET /nodes/{node}/qemu/{vmid}/firewall/options", `${q}/firewall/options`],
      ["GET /nodes/{node}/lxc/{vmid}/firewall/aliases", `${c}/firewall/aliases`],
      ["GET /nodes/{node}/lxc/{vmid}/firewall/ipset", `${c}/firewall/ipset`],
      ["GET /access/users", "/access/users", "full=1"],
      ["GET /access/groups", "/access/groups"],
      ["GET /access/roles", "/access/roles"],
      ["GET /access/acl", "/access/acl"],
      ["GET /access/users/{userid}/token", "/access/users/mcp@pve/token"],
      ["GET /access/users/{userid}/token/{tokenid}", "/access/users/mcp@pve/token/operator"],
      ["GET /cluster/ha/status/current", "/cluster/ha/status/current"],
      ["GET /cluster/ha/resources", "/cluster/ha/resources"],
      ["GET /cluster/ha/groups", "/cluster/ha/groups"],
      ["GET /cluster/ha/rules", "/cluster/ha/rules"],
      ["GET /cluster/ceph/status", "/cluster/ceph/status"],
      ["GET /cluster/sdn/zones", "/cluster/sdn/zones"],
      ["GET /cluster/sdn/vnets", "/cluster/sdn/vnets", "pending=1"],
      ["GET /cluster/sdn/vnets/{vnet}/subnets", "/cluster/sdn/vnets/labnet/subnets"],
      ["GET /cluster/config/join", "/cluster/config/join"],
      ["GET /cluster/replication", "/cluster/replication"],
      ["GET /nodes/{node}/replication", `/nodes/${qemu.node}/replication`],
    ];
    const problems: string[] = [];
    for (const [key, path, query] of cases) {
      const r = await api.call("GET", path, { auth: api.sim.tokens.admin.header, ...(query ? { query } : {}) });
      if (r.status !== 200) {
        problems.push(`${key}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
        continue;
      }
      assert(returns.has(key), `no schema for ${key}`);
      const errs = validateReturns(returns.get(key), r.body.data, allowFor(key));
      problems.push(...errs.slice(0, 5).map((e) => `${key}: ${e}`));
    }
    assertEquals(problems, []);
  },
});

Deno.test("sim infra: firewall rules, options, aliases and IP sets change like PVE", async () => {
  await using api = await Api.start({ nodes: 3, guests: 10 });
  const auth = api.sim.tokens.admin.header;
  const call = (method: string, path: string, form?: Record<string, string>) =>
    api.call(method, path, { auth, ...(form ? { form } : {}) });
  const before = await api.get("/cluster/firewall/rules");
  let r = await call("POST", "/cluster/firewall/rules", { type: "in", action: "ACCEPT", proto: "tcp", dport: "443" });
  assertEquals(r.status, 200);
  const after = await api.get("/cluster/firewall/rules");
  assertEquals(after.length, before.length + 1);
  assertEquals([after[0].dport, after[0].enable], ["443", 0], "new rules go on top, disabled unless enable is given");
  r = await call("PUT", "/cluster/firewall/rules/0", { enable: "1", moveto: "2", comment: "https" });
  assertEquals(r.status, 200);
  assertEquals((await api.get("/cluster/firewall/rules/2")).comment, "https");
  r = await call("POST", "/cluster/firewall/rules", { type: "in", action: "ALLOW" });
  assertEquals(r.status, 400);
  r = await call("POST", "/cluster/firewall/rules", { type: "group", action: "nosuchgroup" });
  assertEquals([r.status, r.body.message], [500, "security group 'nosuchgroup' does not exist\n"]);
  r = await call("POST", "/cluster/firewall/rules", { type: "in", action: "DROP", source: "+nosuchset" });
  assertEquals(r.status, 400);
  r = await call("DELETE", "/cluster/firewall/rules/99");
  assertEquals([r.status, r.body.message], [500, "no rule at position 99\n"]);
  r = await call("DELETE", "/cluster/firewall/rules/0", { digest: "0".repeat(40) });
  assertEquals(r.status, 501, "a body on DELETE is refused");
  r = await api.call("DELETE", "/cluster/firewall/rules/0", { auth, query: `digest=${"0".repeat(40)}` });
  assertEquals(r.status, 500, "an old digest is refused");

  assertEquals((await call("PUT", "/cluster/firewall/options", { enable: "1", policy_in: "REJECT" })).status, 200);
  const opts = await api.get("/cluster/firewall/options");
  assertEquals([opts.enable, opts.policy_in], [1, "REJECT"]);
  assertEquals((await call("PUT", "/cluster/firewall/options", { delete: "policy_in" })).status, 200);
  assertEquals((await api.get("/cluster/firewall/options")).policy_in, undefined);

  assertEquals((await call("POST", "/cluster/firewall/aliases", { name: "dbhost", cidr: "10.0.0.9" })).status, 200);
  assertEquals((await call("POST", "/cluster/firewall/aliases", { name: "dbhost", cidr: "10.0.0.9" })).status, 500);
  assertEquals(
    (await call("PUT", "/cluster/firewall/aliases/dbhost", { cidr: "10.0.0.10", rename: "db" })).status,
    200,
  );
  assert(
    (await api.get("/cluster/firewall/aliases")).some((a: { name: string; cidr: string }) =>
      a.name === "db" && a.cidr === "10.0.0.10"
    ),
  );

  assertEquals((await call("POST", "/cluster/firewall/ipset", { name: "web", comment: "web hosts" })).status, 200);
  assertEquals((await call("POST", "/cluster/firewall/ipset/web", { cidr: "10.1.0.0/16", nomatch: "1" })).status, 200);
  assertEquals(
    await api.get("/cluster/firewall/ipset/web").then((e: { cidr: string; nomatch: number }[]) =>
      e.map((x) => [x.cidr, x.nomatch])
    ),
    [["10.1.0.0/16", 1]],
  );
  r = await call("DELETE", "/cluster/firewall/ipset/web");
  assertEquals([r.status, r.body.message], [500, "IPSet 'web' is not empty\n"]);
  assertEquals(
    (await call("DELETE", "/cluster/firewall/ipset/web/10.1.0.0/16")).status,
    200,
    "the CIDR's slash stays a separator",
  );
  assertEquals((await call("DELETE", "/cluster/firewall/ipset/web")).status, 200);

  const g = [...api.sim.state.guests.values()].find((x) => x.type === "qemu")!;
  const base = `/nodes/${g.node}/qemu/${g.vmid}/firewall`;
  assertEquals(
    (await call("POST", `${base}/rules`, { type: "in", action: "ACCEPT", macro: "SSH", enable: "1" })).status,
    200,
  );
  assertEquals((await api.get(`${base}/rules`))[0].macro, "SSH");
  r = await call("GET", `/nodes/${g.node === "pve1" ? "pve2" : "pve1"}/qemu/${g.vmid}/firewall/rules`);
  assertEquals(r.status, 500, "wrong node for the guest");
});

Deno.test("sim infra: tokens, pools, downloads and logs", async () => {
  const clock = new ManualClock();
  await using api = await Api.start({ nodes: 3, guests: 10, now: clock.now, taskDurationMs: 1000 });
  const auth = api.sim.tokens.admin.header;
  const call = (method: string, path: string, form?: Record<string, string>) =>
    api.call(method, path, { auth, ...(form ? { form } : {}) });

  let r = await call("POST", "/access/users/ops@pve/token/ci", { comment: "CI", privsep: "1" });
  assertEquals(r.status, 200);
  assertEquals(r.body.data["full-tokenid"], "ops@pve!ci");
  assert(/^[0-9a-f-]{36}$/.test(r.body.data.value));
  assertEquals((await call("POST", "/access/users/ops@pve/token/ci")).status, 500);
  assertEquals((await call("POST", "/access/users/nobody@pve/token/ci")).body.message, "no such user ('nobody@pve')\n");
  const users = await api.get("/access/users");
  assert(users.some((u: { userid: string; tokens?: unknown }) => u.userid === "root@pam" && u.tokens === undefined));
  const full = (await api.call("GET", "/access/users", { auth, query: "full=1" })).body.data;
  assert(
    full.find((u: { userid: string }) => u.userid === "root@pam").tokens.some((t: { tokenid: string }) =>
      t.tokenid === "mcp-admin"
    ),
  );
  assertEquals((await call("DELETE", "/access/users/ops@pve/token/ci")).status, 200);
  assertEquals((await call("GET", "/access/users/ops@pve/token/ci")).status, 500);

  assertEquals((await call("POST", "/pools", { poolid: "lab", comment: "lab" })).status, 200);
  assertEquals((await call("POST", "/pools", { poolid: "lab" })).status, 500);
  const g = [...api.sim.state.guests.values()].find((x) => x.pool !== undefined)!;
  r = await call("PUT", "/pools", { poolid: "lab", vms: String(g.vmid) });
  assert(r.body.message.includes("allow-move is not set"), r.body.message);
  assertEquals((await call("PUT", "/pools", { poolid: "lab", vms: String(g.vmid), "allow-move": "1" })).status, 200);
  assertEquals(api.sim.state.guests.get(g.vmid)!.pool, "lab");
  r = await api.call("DELETE", "/pools", { auth, query: "poolid=lab" });
  assertEquals(r.body.message, "delete pool failed: pool 'lab' is not empty\n");
  assertEquals((await call("PUT", "/pools", { poolid: "lab", vms: String(g.vmid), delete: "1" })).status, 200);
  assertEquals((await api.call("DELETE", "/pools", { auth, query: "poolid=lab" })).status, 200);

  r = await call("POST", "/nodes/pve1/storage/local/download-url", {
    url: "https://example.com/debian-13.iso",
    filename: "debian-13.iso",
    content: "iso",
  });
  assertEquals(r.status, 200);
  const upid = r.body.data as string;
  clock.advance(1500);
  assertEquals((await api.get(`/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`)).exitstatus, "OK");
  const content = await api.get("/nodes/pve1/storage/local/content");
  assert(content.some((v: { volid: string }) => v.volid === "local:iso/debian-13.iso"));
  r = await call("POST", "/nodes/pve1/storage/local/download-url", {
    url: "https://example.com/x.iso",
    filename: "debian-13.iso",
    content: "iso",
  });
  assertEquals(r.body.message, "refusing to override existing file 'debian-13.iso'\n");
  r = await call("POST", "/nodes/pve1/storage/local-lvm/download-url", {
    url: "https://example.com/x.iso",
    filename: "x.iso",
    content: "iso",
  });
  assertEquals(r.body.message, "storage 'local-lvm' does not support content-type 'iso'\n");

  const log = await api.call("GET", "/nodes/pve1/syslog", { auth, query: "limit=3" });
  assertEquals([log.body.data.length, log.body.total], [3, 400]);
  assertEquals(log.body.data[2].n, 400, "without start, the newest lines");
  const j = (await api.call("GET", "/nodes/pve1/journal", { auth, query: "lastentries=2" })).body.data;
  assertEquals(j.length, 4, "two lines between two cursors");
  assert(j[0].startsWith("s=") && j[3].startsWith("s="), "journal lines are framed by cursors");
});
