/** scripts/audit_deps.ts: parsing `deno audit` output, runtime vs development dependencies, the CI decision. */
import {
  decide,
  importedSpecifiers,
  packageName,
  parseAuditOutput,
  runtimePackages,
} from "../../scripts/audit_deps.ts";
import { assertEquals } from "../assert.ts";

const HIGH = `╭ zod is susceptible to prototype pollution
│ Severity:   high
│ Package:    zod
│ Vulnerable: <4.6.8
│ Patched:    >=4.6.8
│ Info:       https://example.com/vuln/1
╰ Actions:    update zod to >=4.6.8

╭ fast-check has a slow regex
│ Severity:   critical
│ Package:    fast-check
╰ Actions:    update fast-check

Found 2 vulnerabilities
Severity: 0 low, 0 moderate, 1 high, 1 critical
`;

const LOCK = {
  specifiers: { "npm:zod@4.6.7": "4.6.7", "npm:@x/server@2.4.0": "2.4.0", "npm:fast-check@4.10.2": "4.10.2" },
  npm: {
    "@x/server@2.4.0": { dependencies: ["@x/core", "zod"] },
    "@x/core@2.4.0": { dependencies: ["zod"] },
    "zod@4.6.7": {},
    "fast-check@4.10.2": { dependencies: ["pure-rand"] },
    "pure-rand@8.4.2": {},
  },
};
const MAP = {
  "@x/server": "npm:@x/server@2.4.0",
  "@x/server/stdio": "npm:@x/server@2.4.0/stdio",
  "fast-check": "npm:fast-check@4.10.2",
};

Deno.test("audit_deps: parses advisories, a clean run and an unreachable service", () => {
  const o = parseAuditOutput(HIGH, 1);
  assertEquals(o, {
    kind: "advisories",
    advisories: [
      { title: "zod is susceptible to prototype pollution", severity: "high", package: "zod" },
      { title: "fast-check has a slow regex", severity: "critical", package: "fast-check" },
    ],
  });
  assertEquals(parseAuditOutput("", 0), { kind: "clean" });
  const down = parseAuditOutput(
    "error: error sending request for url (https://registry.npmjs.org/-/npm/v1/security/advisories/bulk): " +
      "client error (Connect): invalid peer certificate: UnknownIssuer\n",
    1,
  );
  if (down.kind !== "unreachable") throw new Error(JSON.stringify(down));
  assertEquals(parseAuditOutput("Failed to get data from the registry: 503\n", 0).kind, "unreachable");
});

Deno.test("audit_deps: runtime packages are those reachable from what src/ imports", () => {
  assertEquals(packageName("@x/core@2.4.0"), "@x/core");
  assertEquals(packageName("a@1.0.0_b@2.0.0"), "a");
  const runtime = runtimePackages(LOCK, MAP, new Set(["@x/server/stdio"]));
  assertEquals([...runtime].sort(), ["@x/core", "@x/server", "zod"]);
});

Deno.test("audit_deps: fails only on a high or critical advisory in a runtime dependency", () => {
  const runtime = new Set(["zod", "@x/server"]);
  const adv = parseAuditOutput(HIGH, 1);
  assertEquals(decide(adv, runtime).code, 1);
  assertEquals(decide(adv, new Set(["@x/server"])).code, 0); // only the dev dependency is affected
  assertEquals(decide({ kind: "unreachable", reason: "offline" }, runtime).code, 0);
  assertEquals(decide({ kind: "clean" }, runtime).code, 0);
});

Deno.test("audit_deps: this repository's runtime set holds the SDK and zod, not the test-only packages", async () => {
  const root = new URL("../../", import.meta.url).pathname;
  const config = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
  const lock = JSON.parse(await Deno.readTextFile(`${root}deno.lock`));
  const runtime = runtimePackages(lock, config.imports, await importedSpecifiers(`${root}src`));
  for (const p of ["@modelcontextprotocol/server", "zod"]) if (!runtime.has(p)) throw new Error(`${p} missing`);
  for (const p of ["fast-check", "@modelcontextprotocol/client"]) {
    if (runtime.has(p)) throw new Error(`${p} is dev-only`);
  }
});
