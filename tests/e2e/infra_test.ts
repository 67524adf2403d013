/**
 * Infrastructure tools end to end: real MCP client ↔ server (stdio subprocess) ↔ simulator (HTTPS). Nodes, storage,
 * tasks, metrics, firewall, access, pools, HA, Ceph, SDN and cluster tools, every action, asserting on the
 * simulator's state and on the requests the tools sent; at the end none of them failed schema validation (400/501).
 */
import { assert, assertEquals, call, type Sim, startStack } from "./harness.ts";

type Res = Awaited<ReturnType<typeof call>>;
type Out = Record<string, unknown>;
type Table = {
  columns: string[];
  rows: unknown[][];
  total?: number;
  info?: Out;
  log?: { untrusted: true; lines: string[] };
};

function ok(res: Res, what: string): Out {
  assert(!res.isError, `${what}: ${res.content[0]?.text}`);
  return res.structuredContent ?? {};
}

function table(res: Res, what: string): Table {
  return ok(res, what) as unknown as Table;
}

function fails(res: Res, pattern: RegExp, what: string): void {
  const text = res.content[0]?.text ?? "";
  assert(res.isError, `${what}: expected a tool error, got ${text}`);
  assert(pattern.test(text), `${what}: ${text}`);
}

function col(t: Table, name: string): unknown[] {
  const i = t.columns.indexOf(name);
  assert(i >= 0, `no column ${name} in ${t.columns.join(",")}`);
  return t.rows.map((r) => r[i]);
}

function writesSince(sim: Sim, mark: number): string[] {
  return sim.requests.slice(mark).filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);
}

const INFRA_TOOLS = [
  "node_info",
  "storage_info",
  "storage_volume",
  "task_info",
  "task_stop",
  "metrics_history",
  "firewall_info",
  "firewall_change",
  "access_info",
  "access_token",
  "pool_info",
  "pool_change",
  "ha_info",
  "ceph_status",
  "sdn_info",
  "cluster_info",
];

Deno.test("e2e: infrastructure tools against the simulator", async (t) => {
  const stack = await startStack({
    mode: "admin",
    env: {
      PROXMOX_MCP_CONFIRM_WITHOUT_ELICITATION: "allow",
      PROXMOX_MCP_TOOLSETS: "cluster,nodes,guests,storage,tasks,metrics,firewall,access,pools,ha,ceph,sdn",
      PROXMOX_MCP_PROTECTED_VMIDS: "111",
    },
    simOptions: { nodes: 3, guests: 12, seed: 5, taskDurationMs: 20 },
  });
  const { client, sim } = stack;
  const c = (name: string, args: Record<string, unknown> = {}) => call(client, name, args);
  try {
    await t.step("tools/list: every infrastructure tool is listed, compactly", async () => {
      const { tools } = await client.listTools();
      const names = tools.map((x) => x.name);
      for (const n of INFRA_TOOLS) assert(names.includes(n), `${n} is not listed`);
      const bytes = JSON.stringify(tools.filter((x) => INFRA_TOOLS.includes(x.name))).length;
      console.log(`infra tools: ${INFRA_TOOLS.length} tools, ${bytes} bytes of tools/list`);
      assert(bytes < 20_000, `infra tools take ${bytes} bytes of tools/list`);
    });

    await t.step("node_info: list, status, services, network, disks, syslog, journal, apt", async () => {
      assertEquals(col(table(await c("node_info"), "list"), "node"), ["pve1", "pve2", "pve3"]);
      const st = table(await c("node_info", { node: "pve1" }), "status");
      assert(
        typeof st.info?.cpu_pct === "number" && typeof st.info?.mem_total_gb === "number",
        JSON.stringify(st.info),
      );
      assert(String(st.info?.pveversion).startsWith("pve-manager/"), "version");
      assert(
        col(table(await c("node_info", { node: "pve1", view: "services" }), "svc"), "name").includes("pveproxy"),
        "svc",
      );
      assert(
        col(table(await c("node_info", { node: "pve2", view: "network" }), "net"), "iface").includes("vmbr0"),
        "net",
      );
      assertEquals(col(table(await c("node_info", { node: "pve1", view: "disks" }), "disks"), "devpath").length, 3);
      const sys = table(await c("node_info", { node: "pve1", view: "syslog", lines: 5 }), "syslog");
      assertEquals([sys.log?.untrusted, sys.log?.lines.length, sys.total], [true, 5, 400]);
      const j = table(await c("node_info", { node: "pve1", view: "journal", lines: 3 }), "journal");
      assertEquals(j.log?.lines.length, 3, "cursors are dropped");
      assert(!j.log?.lines.some((l) => l.startsWith("s=")), "no cursor lines");
      assert(
        col(table(await c("node_info", { node: "pve3", view: "apt" }), "apt"), "Package").includes("pve-manager"),
        "apt",
      );
      fails(await c("node_info", { node: "nosuch" }), /hostname lookup 'nosuch' failed/, "unknown node");
    });

    await t.step("storage_info: cluster-wide in one request, per node, status, content", async () => {
      const mark = sim.requests.length;
      const all = table(await c("storage_info"), "cluster list");
      assertEquals(sim.requests.slice(mark).map((r) => r.path), ["/cluster/resources"]);
      assert(col(all, "storage").includes("nas"), "nas listed");
      assert(
        col(table(await c("storage_info", { node: "pve1" }), "node list"), "storage").includes("local-lvm"),
        "lvm",
      );
      const st = table(await c("storage_info", { node: "pve1", storage: "local", view: "status" }), "status");
      assert(typeof st.info?.total_gb === "number", "status total");
      const isos = table(
        await c("storage_info", { node: "pve1", storage: "nas", content: "iso", limit: 2 }),
        "content",
      );
      assertEquals([isos.rows.length, isos.total], [2, 3]);
    });

    let downloadUpid = "";
    await t.step("storage_volume: download an ISO (checked URL, file name, checksum), then delete it", async () => {
      let mark = sim.requests.length;
      fails(
        await c("storage_volume", {
          action: "download",
          node: "pve1",
          storage: "local",
          url: "ftp://x/a.iso",
          filename: "a.iso",
        }),
        /scheme "ftp:" is not allowed/,
        "ftp",
      );
      fails(
        await c("storage_volume", {
          action: "download",
          node: "pve1",
          storage: "local",
          url: "https://x/a.iso",
          filename: "../a.iso",
        }),
        /no paths/,
        "path",
      );
      assertEquals(writesSince(sim, mark), [], "refused before anything was sent");
      const out = ok(
        await c("storage_volume", {
          action: "download",
          node: "pve1",
          storage: "local",
          url: "https://cdimage.example.org/debian-13.iso",
          filename: "debian-13.iso",
          checksum: "sha256:" + "a".repeat(64),
        }),
        "download",
      );
      assertEquals([out.status, out.ok], ["stopped", true]);
      downloadUpid = String(out.upid);
      const sent = sim.requests.findLast((r) => r.method === "POST" && r.path.endsWith("/download-url"));
      assertEquals(sent?.params["checksum-algorithm"], "sha256");
      assert(
        sim.state.volumes(sim.state.storages.get("local")!, "pve1").some((v) => v.volid === "local:iso/debian-13.iso"),
        "volume exists",
      );
      const bad = ok(
        await c("storage_volume", {
          action: "download",
          node: "pve1",
          storage: "local",
          url: "https://cdimage.example.org/other.iso",
          filename: "other.iso",
          checksum: "sha256:" + "0".repeat(64),
        }),
        "bad checksum",
      );
      assertEquals(bad.ok, false);
      assert(String(bad.exitstatus).includes("checksum mismatch"), String(bad.exitstatus));

      mark = sim.requests.length;
      const dry = ok(
        await c("storage_volume", {
          action: "delete",
          node: "pve1",
          storage: "local",
          volume: "local:iso/debian-13.iso",
          dry_run: true,
        }),
        "dry run",
      );
      const plan = dry.dry_run as Out;
      assert(String(plan.current).startsWith("exists"), JSON.stringify(plan));
      assertEquals(writesSince(sim, mark), [], "dry run changed nothing");
      const del = ok(
        await c("storage_volume", {
          action: "delete",
          node: "pve1",
          storage: "local",
          volume: "local:iso/debian-13.iso",
        }),
        "delete",
      );
      assertEquals(del.ok, true);
      assert(
        !sim.state.volumes(sim.state.storages.get("local")!, "pve1").some((v) => v.volid === "local:iso/debian-13.iso"),
        "gone",
      );
      fails(
        await c("storage_volume", {
          action: "delete",
          node: "pve3",
          storage: "local-lvm",
          volume: "local-lvm:vm-111-disk-0",
        }),
        /guest 111 is protected/,
        "protected guest's disk",
      );
    });

    await t.step("task_info and task_stop: list, status, log, wait, stop", async () => {
      const list = table(await c("task_info", { node: "pve1", limit: 100 }), "node list");
      assert(col(list, "upid").includes(downloadUpid), "the download is listed");
      const failed = table(await c("task_info", { errors: true }), "failed");
      assert(col(failed, "status").every((s) => s !== "OK"), "errors only");
      const st = table(await c("task_info", { action: "status", upid: downloadUpid }), "status");
      assertEquals([st.info?.status, st.info?.ok], ["stopped", true]);
      const log = table(await c("task_info", { action: "log", upid: downloadUpid }), "log");
      assertEquals(log.log?.lines.at(-1), "TASK OK");
      const running = sim.tasks.start({ node: "pve2", type: "vzdump", id: "104", user: "root@pam", durationMs: 400 });
      const waited = table(await c("task_info", { action: "wait", upid: running.upid, timeout: 30 }), "wait");
      assertEquals([waited.info?.status, waited.info?.ok], ["stopped", true]);
      const long = sim.tasks.start({ node: "pve2", type: "vzdump", id: "104", user: "root@pam", durationMs: 600_000 });
      const stop = ok(await c("task_stop", { upid: long.upid }), "stop");
      assertEquals(stop.stopped, true);
      assertEquals(sim.tasks.get(long.upid)?.exitstatus, "received interrupt");
      assertEquals(ok(await c("task_stop", { upid: long.upid }), "again").stopped, false);
      const prot = sim.tasks.start({
        node: "pve3",
        type: "qmigrate",
        id: "111",
        user: "root@pam",
        durationMs: 600_000,
      });
      fails(await c("task_stop", { upid: prot.upid }), /guest 111 is protected/, "protected guest's task");
      fails(await c("task_info", { action: "status", upid: "UPID:bogus" }), /Invalid UPID/, "bad upid");
    });

    await t.step("metrics_history: node, guest (by vmid alone) and storage, summarised", async () => {
      const node = ok(await c("metrics_history", { node: "pve1", timeframe: "day" }), "node");
      assertEquals(node.samples, 70);
      assert((node.stats as Out).cpu !== undefined && (node.points as Out).cpu !== undefined, "cpu stats and points");
      assert(JSON.stringify(node).length < 2500, `node summary ${JSON.stringify(node).length} bytes`);
      const g = ok(await c("metrics_history", { vmid: 104, timeframe: "week", cf: "MAX", points: 4 }), "guest");
      assertEquals(g.target, "lxc 104 on pve2");
      assertEquals(((g.points as Out).cpu as unknown[]).length, 4);
      const s = ok(await c("metrics_history", { node: "pve2", storage: "local-lvm", timeframe: "month" }), "storage");
      assertEquals((s.stats as Record<string, Out>).used?.unit, "GiB");
    });

    await t.step("firewall_info: cluster, node and guest scopes, every view", async () => {
      assert(col(table(await c("firewall_info"), "rules"), "action").includes("webservers"), "group rule");
      assertEquals(table(await c("firewall_info", { view: "options" }), "options").info?.policy_in, "DROP");
      assert(col(table(await c("firewall_info", { view: "aliases" }), "aliases"), "name").includes("gateway"), "alias");
      assert(
        col(table(await c("firewall_info", { view: "ipsets" }), "ipsets"), "name").includes("management"),
        "ipset",
      );
      assertEquals(
        col(table(await c("firewall_info", { view: "ipsets", name: "management" }), "entries"), "cidr").length,
        2,
      );
      assertEquals(col(table(await c("firewall_info", { view: "groups" }), "groups"), "group"), ["webservers"]);
      assertEquals(
        table(await c("firewall_info", { view: "groups", name: "webservers" }), "group rules").rows.length,
        2,
      );
      assertEquals(table(await c("firewall_info", { node: "pve2" }), "node rules").rows.length, 1);
      assertEquals(
        table(await c("firewall_info", { vmid: 104, view: "options" }), "guest options").info?.enable !== undefined,
        true,
      );
      fails(
        await c("firewall_info", { node: "pve1", view: "ipsets" }),
        /nodes have only rules and options/,
        "node ipsets",
      );
    });

    await t.step("firewall_change: rules, options, aliases and IP sets at each scope, with plans", async () => {
      // The cluster firewall reaches every guest: while a guest is protected, a change to it is refused unsent.
      const before = sim.requests.length;
      fails(
        await c("firewall_change", { action: "rule_add", fields: { type: "in", action: "ACCEPT", dport: "22" } }),
        /acts on many guests at once/,
        "cluster scope while a guest is protected",
      );
      assertEquals(writesSince(sim, before), [], "nothing sent");
      // The rest runs on a second server over the same simulator without protected guests.
      const open = await startStack({
        sim,
        mode: "admin",
        env: { PROXMOX_MCP_CONFIRM_WITHOUT_ELICITATION: "allow", PROXMOX_MCP_TOOLSETS: "firewall" },
      });
      const protectedServer = c;
      const c2 = (name: string, args: Record<string, unknown> = {}) => call(open.client, name, args);
      try {
        await firewallSteps(c2, protectedServer, sim);
      } finally {
        await open.close();
      }
    });

    await t.step("access_info and access_token: views; token create needs a secret store; delete", async () => {
      const users = table(await c("access_info"), "users");
      assert(col(users, "userid").includes("root@pam"), "root listed");
      assert(col(table(await c("access_info", { view: "groups" }), "groups"), "groupid").includes("admins"), "groups");
      assert(col(table(await c("access_info", { view: "roles" }), "roles"), "roleid").includes("PVEAuditor"), "roles");
      assert(col(table(await c("access_info", { view: "acl" }), "acl"), "ugid").includes("admins"), "acl");
      const tokens = table(await c("access_info", { view: "tokens" }), "tokens");
      assert(col(tokens, "tokenid").includes("mcp@pve!auditor"), "token listed");
      assertEquals(
        col(table(await c("access_info", { view: "tokens", userid: "mcp@pve" }), "own"), "tokenid").length,
        2,
      );
      const mark = sim.requests.length;
      fails(
        await c("access_token", { action: "create", userid: "ops@pve", tokenid: "ci" }),
        /no secret store/,
        "no store",
      );
      assertEquals(writesSince(sim, mark), [], "no token was created");
      const dry = ok(
        await c("access_token", { action: "delete", userid: "mcp@pve", tokenid: "auditor", dry_run: true }),
        "dry",
      );
      assert(String((dry.dry_run as Out).current).startsWith("exists"), JSON.stringify(dry));
      ok(await c("access_token", { action: "delete", userid: "mcp@pve", tokenid: "auditor" }), "delete");
      assert(
        !col(table(await c("access_info", { view: "tokens" }), "tokens"), "tokenid").includes("mcp@pve!auditor"),
        "gone",
      );
      assert(!JSON.stringify(sim.requests.slice(mark)).includes(sim.tokens.auditor.secret), "no secret in any request");
    });

    await t.step("pool_info and pool_change: create, add and remove a guest, delete; protection applies", async () => {
      const pools = table(await c("pool_info"), "pools");
      assert(col(pools, "poolid").length > 0, "seeded pools");
      const member = [...sim.state.guests.values()].find((g) => g.pool !== undefined && g.vmid !== 111)!;
      ok(await c("pool_change", { action: "create", poolid: "lab", comment: "lab machines" }), "create");
      assertEquals(sim.state.pools.get("lab")?.comment, "lab machines");
      ok(await c("pool_change", { action: "update", poolid: "lab", vmid: member.vmid }), "add");
      assertEquals(sim.state.guests.get(member.vmid)?.pool, "lab", "moved from its pool");
      assertEquals(col(table(await c("pool_info", { poolid: "lab" }), "members"), "vmid"), [member.vmid]);
      fails(await c("pool_change", { action: "delete", poolid: "lab" }), /is not empty/, "non-empty delete");
      ok(await c("pool_change", { action: "update", poolid: "lab", vmid: member.vmid, remove: true }), "remove");
      ok(await c("pool_change", { action: "update", poolid: "lab", storage: "nas" }), "storage");
      ok(await c("pool_change", { action: "update", poolid: "lab", storage: "nas", remove: true }), "storage out");
      ok(await c("pool_change", { action: "delete", poolid: "lab" }), "delete");
      assertEquals(sim.state.pools.has("lab"), false);
      fails(
        await c("pool_change", { action: "update", poolid: "web", vmid: 111, remove: true }),
        /guest 111 is protected/,
        "protected",
      );
    });

    await t.step("ha_info, ceph_status, sdn_info, cluster_info", async () => {
      assert(col(table(await c("ha_info"), "ha status"), "type").includes("quorum"), "quorum entry");
      table(await c("ha_info", { view: "resources" }), "ha resources");
      table(await c("ha_info", { view: "groups" }), "ha groups");
      table(await c("ha_info", { view: "rules" }), "ha rules");
      const ceph = table(await c("ceph_status"), "ceph");
      assertEquals([ceph.info?.health, ceph.info?.osds], ["HEALTH_OK", "6 total, 6 up, 6 in"]);
      assertEquals(col(table(await c("sdn_info"), "zones"), "zone"), ["lab", "vlans"]);
      assertEquals(col(table(await c("sdn_info", { view: "vnets" }), "vnets"), "vnet"), ["labnet", "dmz"]);
      assertEquals(col(table(await c("sdn_info", { view: "subnets", vnet: "labnet" }), "subnets"), "cidr"), [
        "10.50.0.0/24",
      ]);
      assertEquals(col(table(await c("cluster_info"), "status"), "type")[0], "cluster");
      const join = table(await c("cluster_info", { view: "join" }), "join");
      assertEquals(join.info?.cluster_name, sim.state.clusterName);
      assert((join.info?.nodes as string[])[0]!.includes(sim.fingerprint), "fingerprints");
      const jobs = table(await c("cluster_info", { view: "replication" }), "replication");
      assert(jobs.rows.length > 0, "replication jobs");
      const src = String(col(jobs, "source")[0]);
      assert(
        col(table(await c("cluster_info", { view: "replication", node: src }), "repl status"), "last_sync")[0],
        "status",
      );
    });

    await t.step("every request the tools sent was valid under the official schema (no 400, no 501)", () => {
      const bad = sim.requests.filter((r) => r.status === 400 || r.status === 501);
      assertEquals(bad.map((r) => `${r.method} ${r.path} ${r.status}`), [], "400/501 answers");
    });
  } finally {
    await stack.close();
  }
});

/** The firewall_change steps: `c` talks to a server without protected guests, `protectedServer` to one with 111. */
async function firewallSteps(
  c: (name: string, args?: Record<string, unknown>) => Promise<Res>,
  protectedServer: (name: string, args?: Record<string, unknown>) => Promise<Res>,
  sim: Sim,
) {
  ok(
    await c("firewall_change", {
      action: "rule_add",
      fields: { type: "in", action: "ACCEPT", proto: "tcp", dport: "443" },
      comment: "https",
    }),
    "rule_add",
  );
  let rules = table(await c("firewall_info"), "rules");
  assertEquals([col(rules, "dport")[0], col(rules, "comment")[0], col(rules, "enable")[0]], ["443", "https", 1]);
  ok(
    await c("firewall_change", { action: "rule_update", pos: 0, fields: { dport: "8443", enable: 0 } }),
    "rule_update",
  );
  rules = table(await c("firewall_info"), "rules");
  assertEquals([col(rules, "dport")[0], col(rules, "enable")[0]], ["8443", 0]);
  let mark = sim.requests.length;
  const dry = ok(await c("firewall_change", { action: "rule_delete", pos: 0, dry_run: true }), "dry run");
  assert(String((dry.dry_run as Out).current).includes("dport=8443"), JSON.stringify(dry));
  assertEquals(writesSince(sim, mark), [], "dry run changed nothing");
  ok(await c("firewall_change", { action: "rule_delete", pos: 0 }), "rule_delete");
  assert(!col(table(await c("firewall_info"), "rules"), "dport").includes("8443"), "deleted");
  mark = sim.requests.length;
  fails(
    await c("firewall_change", {
      action: "rule_add",
      fields: { type: "in", action: "ACCEPT", dport: "22", proto: "tcp", bogus: "1" },
    }),
    /bogus: property is not defined/,
    "unknown field",
  );
  assertEquals(writesSince(sim, mark), [], "refused before sending");

  ok(
    await c("firewall_change", { action: "options_set", fields: { log_ratelimit: "enable=1,rate=5/second" } }),
    "opts",
  );
  ok(await c("firewall_change", { action: "options_set", fields: { enable: 1, policy_in: "DROP" } }), "risky opts");
  assertEquals(table(await c("firewall_info", { view: "options" }), "options").info?.enable, 1);

  ok(
    await c("firewall_change", { action: "alias_add", name: "dbserver", cidr: "10.0.0.50", comment: "db" }),
    "alias_add",
  );
  ok(await c("firewall_change", { action: "alias_update", name: "dbserver", cidr: "10.0.0.51" }), "alias_update");
  assert(
    col(table(await c("firewall_info", { view: "aliases" }), "aliases"), "cidr").includes("10.0.0.51"),
    "updated",
  );
  ok(await c("firewall_change", { action: "alias_delete", name: "dbserver" }), "alias_delete");

  ok(await c("firewall_change", { action: "ipset_create", name: "backup_hosts" }), "ipset_create");
  ok(
    await c("firewall_change", {
      action: "ipset_add",
      name: "backup_hosts",
      cidr: "10.9.0.0/16",
      fields: { nomatch: false },
    }),
    "add",
  );
  assertEquals(col(table(await c("firewall_info", { view: "ipsets", name: "backup_hosts" }), "e"), "cidr"), [
    "10.9.0.0/16",
  ]);
  fails(await c("firewall_change", { action: "ipset_delete", name: "backup_hosts" }), /is not empty/, "non-empty");
  ok(await c("firewall_change", { action: "ipset_remove", name: "backup_hosts", cidr: "10.9.0.0/16" }), "remove");
  ok(await c("firewall_change", { action: "ipset_delete", name: "backup_hosts" }), "ipset_delete");

  ok(
    await c("firewall_change", {
      action: "rule_add",
      node: "pve1",
      fields: { type: "in", action: "ACCEPT", macro: "SSH", enable: 1 },
    }),
    "node rule",
  );
  ok(
    await c("firewall_change", {
      action: "rule_add",
      vmid: 104,
      fields: { type: "in", action: "ACCEPT", macro: "HTTP", enable: 1 },
    }),
    "guest rule",
  );
  assertEquals(col(table(await c("firewall_info", { vmid: 104 }), "guest rules"), "macro")[0], "HTTP");
  ok(await c("firewall_change", { action: "alias_add", vmid: 100, name: "peer", cidr: "10.0.0.7" }), "guest alias");
  fails(
    await protectedServer("firewall_change", {
      action: "rule_add",
      vmid: 111,
      fields: { type: "in", action: "DROP" },
    }),
    /guest 111 is protected/,
    "protected guest",
  );
}
