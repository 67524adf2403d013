/**
 * The raw tool's reference analysis against the official schema itself (not our contract): for EVERY endpoint of
 * apidata.json, every parameter whose format names a guest, volume, storage, node or pool (directly, as a list or
 * array, or as a key of a property string) is given a sample value, and the effect must name that object.
 * Parameters without such a format but with a telling name must be collected too, or be listed here with why not.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { getEndpoint } from "../../src/pve/contract.ts";
import { rawEffect } from "../../src/tools/raw_api.ts";
import { collectRefs, REF_FORMATS } from "../../src/tools/raw_refs.ts";
import type { Effect } from "../../src/core/mod.ts";
import type { PveMethod } from "../../src/pve/types.ts";

const APIDATA = new URL("../../../shared/pve-api/apidata.json", import.meta.url);
const schema = await Deno.readTextFile(APIDATA).then(JSON.parse).catch(() => undefined);
const ignore = schema === undefined;
if (ignore) console.warn(`skipping the schema walk: ${APIDATA.pathname} is absent (it lives outside the repository)`);

type Json = Record<string, unknown>;
interface Found {
  method: PveMethod;
  path: string;
  name: string;
  /** The value to send and what must appear in the effect. */
  value: unknown;
  expect: (e: Effect) => boolean;
  what: string;
}

const VMID = 4242;
const hasGuest = (vmid: number) => (e: Effect) => e.guests.some((g) => g.vmid === vmid);
const hasStorage = (s: string) => (e: Effect) => e.storages.includes(s);
const hasNode = (n: string) => (e: Effect) => e.nodes.includes(n);
const hasPool = (p: string) => (e: Effect) => e.pools.includes(p);
const both = (a: (e: Effect) => boolean, b: (e: Effect) => boolean) => (e: Effect) => a(e) && b(e);

/** A sample value for a reference format and what the effect must then contain. */
function sample(format: string, type: unknown): { value: unknown; expect: (e: Effect) => boolean } | undefined {
  const kind = REF_FORMATS[format];
  switch (kind) {
    case undefined:
      return undefined;
    case "vmid":
      return { value: type === "integer" ? VMID : String(VMID), expect: hasGuest(VMID) };
    case "vmid-list":
      return { value: `${VMID},${VMID + 1}`, expect: both(hasGuest(VMID), hasGuest(VMID + 1)) };
    case "volume":
      return { value: `sto-x:vm-${VMID}-disk-0`, expect: both(hasStorage("sto-x"), hasGuest(VMID)) };
    case "storage":
      return { value: "sto-x", expect: hasStorage("sto-x") };
    case "storage-list":
      return { value: "sto-x,sto-y", expect: both(hasStorage("sto-x"), hasStorage("sto-y")) };
    case "storage-pairs":
      return { value: "sto-x:sto-y", expect: both(hasStorage("sto-x"), hasStorage("sto-y")) };
    case "node":
      return { value: "node-x", expect: hasNode("node-x") };
    case "node-list":
      return { value: "node-x,node-y", expect: both(hasNode("node-x"), hasNode("node-y")) };
    case "ha-node-list":
      return { value: "node-x:2,node-y", expect: both(hasNode("node-x"), hasNode("node-y")) };
    case "pool":
      return { value: "pool-x", expect: hasPool("pool-x") };
    case "ha-id":
      return { value: `ct:${VMID}`, expect: hasGuest(VMID) };
    case "ha-id-list":
      return { value: `vm:${VMID},ct:${VMID + 1}`, expect: both(hasGuest(VMID), hasGuest(VMID + 1)) };
    case "replication-id":
      return { value: `${VMID}-0`, expect: hasGuest(VMID) };
  }
}

/** Parameters that name objects without a format; each must be collected (checked below). */
const NAMED_BY_NAME = /^(?:vmid|vms|newid|guest|volume|archive|ostemplate|storage|node|nodes|pool|poolid|sid)$/;
/** Parameters whose telling name does not name a PVE object, and why. */
const NOT_REFS: Record<string, string> = {
  "POST /storage pool": "a Ceph/ZFS pool name of the storage backend, not a PVE pool",
  "PUT /storage/{storage} pool": "a Ceph/ZFS pool name of the storage backend, not a PVE pool",
  "POST /nodes/{node}/lxc/{vmid}/move_volume volume": "a mount point key (enum rootfs, mp0, …), not a volume id",
};

function collect(): Found[] {
  const out: Found[] = [];
  const walk = (node: Json) => {
    const info = (node.info ?? {}) as Record<string, Json>;
    for (const [method, ep] of Object.entries(info)) {
      const props = ((ep.parameters as Json | undefined)?.properties ?? {}) as Record<string, Json>;
      for (const [name, spec] of Object.entries(props)) {
        const base = { method: method as PveMethod, path: node.path as string, name };
        const fmt = spec.format;
        if (typeof fmt === "string") {
          const s = sample(fmt, spec.type);
          if (s) out.push({ ...base, ...s, what: fmt });
          else if (NAMED_BY_NAME.test(name) && !NOT_REFS[`${method} ${node.path} ${name}`]) {
            out.push({ ...base, value: "x", expect: () => true, what: `unhandled format ${fmt}` });
          }
        } else if (fmt && typeof fmt === "object") {
          for (const [key, sub] of Object.entries(fmt as Record<string, Json>)) {
            const s = typeof sub.format === "string" ? sample(sub.format, sub.type) : undefined;
            if (s) out.push({ ...base, value: `${key}=${s.value}`, expect: s.expect, what: `${name}.${key}` });
            if (s && sub.default_key) out.push({ ...base, value: String(s.value), expect: s.expect, what: name });
          }
        } else if (spec.type === "array" && typeof (spec.items as Json | undefined)?.format === "string") {
          const s = sample((spec.items as Json).format as string, (spec.items as Json).type);
          if (s) {
            out.push({ ...base, value: [s.value], expect: s.expect, what: `array of ${(spec.items as Json).format}` });
          }
        } else if (NAMED_BY_NAME.test(name) && spec.enum === undefined && spec.type === "string") {
          const key = `${method} ${node.path} ${name}`;
          if (NOT_REFS[key] === undefined) {
            const vol = `sto-x:vm-${VMID}-disk-0`;
            out.push({
              ...base,
              value: name === "pool" ? "pool-x" : vol,
              expect: name === "pool" ? hasPool("pool-x") : hasGuest(VMID),
              what: `unformatted ${name}`,
            });
          }
        }
      }
    }
    for (const c of (node.children ?? []) as Json[]) walk(c);
  };
  for (const root of schema as Json[]) walk(root);
  return out;
}

Deno.test({
  name: "raw refs: every guest/volume/storage/node/pool parameter of every endpoint of apidata.json is collected",
  ignore,
  fn() {
    const found = collect();
    ok(found.length > 700, `only ${found.length} reference parameters found: the walk is broken`);
    const missed: string[] = [];
    for (const f of found) {
      const endpoint = getEndpoint(f.method, f.path);
      if (!endpoint) {
        missed.push(`${f.method} ${f.path}: not in the contract`);
        continue;
      }
      const isPath = endpoint.pathParams.includes(f.name);
      const pathParams: Record<string, string> = {};
      for (const p of endpoint.pathParams) pathParams[p] = p === f.name ? String(f.value) : `p-${p}`;
      const { effect } = rawEffect(f.method, endpoint, pathParams, isPath ? {} : { [f.name]: f.value });
      if (!f.expect(effect)) missed.push(`${f.method} ${f.path} ${f.name} (${f.what}) = ${JSON.stringify(f.value)}`);
    }
    deepStrictEqual(missed, [], `not collected:\n${missed.join("\n")}`);
  },
});

Deno.test("raw refs: another guest's disk in a config key, linked clones, backups and host paths", () => {
  const ep = getEndpoint("PUT", "/nodes/{node}/qemu/{vmid}/config")!;
  const refs = collectRefs(ep, { node: "pve1", vmid: "111" }, {
    scsi3: "local-lvm:vm-112-disk-0,size=32G",
    virtio1: "file=local-lvm:base-100-disk-0/vm-113-disk-1,cache=none",
    ide2: "none,media=cdrom",
    sata1: "/dev/sdb",
  });
  deepStrictEqual(refs.guests, [
    { vmid: 112, role: "volume" },
    { vmid: 100, role: "volume" },
    { vmid: 113, role: "volume" },
    { vmid: 111, role: "target" },
  ]);
  deepStrictEqual(refs.storages, ["local-lvm"]);
  deepStrictEqual(refs.nodes, ["pve1"]);
  ok(refs.undetermined.some((u) => u.includes("/dev/sdb")), "a host device was not flagged");
  const restore = collectRefs(getEndpoint("POST", "/nodes/{node}/qemu")!, { node: "pve1" }, {
    vmid: 300,
    archive: "pbs:backup/vm/105/2026-01-01T00:00:00Z",
  });
  deepStrictEqual(restore.guests, [{ vmid: 300, role: "target" }, { vmid: 105, role: "volume" }]);
  const bare = collectRefs(getEndpoint("DELETE", "/nodes/{node}/storage/{storage}/content/{volume}")!, {
    node: "pve1",
    storage: "local",
    volume: "backup/vzdump-lxc-107-2026_01_01-00_00_00.tar.zst",
  }, {});
  deepStrictEqual(bare.guests, [{ vmid: 107, role: "volume" }]);
  const task = collectRefs(getEndpoint("DELETE", "/nodes/{node}/tasks/{upid}")!, {
    node: "pve1",
    upid: "UPID:pve1:0000A1B2:00C3D4E5:65000000:vzdump:105:root@pam:",
  }, {});
  deepStrictEqual(task.guests, [{ vmid: 105, role: "target" }]);
});
