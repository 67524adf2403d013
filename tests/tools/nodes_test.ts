import { nodeInfo, nodeStatusInfo } from "../../src/tools/nodes.ts";
import { cleanDeep } from "../../src/guard/untrusted.ts";
import { PveError } from "../../src/pve/types.ts";
import type { ToolContext } from "../../src/tools/registry.ts";
import { assert, assertEquals, callTool, errorOf, fakeInfra, HOSTILE, withTotal } from "./infra_fake.ts";

const run = (args: Record<string, unknown>, ctx: ToolContext) => callTool(nodeInfo, args, ctx);

Deno.test("node_info: without node lists nodes sorted, CPU in %, memory in GiB", async () => {
  const { ctx, sent } = fakeInfra({
    "GET /nodes": [
      { node: "pve2", status: "offline" },
      { node: "pve1", status: "online", cpu: 0.1234, mem: 4 * 1024 ** 3, maxmem: 16 * 1024 ** 3, uptime: 99 },
    ],
  });
  const out = await run({}, ctx);
  assertEquals(out.columns, ["node", "status", "cpu_pct", "mem_used_gb", "mem_total_gb", "uptime"]);
  assertEquals(out.rows, [["pve1", "online", 12.3, 4, 16, 99], ["pve2", "offline", null, null, null, null]]);
  assertEquals(sent.map((s) => s.path), ["/nodes"]);
});

Deno.test("node_info: status is curated (no raw dump), with units", () => {
  const info = cleanDeep(nodeStatusInfo({
    cpu: 0.05,
    wait: 0.01,
    cpuinfo: { cpus: 16, model: "AMD EPYC\u200b 7302" },
    loadavg: ["0.50", "0.40", "0.30"],
    memory: { used: 2 * 1024 ** 3, total: 8 * 1024 ** 3 },
    rootfs: { used: 10 * 1024 ** 3, total: 100 * 1024 ** 3 },
    uptime: 1000,
    pveversion: "pve-manager/9.1.1/x",
    "current-kernel": { release: "6.17.2-1-pve" },
    "boot-info": { mode: "efi", secureboot: 1 },
    ksm: { shared: 0 },
  })); // cleaned as the pipeline cleans every result
  assertEquals(info, {
    cpu_pct: 5,
    iowait_pct: 1,
    cpus: 16,
    cpu_model: "AMD EPYC 7302",
    loadavg: [0.5, 0.4, 0.3],
    mem_used_gb: 2,
    mem_total_gb: 8,
    rootfs_used_gb: 10,
    rootfs_total_gb: 100,
    uptime: 1000,
    pveversion: "pve-manager/9.1.1/x",
    kernel: "6.17.2-1-pve",
    boot: "efi secureboot",
  });
});

Deno.test("node_info: services, network, disks as compact tables; empty columns dropped", async () => {
  const { ctx } = fakeInfra({
    "GET /nodes/pve1/services": [
      { service: "pveproxy", name: "pveproxy", state: "running", "active-state": "active", "unit-state": "enabled" },
    ],
    "GET /nodes/pve1/network": [
      { iface: "vmbr0", type: "bridge", active: 1, cidr: "10.0.0.5/24", bridge_ports: "eno1", comments: HOSTILE },
      { iface: "eno1", type: "eth", active: 1 },
    ],
    "GET /nodes/pve1/disks/list": [{ devpath: "/dev/sda", size: 512 * 1024 ** 3, model: "SSD", health: "PASSED" }],
  });
  const svc = await run({ node: "pve1", view: "services" }, ctx);
  assertEquals(svc.rows, [["pveproxy", "running", "active", "enabled"]]);
  const net = await run({ node: "pve1", view: "network" }, ctx);
  assertEquals(net.columns, ["iface", "type", "active", "cidr", "bridge_ports", "comments"]);
  assertEquals(net.rows?.[0]?.[0], "eno1");
  assertEquals(net.untrusted, ["comments"]);
  assertEquals(net.rows?.[1]?.[5], "ok[31mevilend", "comments are cleaned");
  const disks = await run({ node: "pve1", view: "disks" }, ctx);
  assertEquals(disks.rows, [["/dev/sda", 512, "SSD", "PASSED"]]);
});

Deno.test("node_info: syslog and journal tails are untrusted, cleaned, capped; journal cursors dropped", async () => {
  const long = "x".repeat(1000);
  const { ctx, sent } = fakeInfra({
    "GET /nodes/pve1/syslog": withTotal([{ n: 1, t: HOSTILE }, { n: 2, t: long }], 2),
    "GET /nodes/pve1/journal": [
      "s=abc123;i=1;b=ff;m=1;t=2;x=3",
      "Jan 1 line one",
      "Jan 1 line two",
      "s=abc123;i=9;b=ff;m=1;t=2;x=3",
    ],
  });
  const sys = await run({ node: "pve1", view: "syslog", lines: 20, service: "pveproxy" }, ctx);
  assertEquals(sent.at(-1)?.params, { limit: "20", service: "pveproxy" });
  assert(sys.log?.untrusted === true, "labelled untrusted");
  assertEquals(sys.log?.lines[0], "ok[31mevilend");
  assert((sys.log?.lines[1]?.length ?? 0) < 400, "a long line is cut");
  const j = await run({ node: "pve1", view: "journal", lines: 5 }, ctx);
  assertEquals(j.log?.lines, ["Jan 1 line one", "Jan 1 line two"]);
  assertEquals(sent.at(-1)?.params, { lastentries: "5" });
});

Deno.test("node_info: apt lists pending updates; a 403 names the privilege PVE requires", async () => {
  const { ctx } = fakeInfra({
    "GET /nodes/pve1/apt/update": [
      { Package: "pve-manager", OldVersion: "9.1.1", Version: "9.1.2", Priority: "optional", Origin: "Proxmox" },
    ],
    "GET /nodes/pve2/apt/update": () => {
      throw new PveError("permission", "Permission check failed (/nodes/pve2, Sys.Modify)", { status: 403 });
    },
  });
  const out = await run({ node: "pve1", view: "apt" }, ctx);
  assertEquals(out.rows, [["pve-manager", "9.1.1", "9.1.2", "optional", "Proxmox"]]);
  const msg = await errorOf(() => run({ node: "pve2", view: "apt" }, ctx));
  assert(msg.includes("Sys.Modify on /nodes/pve2"), msg);
});

Deno.test("node_info: text rendering is a short TSV", async () => {
  const { ctx } = fakeInfra({ "GET /nodes/pve1/services": [{ name: "cron", state: "running" }] });
  const out = await run({ node: "pve1", view: "services" }, ctx);
  assertEquals(nodeInfo.text(out), "(1 of 1)\nname\tstate\ncron\trunning");
});
