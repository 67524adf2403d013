/**
 * The independent apidata.json checker on a small schema written here (runs without ../shared): what it refuses is
 * what PVE's parameter verification refuses.
 */
import { ApidataChecker } from "./apidata_check.ts";
import { assertEquals } from "../assert.ts";

const TREE = [{
  path: "/nodes",
  children: [{
    path: "/nodes/{node}",
    children: [
      {
        path: "/nodes/{node}/qemu/{vmid}/config",
        info: {
          PUT: {
            parameters: {
              additionalProperties: 0,
              properties: {
                node: { type: "string", format: "pve-node" },
                vmid: { type: "integer", format: "pve-vmid", minimum: 100 },
                cores: { type: "integer", optional: 1, minimum: 1, maximum: 128 },
                ostype: { type: "string", optional: 1, enum: ["l26", "win11"] },
                delete: { type: "string", optional: 1, format: "pve-configid-list" },
                "net[n]": {
                  type: "string",
                  optional: 1,
                  format: {
                    model: { type: "string", default_key: 1, enum: ["virtio", "e1000"] },
                    bridge: { type: "string", optional: 1 },
                    firewall: { type: "boolean", optional: 1 },
                  },
                },
                password: { type: "string", optional: 1, minLength: 5 },
              },
            },
          },
        },
      },
      {
        path: "/nodes/{node}/storage/{storage}/content/{volume}",
        info: {
          DELETE: {
            parameters: {
              properties: {
                node: { type: "string", format: "pve-node" },
                storage: { type: "string", format: "pve-storage-id" },
                volume: { type: "string" },
                delay: { type: "integer", optional: 1, maximum: 30 },
              },
            },
          },
        },
      },
    ],
  }],
}];

const checker = new ApidataChecker(TREE);
const PUT = "/nodes/pve1/qemu/100/config";

Deno.test("apidata checker: a valid request has no problems", () => {
  assertEquals(
    checker.check("PUT", PUT, { cores: "4", ostype: "l26", delete: "net1,ide2", net0: "virtio,bridge=vmbr0" }),
    [],
  );
  assertEquals(checker.check("DELETE", "/nodes/pve1/storage/local/content/local:backup/vzdump-qemu-100.vma", {}), []);
});

Deno.test("apidata checker: unknown endpoints, methods and parameters; missing path parameters", () => {
  assertEquals(checker.check("GET", PUT, {}), [`GET ${PUT}: no such endpoint in apidata.json`]);
  assertEquals(checker.check("PUT", "/nodes/pve1/qemu/100/conf", {}).length, 1);
  assertEquals(checker.check("PUT", PUT, { bogus: "1" }), [`PUT ${PUT}: bogus: not in the schema`]);
});

Deno.test("apidata checker: types, ranges, enums, formats, lists and property strings", () => {
  const problems = (params: Record<string, unknown>) => checker.check("PUT", PUT, params).map((p) => p.split(": ")[1]);
  assertEquals(problems({ cores: "four" }), ["cores"]);
  assertEquals(problems({ cores: "0" }), ["cores"]);
  assertEquals(problems({ cores: "129" }), ["cores"]);
  assertEquals(problems({ ostype: "dos" }), ["ostype"]);
  assertEquals(problems({ delete: "net1,1bad" }), ["delete"]);
  assertEquals(problems({ net0: "rtl8139,bridge=vmbr0" }), ["net0"]);
  assertEquals(problems({ net0: "virtio,colour=red" }), ["net0"]);
  assertEquals(problems({ net0: "virtio,firewall=maybe" }), ["net0"]);
  assertEquals(problems({ net0: "virtio,bridge=a,bridge=b" }), ["net0"]);
  assertEquals(problems({ password: "abc" }), ["password"]);
  assertEquals(checker.check("PUT", "/nodes/pve_1/qemu/99/config", {}).length, 2, "node format and vmid minimum");
  assertEquals(
    checker.check("DELETE", "/nodes/pve1/storage/local/content/local:x", { delay: "31" }).length,
    1,
    "a path with a trailing parameter",
  );
});

Deno.test("apidata checker: opaque (redacted) values are checked by name only; required ones must be present", () => {
  assertEquals(checker.check("PUT", PUT, { password: "[redacted]" }, new Set(["password"])), []);
  assertEquals(checker.check("PUT", PUT, { secret: "[redacted]" }, new Set(["secret"])), [
    `PUT ${PUT}: secret: not in the schema`,
  ]);
});
