import { deepStrictEqual as assertEquals, ok as assert, strictEqual } from "node:assert/strict";
import {
  checkRequest,
  type Endpoint,
  findEndpoint,
  getEndpoint,
  listEndpoints,
  matchPath,
  paramSpec,
  validateParams,
} from "../../src/pve/contract.ts";
import { buildContract, compressEnum, perlToJsRegex, serializeContract } from "../../scripts/gen_contract.ts";

const SHARED = new URL("../../../shared/pve-api/", import.meta.url);
let sharedPresent = false;
try {
  sharedPresent = Deno.statSync(new URL("apidata.json", SHARED)).isFile;
} catch {
  sharedPresent = false;
}
const SKIP = !sharedPresent;
if (SKIP) console.warn("SKIPPED: ../shared/pve-api is absent, so contract-vs-schema tests do not run (fresh clone).");

function ep(method: string, path: string): Endpoint {
  const e = getEndpoint(method, path);
  assert(e, `${method} ${path} is in the contract`);
  return e;
}

Deno.test({
  name: "contract: every endpoint of endpoints.tsv is present with the same parameter count (needs ../shared)",
  ignore: SKIP,
  fn: async () => {
    const lines = (await Deno.readTextFile(new URL("endpoints.tsv", SHARED))).split("\n").filter(Boolean);
    assertEquals(lines.length, 649);
    for (const line of lines) {
      const [method = "", path = "", count = ""] = line.split("\t");
      const e = ep(method, path);
      strictEqual(Object.keys(e.params).length, Number(count), `${method} ${path} parameter count`);
    }
    strictEqual(listEndpoints().length, 649);
  },
});

Deno.test({
  name: "contract: committed contract.json equals what scripts/gen_contract.ts produces now (needs ../shared)",
  ignore: SKIP,
  fn: async () => {
    const apidata = JSON.parse(await Deno.readTextFile(new URL("apidata.json", SHARED)));
    const fresh = serializeContract(buildContract(apidata));
    const committed = await Deno.readTextFile(new URL("../../src/pve/contract.json", import.meta.url));
    assert(fresh === committed, "src/pve/contract.json is stale: run `deno task gen:contract` and commit it");
    // No prose may leak from the AGPL schema: apart from our own "about" and regex sources, no string has whitespace.
    const prose: string[] = [];
    const walk = (v: unknown, key: string) => {
      if (typeof v === "string" && /\s/.test(v) && key !== "re" && key !== "about") prose.push(v);
      else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
      else if (v && typeof v === "object") { for (const [k, x] of Object.entries(v)) walk(x, k); }
    };
    walk(JSON.parse(committed), "");
    assertEquals(prose, []);
  },
});

Deno.test("contract: findEndpoint matches templates, decodes segments, keeps UPID colons", () => {
  const upid = "UPID:pve1:0000ABCD:0001E240:6757A1B2:qmstart:100:root@pam!mcp:";
  const m = findEndpoint("GET", `/nodes/pve1/tasks/${upid}/status`);
  assert(m);
  strictEqual(m.endpoint.path, "/nodes/{node}/tasks/{upid}/status");
  assertEquals(m.pathParams, { node: "pve1", upid });
  const enc = findEndpoint("get", `/nodes/pve1/tasks/${encodeURIComponent(upid)}/log`);
  strictEqual(enc?.pathParams.upid, upid);
  // literal segments win over parameters
  strictEqual(
    findEndpoint("GET", "/nodes/pve1/qemu/100/status/current")?.endpoint.path,
    "/nodes/{node}/qemu/{vmid}/status/current",
  );
  strictEqual(findEndpoint("GET", "/nodes")?.endpoint.path, "/nodes");
  strictEqual(findEndpoint("GET", "/nodes/")?.endpoint.path, "/nodes");
  // a volume id with a slash, encoded or not
  const vol = "local:iso/debian-12.iso";
  strictEqual(
    findEndpoint("GET", `/nodes/pve1/storage/local/content/${encodeURIComponent(vol)}`)?.pathParams.volume,
    vol,
  );
  strictEqual(findEndpoint("DELETE", `/nodes/pve1/storage/local/content/${vol}`)?.pathParams.volume, vol);
  // unknown path, unknown method on a known path
  strictEqual(findEndpoint("GET", "/nodes/pve1/nonsense"), undefined);
  strictEqual(findEndpoint("PATCH", "/nodes"), undefined);
  strictEqual(findEndpoint("DELETE", "/version"), undefined);
  strictEqual(matchPath("/version")?.template, "/version");
  strictEqual(matchPath("/nodes/%E0%A4%A"), undefined);
});

Deno.test("contract: flags — allowtoken, UPID, permissions, proxyto", () => {
  strictEqual(ep("POST", "/access/ticket").allowToken, false);
  strictEqual(ep("PUT", "/access/password").allowToken, false);
  strictEqual(ep("GET", "/version").allowToken, true);
  for (const a of ["start", "stop", "shutdown", "reboot", "suspend", "resume", "reset"]) {
    strictEqual(ep("POST", `/nodes/{node}/qemu/{vmid}/status/${a}`).returnsUpid, true, a);
  }
  strictEqual(ep("POST", "/nodes/{node}/vzdump").returnsUpid, true);
  strictEqual(ep("POST", "/nodes/{node}/qemu/{vmid}/monitor").returnsUpid, false);
  strictEqual(ep("GET", "/nodes/{node}/qemu/{vmid}/cloudinit/dump").returnsUpid, false);
  strictEqual(ep("PUT", "/nodes/{node}/qemu/{vmid}/config").returnsUpid, false);
  assertEquals(ep("POST", "/nodes/{node}/qemu/{vmid}/status/start").permission, {
    kind: "privs",
    path: "/vms/{vmid}",
    privs: ["VM.PowerMgmt"],
    any: false,
  });
  assertEquals(ep("GET", "/nodes/{node}/storage/{storage}/status").permission, {
    kind: "privs",
    path: "/storage/{storage}",
    privs: ["Datastore.Audit", "Datastore.AllocateSpace"],
    any: true,
  });
  strictEqual(ep("GET", "/cluster/resources").permission.kind, "all");
  strictEqual(ep("POST", "/access/ticket").permission.kind, "world");
  strictEqual(ep("POST", "/nodes/{node}/execute").permission.kind, "root");
  strictEqual(ep("POST", "/cluster/notifications/endpoints/sendmail").permission.kind, "and");
  strictEqual(ep("GET", "/nodes/{node}/qemu").proxyTo, "node");
  strictEqual(ep("GET", "/cluster/resources").proxyTo, undefined);
  // enums compressed in the file come back expanded
  const vol = ep("POST", "/nodes/{node}/lxc/{vmid}/move_volume").params.volume;
  assert(vol?.enum?.includes("mp255") && vol.enum.includes("rootfs"));
});

Deno.test("validateParams: PVE's messages for unknown, missing, type, range, pattern, enum", () => {
  const start = ep("POST", "/nodes/{node}/qemu/{vmid}/status/start");
  assertEquals(validateParams(start, { node: "pve1", vmid: "100" }), {});
  assertEquals(validateParams(start, { node: "pve1", vmid: 100, skiplock: true, timeout: 30 }), {});
  assertEquals(validateParams(start, { node: "pve1", vmid: "abc", bogus: "1" }), {
    vmid: "type check ('integer') failed - got 'abc'",
    bogus: "property is not defined in schema and the schema does not allow additional properties",
  });
  assertEquals(validateParams(start, { node: "pve1" }), { vmid: "property is missing and it is not optional" });
  // PVE checks the format before the range: vmid 99 fails the pve-vmid format first.
  assertEquals(validateParams(start, { node: "pve1", vmid: "99" }), {
    vmid: "invalid format - value does not look like a valid VM ID\n",
  });
  assertEquals(validateParams(start, { node: "pve1", vmid: "100", timeout: -1 }), {
    timeout: "value must have a minimum value of 0",
  });
  const list = ep("GET", "/cluster/tasks");
  assertEquals(validateParams(list, {}), {});
  assertEquals(validateParams(start, { node: "pve1", vmid: "100", skiplock: "true" }), {
    skiplock: "type check ('boolean') failed - got 'true'",
  });
  assertEquals(validateParams(start, { node: "pve1", vmid: "100", "nets-host-mtu": "x" }), {
    "nets-host-mtu": "value does not match the regex pattern",
  });
  assertEquals(validateParams(start, { node: "pve1", vmid: "100", migration_type: "fast" }), {
    migration_type: "value 'fast' does not have a value in the enumeration 'secure, insecure'",
  });
  assertEquals(validateParams(start, { node: "bad_node!", vmid: "100" }), {
    node: "invalid format - value does not look like a valid node name\n",
  });
  assertEquals(validateParams(start, { node: "pve1", vmid: "100", machine: "q35,viommu=intel" }), {});
  assertEquals(validateParams(start, { node: "pve1", vmid: "100", machine: "q35,foo=1" }), {
    machine: "invalid format - invalid key in comma-separated list property: foo\n",
  });
  assertEquals(validateParams(start, { node: "pve1", vmid: "100", _dc: "123", skiplock: undefined }), {});
});

Deno.test("validateParams: indexed names, formats, lists, arrays, requires", () => {
  const cfg = ep("PUT", "/nodes/{node}/qemu/{vmid}/config");
  assert(paramSpec(cfg, "net0") && paramSpec(cfg, "net12"));
  strictEqual(paramSpec(cfg, "net01"), undefined);
  assertEquals(validateParams(cfg, { node: "pve1", vmid: 100, net1: "virtio,bridge=vmbr0", tags: "web;prod" }), {});
  assertEquals(validateParams(cfg, { node: "pve1", vmid: 100, nonsense7: "x" }), {
    nonsense7: "property is not defined in schema and the schema does not allow additional properties",
  });
  assertEquals(validateParams(cfg, { node: "pve1", vmid: 100, delete: "net1,scsi2" }), {});
  assertEquals(validateParams(cfg, { node: "pve1", vmid: 100, delete: ["net1", "scsi2"] }), {}); // *-list joined
  assertEquals(validateParams(cfg, { node: "pve1", vmid: 100, delete: "net1,9bad" }), {
    delete: "invalid format - invalid configuration ID '9bad'\n",
  });
  assertEquals(validateParams(cfg, { node: "pve1", vmid: 100, cores: "1.5" }), {
    cores: "type check ('integer') failed - got '1.5'",
  });
  const ticket = ep("POST", "/access/ticket");
  assertEquals(validateParams(ticket, { username: "root@pam", password: "x", path: "/vms" }), {
    privs: "missing property - 'path' requires this property",
  });
  assertEquals(validateParams(ticket, { username: "x".repeat(65), password: "x" }), {
    username: "value may only be 64 characters long",
  });
  const sendmail = ep("POST", "/cluster/notifications/endpoints/sendmail");
  const ok = validateParams(sendmail, { name: "n1", mailto: "a@example.com", "mailto-user": ["root@pam", "x"] });
  assertEquals(ok, { "mailto-user[1]": "invalid format - value 'x' does not look like a valid user name\n" });
  const res = ep("GET", "/cluster/resources");
  assertEquals(validateParams(res, { type: "vm" }), {});
  assertEquals(validateParams(res, { type: ["vm"] }), { type: "type check ('string') failed - got ARRAY" });
});

Deno.test("checkRequest: path + params together, duplicate path parameters", () => {
  assertEquals(checkRequest("GET", "/nodes/pve1/qemu/100/config", {}).errors, {});
  assertEquals(checkRequest("GET", "/nodes/pve1/qemu/100/config", { vmid: 101 }).errors, {
    vmid: "duplicate parameter (already defined in URI) with conflicting values!",
  });
  assertEquals(checkRequest("GET", "/nodes/pve1/qemu/100/config", { vmid: "100" }).errors, {});
  assertEquals(checkRequest("GET", "/nope").errors, { _path: "Method 'GET /nope' not implemented" });
  strictEqual(checkRequest("GET", "/nope").endpoint, undefined);
});

Deno.test("generator helpers: Perl regexes become JavaScript, enums compress losslessly", () => {
  strictEqual(perlToJsRegex("(?^:[a-z]+)(?^i:x){,8}"), "(?:[a-z]+)(?i:x){0,8}");
  assertEquals(compressEnum(["rootfs", "mp0", "mp1", "mp2", "mp3", "x"]), ["rootfs", "mp[0..3]", "x"]);
  assertEquals(compressEnum(["a1", "a2", "a3"]), ["a1", "a2", "a3"]);
  // every pattern in the committed contract compiles as JavaScript
  for (const e of listEndpoints()) {
    for (const [name, p] of Object.entries(e.params)) {
      if (p.pattern !== undefined) new RegExp(`^(?:${p.pattern})$`, "");
      assert(!name.includes(" "), name);
    }
  }
});
