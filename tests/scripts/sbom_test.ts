import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { buildSbom, npmPurl, programSbom, splitNpmKey } from "../../scripts/sbom.ts";

const LOCK = {
  version: "5",
  npm: {
    "@scope/app-lib@1.0.0": { integrity: "sha512-" + btoa("\x01\x02\xff"), dependencies: ["dep", "shared@2.0.0"] },
    "dep@3.1.0": { integrity: "sha512-AAAA", dependencies: ["shared@1.0.0"] },
    "shared@1.0.0": { integrity: "sha512-AAAA" },
    "shared@2.0.0": { integrity: "sha512-AAAA" },
    "test-only@1.0.0": { integrity: "sha512-AAAA" },
  },
};

Deno.test("lock keys and purls", () => {
  deepStrictEqual(splitNpmKey("@scope/x@1.2.3_peer@4.0.0"), { name: "@scope/x", version: "1.2.3" });
  strictEqual(npmPurl("@scope/x", "1.2.3"), "pkg:npm/%40scope/x@1.2.3");
});

Deno.test("SBOM lists the closure of the roots only, with hashes and the dependency graph", async () => {
  const bom = await buildSbom({
    lock: LOCK,
    version: "1.0.0",
    roots: ["@scope/app-lib@1.0.0"],
    timestamp: new Date("2026-01-02T03:04:05Z"),
    license: (name) => (name === "dep" ? "MIT" : name === "shared" ? "(MIT OR Apache-2.0)" : undefined),
  });
  strictEqual(bom.bomFormat, "CycloneDX");
  strictEqual(bom.specVersion, "1.6");
  strictEqual(bom.metadata.timestamp, "2026-01-02T03:04:05Z");
  match(bom.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  deepStrictEqual(bom.components.map((c) => c.purl), [
    "pkg:npm/%40scope/app-lib@1.0.0",
    "pkg:npm/dep@3.1.0",
    "pkg:npm/shared@1.0.0",
    "pkg:npm/shared@2.0.0",
  ]);
  const lib = bom.components[0];
  deepStrictEqual(lib?.hashes, [{ alg: "SHA-512", content: "0102ff" }]);
  strictEqual(lib?.group, "@scope");
  strictEqual(lib?.name, "app-lib");
  deepStrictEqual(bom.components[1]?.licenses, [{ license: { id: "MIT" } }]);
  deepStrictEqual(bom.components[2]?.licenses, [{ license: { name: "(MIT OR Apache-2.0)" } }]);
  deepStrictEqual(bom.dependencies[0], {
    ref: "pkg:generic/pve-mcp@1.0.0",
    dependsOn: ["pkg:npm/%40scope/app-lib@1.0.0"],
  });
  deepStrictEqual(bom.dependencies.find((d) => d.ref === "pkg:npm/%40scope/app-lib@1.0.0")?.dependsOn, [
    "pkg:npm/dep@3.1.0",
    "pkg:npm/shared@2.0.0",
  ]);
  // Same input, same serial number and timestamp: reproducible; other input, other serial number.
  const opts = { lock: LOCK, version: "1.0.0", roots: ["@scope/app-lib@1.0.0"], timestamp: new Date(0) };
  deepStrictEqual(await buildSbom(opts), await buildSbom(opts));
  ok((await buildSbom({ ...opts, version: "1.0.1" })).serialNumber !== (await buildSbom(opts)).serialNumber);
});

Deno.test("the program's SBOM holds what src/main.ts ships, not the test-only client", async () => {
  const bom = await programSbom(fileURLToPath(new URL("../..", import.meta.url)));
  const names = bom.components.map((c) => (c.group ? `${c.group}/${c.name}` : c.name));
  ok(names.includes("zod"), names.join(", "));
  ok(names.includes("@modelcontextprotocol/server"), names.join(", "));
  ok(!names.includes("@modelcontextprotocol/client"), names.join(", "));
  ok(!names.includes("cross-spawn"), names.join(", "));
  ok(bom.components.every((c) => c.hashes?.[0]?.alg === "SHA-512"), "every npm component has its lock hash");
});
