import { cephStatus, cephSummary, clusterInfo, sdnInfo } from "../../src/tools/cluster_extra.ts";
import { cleanDeep } from "../../src/guard/untrusted.ts";
import { haInfo } from "../../src/tools/ha.ts";
import { assert, assertEquals, callTool, errorOf, fakeInfra, HOSTILE } from "./infra_fake.ts";

Deno.test("cephSummary: health, checks (cleaned), daemons, OSDs, PGs, capacity", () => {
  const s = cleanDeep(cephSummary({
    health: {
      status: "HEALTH_WARN",
      checks: { OSD_DOWN: { severity: "HEALTH_WARN", summary: { message: `1 osds down ${HOSTILE}` } } },
    },
    quorum_names: ["pve1", "pve2", "pve3"],
    mgrmap: { available: true, num_standbys: 2 },
    osdmap: { num_osds: 6, num_up_osds: 5, num_in_osds: 6 },
    pgmap: {
      num_pgs: 129,
      pgs_by_state: [{ state_name: "active+clean", count: 129 }],
      bytes_used: 1024 ** 4,
      bytes_total: 4 * 1024 ** 4,
      read_bytes_sec: 2048,
    },
  })); // cleaned as the pipeline cleans every result
  assertEquals(s, {
    health: "HEALTH_WARN",
    checks: ["HEALTH_WARN OSD_DOWN: 1 osds down ok[31mevilend"],
    mons: "pve1,pve2,pve3",
    mgr: "available, 2 standby",
    osds: "6 total, 5 up, 6 in",
    pgs: "129 (129 active+clean)",
    used_gb: 1024,
    total_gb: 4096,
    io: "read 2 KiB/s, write 0 KiB/s",
  });
  assertEquals(
    cephSummary({ osdmap: { osdmap: { num_osds: 3, num_up_osds: 3, num_in_osds: 3 } } }).osds,
    "3 total, 3 up, 3 in",
  );
});

Deno.test("ceph_status, ha_info, sdn_info: one request each, compact tables", async () => {
  const { ctx, sent } = fakeInfra({
    "GET /cluster/ceph/status": { health: { status: "HEALTH_OK" } },
    "GET /cluster/ha/status/current": [{ id: "quorum", type: "quorum", status: "OK", quorate: 1, node: "pve1" }],
    "GET /cluster/ha/resources": [{ sid: "vm:101", type: "vm", state: "started", max_restart: 1 }],
    "GET /cluster/ha/groups": [{ group: "prefer1", nodes: "pve1:2,pve2", restricted: 0 }],
    "GET /cluster/ha/rules": [{ rule: "r1", type: "node-affinity", resources: "vm:101", nodes: "pve1", strict: 0 }],
    "GET /cluster/sdn/zones": [{ zone: "localnet", type: "simple", state: "available" }],
    "GET /cluster/sdn/vnets": [{ vnet: "vnet1", zone: "localnet", tag: 10 }],
    "GET /cluster/sdn/vnets/vnet1/subnets": [{
      subnet: "localnet-10.1.0.0-24",
      cidr: "10.1.0.0/24",
      gateway: "10.1.0.1",
    }],
  });
  assertEquals((await callTool(cephStatus, {}, ctx)).info, { health: "HEALTH_OK", checks: [] });
  assertEquals((await callTool(haInfo, {}, ctx)).rows, [["quorum", "quorum", "pve1", "OK", 1]]);
  assertEquals((await callTool(haInfo, { view: "resources" }, ctx)).rows, [["vm:101", "vm", "started", 1]]);
  assertEquals((await callTool(haInfo, { view: "groups" }, ctx)).rows?.length, 1);
  assertEquals((await callTool(haInfo, { view: "rules" }, ctx)).rows?.[0]?.[1], "node-affinity");
  assertEquals((await callTool(sdnInfo, {}, ctx)).rows, [["localnet", "simple", "available"]]);
  assertEquals((await callTool(sdnInfo, { view: "vnets", pending: true }, ctx)).rows, [["vnet1", "localnet", 10]]);
  assertEquals(sent.at(-1)?.params, { pending: "1" });
  assertEquals((await callTool(sdnInfo, { view: "subnets", vnet: "vnet1" }, ctx)).rows?.[0]?.[1], "10.1.0.0/24");
  assert((await errorOf(() => callTool(sdnInfo, { view: "subnets" }, ctx))).includes("pass vnet"), "needs vnet");
});

Deno.test("cluster_info: status, join (no secrets, fingerprints), replication jobs and node status", async () => {
  const fp = Array.from({ length: 32 }, () => "AB").join(":");
  const { ctx, sent } = fakeInfra({
    "GET /cluster/status": [{ type: "cluster", name: "c1", nodes: 2, quorate: 1, version: 4 }, {
      type: "node",
      name: "pve1",
      nodeid: 1,
      online: 1,
      local: 1,
      ip: "10.0.0.1",
    }],
    "GET /cluster/config/join": {
      config_digest: "d",
      preferred_node: "pve1",
      nodelist: [{
        name: "pve1",
        nodeid: 1,
        pve_addr: "10.0.0.1",
        pve_fp: fp,
        quorum_votes: 1,
        ring0_addr: "10.0.0.1",
      }],
      totem: { cluster_name: "c1", config_version: 4, link_mode: "passive", secauth: "on" },
    },
    "GET /cluster/replication": [{
      id: "101-0",
      guest: 101,
      target: "pve2",
      schedule: "*/15",
      type: "local",
      jobnum: 0,
    }],
    "GET /nodes/pve1/replication": [{
      id: "101-0",
      guest: 101,
      target: "pve2",
      last_sync: 100,
      fail_count: 1,
      error: HOSTILE,
    }],
  });
  const st = await callTool(clusterInfo, {}, ctx);
  assertEquals(st.rows?.length, 2);
  const join = await callTool(clusterInfo, { view: "join" }, ctx);
  assertEquals(join.info, {
    preferred_node: "pve1",
    cluster_name: "c1",
    config_version: 4,
    link_mode: "passive",
    nodes: [`pve1 id 1 10.0.0.1 fp ${fp}`],
  });
  const jobs = await callTool(clusterInfo, { view: "replication" }, ctx);
  assertEquals(jobs.rows, [["101-0", 101, "pve2", "*/15"]]);
  const node = await callTool(clusterInfo, { view: "replication", node: "pve1" }, ctx);
  assertEquals(node.rows?.[0]?.at(-1), "ok[31mevilend");
  assertEquals(sent.map((s) => s.path), [
    "/cluster/status",
    "/cluster/config/join",
    "/cluster/replication",
    "/nodes/pve1/replication",
  ]);
});
