import { changeRequest, firewallChange, firewallClass, firewallInfo, firewallScope } from "../../src/tools/firewall.ts";
import { effectOf } from "../../src/tools/registry.ts";
import { assert, assertEquals, callTool, errorOf, fakeInfra, guest, HOSTILE } from "./infra_fake.ts";

const guests = [guest(105, "qemu", { node: "pve2" }), guest(300, "lxc", { node: "pve1" })];

Deno.test("firewall_info: scope from arguments; rules, options, aliases, IP sets, groups", async () => {
  const rules = [{
    pos: 0,
    type: "in",
    action: "ACCEPT",
    proto: "tcp",
    dport: "22",
    enable: 1,
    comment: HOSTILE,
    digest: "d",
  }];
  const { ctx, sent } = fakeInfra({
    "GET /cluster/firewall/rules": rules,
    "GET /nodes/pve1/firewall/rules": [],
    "GET /nodes/pve2/qemu/105/firewall/options": { enable: 1, policy_in: "DROP", digest: "x" },
    "GET /nodes/pve1/lxc/300/firewall/aliases": [{ name: "db", cidr: "10.0.0.5", digest: "x" }],
    "GET /cluster/firewall/ipset": [{ name: "mgmt", comment: "admins", digest: "x" }],
    "GET /cluster/firewall/ipset/mgmt": [{ cidr: "10.0.0.0/24", nomatch: 0 }],
    "GET /cluster/firewall/groups": [{ group: "web", comment: "" }],
    "GET /cluster/firewall/groups/web": rules,
  }, { guests });
  const r = await callTool(firewallInfo, {}, ctx);
  assertEquals(r.columns, ["pos", "type", "action", "proto", "dport", "enable", "comment"]);
  assertEquals(r.rows?.[0]?.[6], "ok[31mevilend");
  assertEquals(r.untrusted, ["comment"]);
  await callTool(firewallInfo, { node: "pve1" }, ctx);
  const o = await callTool(firewallInfo, { vmid: 105, view: "options" }, ctx);
  assertEquals(o.info, { enable: 1, policy_in: "DROP" });
  const a = await callTool(firewallInfo, { vmid: 300, view: "aliases" }, ctx);
  assertEquals(a.rows, [["db", "10.0.0.5"]]);
  assertEquals((await callTool(firewallInfo, { view: "ipsets" }, ctx)).rows, [["mgmt", "admins"]]);
  assertEquals((await callTool(firewallInfo, { view: "ipsets", name: "mgmt" }, ctx)).rows, [["10.0.0.0/24", 0]]);
  assertEquals((await callTool(firewallInfo, { view: "groups" }, ctx)).rows, [["web"]]);
  assertEquals((await callTool(firewallInfo, { view: "groups", name: "web" }, ctx)).rows?.length, 1);
  assertEquals(sent.map((s) => s.path).slice(0, 4), [
    "/cluster/firewall/rules",
    "/nodes/pve1/firewall/rules",
    "/nodes/pve2/qemu/105/firewall/options",
    "/nodes/pve1/lxc/300/firewall/aliases",
  ]);
  const msg = await errorOf(() => callTool(firewallInfo, { node: "pve1", view: "aliases" }, ctx));
  assert(msg.includes("nodes have only rules and options"), msg);
});

Deno.test("firewall_change: classes — deletes and enable/policy options are destructive", () => {
  const p = (a: Record<string, unknown>) => firewallChange.input.parse(a);
  assertEquals(firewallClass(p({ action: "rule_add", fields: { type: "in", action: "ACCEPT" } })), "write");
  assertEquals(firewallClass(p({ action: "rule_delete", pos: 1 })), "destructive");
  assertEquals(firewallClass(p({ action: "ipset_remove", name: "ab", cidr: "1.2.3.4" })), "destructive");
  assertEquals(firewallClass(p({ action: "options_set", fields: { log_level_in: "info" } })), "write");
  assertEquals(firewallClass(p({ action: "options_set", fields: { policy_in: "DROP" } })), "destructive");
  assertEquals(
    effectOf(firewallChange as never, p({ action: "options_set", fields: { enable: 1 } })).cls,
    "destructive",
  );
  const rule = { action: "rule_add", fields: { type: "in", action: "ACCEPT" } };
  assertEquals(effectOf(firewallChange as never, p({ ...rule, vmid: 105 })).guests, [{ vmid: 105, role: "target" }]);
  assertEquals(effectOf(firewallChange as never, p({ ...rule, node: "pve1" })).nodes, ["pve1"]);
  assert(effectOf(firewallChange as never, p(rule)).mass, "the cluster firewall reaches every guest");
});

Deno.test("firewall_change: every action builds a contract-valid request for cluster and guest scopes", async () => {
  const { ctx, sent } = fakeInfra({}, { guests });
  const cluster = await firewallScope({}, ctx);
  const vm = await firewallScope({ vmid: 105 }, ctx);
  const ct = await firewallScope({ vmid: 300 }, ctx);
  const cases: Record<string, unknown>[] = [
    {
      action: "rule_add",
      fields: { type: "in", action: "ACCEPT", proto: "tcp", dport: "443", enable: true },
      comment: "web",
    },
    { action: "rule_update", pos: 2, fields: { dport: "8443", delete: "comment" } },
    { action: "rule_delete", pos: 0 },
    { action: "options_set", fields: { enable: true, policy_in: "DROP" } },
    { action: "alias_add", name: "db1", cidr: "10.0.0.5" },
    { action: "alias_update", name: "db1", cidr: "10.0.0.6", fields: { rename: "db2" } },
    { action: "alias_delete", name: "db1" },
    { action: "ipset_create", name: "mgmt", comment: "admins" },
    { action: "ipset_delete", name: "mgmt" },
    { action: "ipset_add", name: "mgmt", cidr: "10.1.0.0/16", fields: { nomatch: true } },
    { action: "ipset_remove", name: "mgmt", cidr: "10.1.0.0/16" },
  ];
  for (const scope of [cluster, vm, ct]) {
    for (const c of cases) {
      if (scope.kind !== "cluster" && c.action === "options_set") c.fields = { enable: true, policy_in: "DROP" };
      const args = firewallChange.input.parse(c);
      const req = changeRequest(args, scope);
      const res = await ctx.pveWrite.request({ method: req.method, path: req.path, params: req.params }).catch((e) =>
        e
      );
      // 501 from the fake means the request validated and reached the route table.
      assert(!(res instanceof Error) || res.message.includes("not implemented"), `${scope.label} ${c.action}: ${res}`);
    }
  }
  assertEquals(sent.length, 33);
  assertEquals(
    sent.find((s) => s.method === "DELETE" && s.path.endsWith("/ipset/mgmt/10.1.0.0/16"))?.path,
    "/cluster/firewall/ipset/mgmt/10.1.0.0/16",
  );
  assertEquals(sent[0]?.params, {
    enable: "1",
    type: "in",
    action: "ACCEPT",
    proto: "tcp",
    dport: "443",
    comment: "web",
  });
  const off = changeRequest(
    firewallChange.input.parse({ action: "rule_add", fields: { type: "in", action: "DROP", enable: 0 } }),
    cluster,
  );
  assertEquals(off.params.enable, 0, "an explicit enable=0 wins");
  const on = changeRequest(
    firewallChange.input.parse({ action: "rule_add", fields: { type: "in", action: "DROP" } }),
    cluster,
  );
  assertEquals(on.params.enable, 1, "rules are added enabled (PVE's default is disabled)");
});

Deno.test("firewall_change: bad fields are refused before anything is sent", async () => {
  const { ctx, sent } = fakeInfra({}, { guests });
  const run = (a: Record<string, unknown>) => callTool(firewallChange, a, ctx);
  assert(
    (await errorOf(() => run({ action: "rule_add", fields: { type: "sideways", action: "ACCEPT" } }))).includes("type"),
    "enum",
  );
  assert(
    (await errorOf(() => run({ action: "rule_add", fields: { action: "ACCEPT", bogus: 1 } }))).includes("bogus"),
    "unknown",
  );
  assert(
    (await errorOf(() => run({ action: "rule_add", fields: { type: "in", action: "ACCEPT", x: { a: 1 } } }))).includes(
      "must be a string",
    ),
    "object",
  );
  assert((await errorOf(() => run({ action: "rule_delete" }))).includes("pass pos"), "pos");
  assert(
    (await errorOf(() => run({ action: "alias_add", node: "pve1", name: "ab", cidr: "1.1.1.1" }))).includes(
      "nodes have no aliases",
    ),
    "node alias",
  );
  assertEquals(sent.length, 0);
});

Deno.test("firewall_change: plans show the current rule, entry or options", async () => {
  const { ctx } = fakeInfra({
    "GET /cluster/firewall/rules": [{ pos: 0, type: "in", action: "ACCEPT", dport: "22" }, {
      pos: 1,
      type: "in",
      action: "DROP",
    }],
    "GET /nodes/pve2/qemu/105/firewall/options": { enable: 0 },
    "GET /cluster/firewall/ipset/mgmt": [{ cidr: "10.0.0.0/24" }],
  }, { guests });
  const p = (a: Record<string, unknown>) => firewallChange.plan!(firewallChange.input.parse(a), ctx);
  const del = await p({ action: "rule_delete", pos: 1 });
  assertEquals(del.current, "rule 1: pos=1 type=in action=DROP; 2 rules");
  const opt = await p({ action: "options_set", vmid: 105, fields: { enable: true } });
  assertEquals(opt.current, "enable=0");
  assert(opt.target.startsWith('qemu 105 "g105"'), opt.target);
  assertEquals((await p({ action: "ipset_remove", name: "mgmt", cidr: "10.0.0.0/24" })).current, "cidr=10.0.0.0/24");
  assertEquals((await p({ action: "ipset_delete", name: "mgmt" })).current, "1 entries");
});
