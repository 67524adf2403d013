/**
 * The raw-call classification table: every rule still names real endpoints, reads are reads, and the dangerous
 * endpoints are destructive or refused.
 */
import { getEndpoint, listEndpoints } from "../../src/pve/contract.ts";
import { withDefaults } from "../../src/tools/raw_refs.ts";
import { classifyRaw, pathMatches, RAW_RULES, ruleFor } from "../../src/tools/raw_classes.ts";
import { deepStrictEqual, ok } from "node:assert/strict";

const assert = (cond: unknown, msg: string) => ok(cond, msg);
const assertEquals = (a: unknown, b: unknown, msg?: string) => deepStrictEqual(a, b, msg);

Deno.test("raw classes: every path of the table names an endpoint with one of its methods (no stale rows)", () => {
  const endpoints = listEndpoints();
  for (const rule of RAW_RULES) {
    for (const path of rule.paths) {
      const hit = endpoints.some((e) => rule.methods.includes(e.method) && pathMatches(path, e.path));
      assert(hit, `row ${path} (${rule.why}) matches no endpoint`);
    }
    assert(rule.cls !== "refused" || rule.instead, `refused row ${rule.paths[0]} says nothing to use instead`);
  }
});

Deno.test("raw classes: GET is a read, DELETE destructive, and every non-GET endpoint is reviewed", () => {
  const unreviewed: string[] = [];
  for (const e of listEndpoints()) {
    const c = classifyRaw(e.method, e.path, {});
    if (e.method === "GET") assertEquals(c.cls, "read", `${e.method} ${e.path}`);
    else if (e.method === "DELETE") assertEquals(c.cls, "destructive", `${e.method} ${e.path}`);
    if (e.method !== "GET" && !ruleFor(e.method, e.path)) unreviewed.push(`${e.method} ${e.path}`);
    assert(c.why.length > 5, `${e.method} ${e.path}: no reason`);
  }
  // Every write endpoint of PVE 9.1 has been looked at; a new one (a schema update) is refused until reviewed.
  assertEquals(unreviewed, []);
  const novel = classifyRaw("POST", "/nodes/{node}/brand-new-thing");
  assert(novel.refuse?.includes("not been reviewed"), JSON.stringify(novel));
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
    ["POST", "/nodes/{node}/vzdump", { vmid: "100" }], // remove defaults to 1 (defaults are applied by the caller)
    ["POST", "/nodes/{node}/vzdump", { all: 1, remove: 0 }],
    ["POST", "/nodes/{node}/vzdump", { vmid: "100", remove: 0, "prune-backups": "keep-last=1" }],
    ["POST", "/nodes/{node}/qemu/{vmid}/status/shutdown", { forceStop: 1 }],
    ["POST", "/nodes/{node}/lxc/{vmid}/status/shutdown", { forceStop: "true" }],
    ["POST", "/nodes/{node}/qemu/{vmid}/remote_migrate", { delete: 0 }],
    ["POST", "/nodes/{node}/lxc/{vmid}/remote_migrate", { delete: 1 }],
    ["POST", "/storage", { storage: "s", type: "dir" }],
    ["PUT", "/storage/{storage}"],
    ["POST", "/cluster/backup"],
    ["PUT", "/cluster/replication/{id}"],
    ["POST", "/cluster/notifications/endpoints/smtp"],
    ["PUT", "/cluster/metrics/server/{id}"],
    ["POST", "/cluster/acme/plugins"],
    ["PUT", "/pools", { poolid: "p", vms: "100", delete: 1 }],
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
  ];
  for (const [m, p, params] of destructive) {
    const full = withDefaults(getEndpoint(m, p)!, params ?? {});
    assertEquals(classifyRaw(m as "POST", p, full).cls, "destructive", `${m} ${p} ${JSON.stringify(params)}`);
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
    ["PUT", "/nodes/{node}/qemu/{vmid}/sendkey"],
    ["POST", "/nodes/{node}/qemu/{vmid}/monitor"],
    ["POST", "/access/users/{userid}/token/{tokenid}"],
    ["POST", "/nodes/{node}/qemu/{vmid}/mtunnel"],
    ["POST", "/nodes/{node}/qemu/{vmid}/agent/fsfreeze-freeze"],
    ["GET", "/nodes/{node}/qemu/{vmid}/agent/get-osinfo"],
    ["GET", "/nodes/{node}/qemu/{vmid}/cloudinit/dump"],
    ["GET", "/nodes/{node}/storage/{storage}/file-restore/list"],
    ["GET", "/nodes/{node}/storage/{storage}/file-restore/download"],
    ["GET", "/nodes/{node}/vncwebsocket"],
    ["GET", "/nodes/{node}/lxc/{vmid}/vncwebsocket"],
  ];
  for (const [m, p] of refused) assert(classifyRaw(m as "POST", p).refuse, `${m} ${p} is not refused`);
  const refusedWith: [string, string, Record<string, unknown>][] = [
    ["POST", "/nodes/{node}/vzdump", { vmid: "100", script: "/tmp/x.sh" }],
    ["PUT", "/nodes/{node}/qemu/{vmid}/config", { args: "-drive file=/etc/shadow" }],
    ["POST", "/nodes/{node}/lxc/{vmid}/config", { hookscript: "local:snippets/x.sh" }],
  ];
  for (const [m, p, params] of refusedWith) {
    assert(classifyRaw(m as "POST", p, params).refuse, `${m} ${p} ${JSON.stringify(params)} is not refused`);
  }
  for (const p of ["/nodes/{node}/qemu/{vmid}/agent/file-read", "/nodes/{node}/qemu/{vmid}/agent/exec-status"]) {
    const c = classifyRaw("GET", p);
    assert(c.cls === "read" && c.refuse?.includes("agent"), `GET ${p}: ${JSON.stringify(c)}`);
  }
  const writes: [string, string, Record<string, unknown>?][] = [
    ["POST", "/nodes/{node}/qemu/{vmid}/status/start"],
    ["POST", "/nodes/{node}/qemu/{vmid}/status/shutdown"],
    ["POST", "/nodes/{node}/qemu/{vmid}/snapshot"],
    ["PUT", "/nodes/{node}/qemu/{vmid}/config", { memory: 2048 }],
    ["POST", "/nodes/{node}/qemu", { vmid: 100 }],
    ["POST", "/nodes/{node}/vzdump", { vmid: "100", remove: 0 }],
    ["POST", "/cluster/firewall/rules"],
    ["PUT", "/pools", { poolid: "p", vms: "100", "allow-move": 1 }],
    ["POST", "/nodes/{node}/startall", { vms: "100" }],
    ["POST", "/pools", { poolid: "p" }],
    ["POST", "/nodes/{node}/qemu/{vmid}/agent/ping"],
  ];
  for (const [m, p, params] of writes) {
    assertEquals(classifyRaw(m as "POST", p, params ?? {}).cls, "write", `${m} ${p}`);
  }
  for (
    const [p, params] of [
      ["/nodes/{node}/stopall", {}],
      ["/nodes/{node}/startall", {}],
      ["/nodes/{node}/migrateall", { target: "pve2" }],
      ["/cluster/bulk-action/guest/shutdown", {}],
      ["/nodes/{node}/vzdump", { all: 1 }],
      ["/nodes/{node}/vzdump", { pool: "prod" }],
    ] as const
  ) assert(classifyRaw("POST", p, params).mass, `${p} ${JSON.stringify(params)} is not a mass action`);
  assertEquals(classifyRaw("POST", "/nodes/{node}/startall", { vms: "100,101" }).mass, undefined);
  assert(classifyRaw("POST", undefined).refuse, "unknown write endpoint");
});
