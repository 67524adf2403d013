/**
 * The raw-call classification table: every rule still names real endpoints, reads are reads, and the dangerous
 * endpoints are destructive or refused.
 */
import { listEndpoints } from "../../src/pve/contract.ts";
import { classifyRaw, RAW_RULES, rawTarget } from "../../src/tools/raw_classes.ts";
import { deepStrictEqual, ok } from "node:assert/strict";

const assert = (cond: unknown, msg: string) => ok(cond, msg);
const assertEquals = (a: unknown, b: unknown, msg?: string) => deepStrictEqual(a, b, msg);

Deno.test("raw classes: every rule matches at least one endpoint of the contract (no stale rules)", () => {
  const endpoints = listEndpoints();
  for (const rule of RAW_RULES) {
    const hit = endpoints.some((e) =>
      (rule.methods === "writes" ? e.method !== "GET" : true) &&
      (rule.methods === "writes" || (rule.methods as readonly string[]).includes(e.method)) &&
      rule.path.test(e.path)
    );
    assert(hit, `rule ${rule.path} (${rule.why}) matches no endpoint`);
  }
});

Deno.test("raw classes: GET is always read, DELETE always destructive, every write endpoint has a class", () => {
  for (const e of listEndpoints()) {
    const c = classifyRaw(e.method, e.path, {});
    if (e.method === "GET") assertEquals(c.cls, "read", `${e.method} ${e.path}`);
    else if (e.method === "DELETE") assertEquals(c.cls, "destructive", `${e.method} ${e.path}`);
    else assert(c.cls === "write" || c.cls === "destructive", `${e.method} ${e.path}: ${c.cls}`);
    assert(c.why.length > 5, `${e.method} ${e.path}: no reason`);
  }
});

Deno.test("raw classes: the dangerous endpoints are destructive or refused, harmless writes are writes", () => {
  const destructive: [string, string, Record<string, unknown>?][] = [
    ["POST", "/nodes/{node}/qemu/{vmid}/status/stop"],
    ["POST", "/nodes/{node}/qemu/{vmid}/status/reset"],
    ["POST", "/nodes/{node}/lxc/{vmid}/status/stop"],
    ["POST", "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback"],
    ["POST", "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback"],
    ["POST", "/nodes/{node}/qemu/{vmid}/template"],
    ["PUT", "/nodes/{node}/qemu/{vmid}/unlink"],
    ["POST", "/nodes/{node}/qemu", { vmid: 100, archive: "local:backup/x.vma.zst" }],
    ["POST", "/nodes/{node}/lxc", { vmid: 100, ostemplate: "x", restore: 1 }],
    ["PUT", "/nodes/{node}/qemu/{vmid}/config", { delete: "unused0" }],
    ["POST", "/nodes/{node}/qemu/{vmid}/move_disk", { disk: "scsi0", storage: "x", delete: 1 }],
    ["POST", "/nodes/{node}/vzdump", { remove: 1 }],
    ["POST", "/access/users"],
    ["PUT", "/access/acl"],
    ["POST", "/access/users/{userid}/token/{tokenid}"],
    ["PUT", "/cluster/firewall/options"],
    ["PUT", "/nodes/{node}/qemu/{vmid}/firewall/options"],
    ["PUT", "/nodes/{node}/disks/wipedisk"],
    ["POST", "/nodes/{node}/disks/initgpt"],
    ["POST", "/nodes/{node}/status"],
    ["POST", "/nodes/{node}/stopall"],
    ["POST", "/nodes/{node}/services/{service}/stop"],
    ["PUT", "/nodes/{node}/network"],
    ["PUT", "/cluster/sdn"],
    ["POST", "/cluster/config/join"],
    ["POST", "/nodes/{node}/ceph/osd/{osdid}/out"],
    ["PUT", "/nodes/{node}/qemu/{vmid}/sendkey"],
  ];
  for (const [m, p, params] of destructive) {
    assertEquals(classifyRaw(m as "POST", p, params ?? {}).cls, "destructive", `${m} ${p}`);
  }
  const refused: [string, string][] = [
    ["POST", "/nodes/{node}/qemu/{vmid}/agent/exec"],
    ["POST", "/nodes/{node}/qemu/{vmid}/agent/file-write"],
    ["POST", "/nodes/{node}/qemu/{vmid}/agent/set-user-password"],
    ["POST", "/nodes/{node}/qemu/{vmid}/agent"],
    ["POST", "/nodes/{node}/execute"],
    ["POST", "/nodes/{node}/termproxy"],
    ["POST", "/nodes/{node}/qemu/{vmid}/vncproxy"],
    ["POST", "/access/ticket"],
  ];
  for (const [m, p] of refused) assert(classifyRaw(m as "POST", p).refuse, `${m} ${p} is not refused`);
  for (const p of ["/nodes/{node}/qemu/{vmid}/agent/file-read", "/nodes/{node}/qemu/{vmid}/agent/exec-status"]) {
    const c = classifyRaw("GET", p);
    assert(c.cls === "read" && c.refuse?.includes("agent"), `GET ${p}: ${JSON.stringify(c)}`);
  }
  assertEquals(classifyRaw("GET", "/nodes/{node}/qemu/{vmid}/agent/get-osinfo").refuse, undefined);
  const writes: [string, string, Record<string, unknown>?][] = [
    ["POST", "/nodes/{node}/qemu/{vmid}/status/start"],
    ["POST", "/nodes/{node}/qemu/{vmid}/status/shutdown"],
    ["POST", "/nodes/{node}/qemu/{vmid}/snapshot"],
    ["PUT", "/nodes/{node}/qemu/{vmid}/config", { memory: 2048 }],
    ["POST", "/nodes/{node}/qemu", { vmid: 100 }],
    ["POST", "/nodes/{node}/vzdump", { vmid: "100" }],
    ["POST", "/cluster/firewall/rules"],
    ["POST", "/pools", { poolid: "p" }],
    ["POST", "/nodes/{node}/qemu/{vmid}/agent/ping"],
  ];
  for (const [m, p, params] of writes) {
    assertEquals(classifyRaw(m as "POST", p, params ?? {}).cls, "write", `${m} ${p}`);
  }
  assert(classifyRaw("POST", "/nodes/{node}/stopall").mass, "stopall is not marked as a mass action");
  assertEquals(classifyRaw("POST", undefined).cls, "destructive", "unknown write endpoint");
  assertEquals(classifyRaw("GET", undefined).cls, "read", "unknown GET");
});

Deno.test("raw classes: the guest a raw call touches is found in paths, parameters, HA ids, jobs and volumes", () => {
  assertEquals(rawTarget({ node: "pve1", vmid: "105" }), 105);
  assertEquals(rawTarget({ node: "pve1" }, { vmid: 120 }), 120);
  assertEquals(rawTarget({ sid: "vm:130" }), 130);
  assertEquals(rawTarget({ sid: "ct:131" }), 131);
  assertEquals(rawTarget({ id: "140-0" }), 140);
  assertEquals(rawTarget({ node: "pve1", storage: "local-lvm", volume: "local-lvm:vm-150-disk-0" }), 150);
  assertEquals(rawTarget({ volume: "local:backup/vzdump-qemu-151-2024_01_01-00_00_00.vma.zst" }), 151);
  assertEquals(rawTarget({ volume: "local:iso/debian.iso" }), undefined);
  assertEquals(rawTarget({ node: "pve1" }), undefined);
  assertEquals(rawTarget({}, { vmid: "100,101" }), undefined);
});
