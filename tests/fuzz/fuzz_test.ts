/**
 * Hostile-input fuzzing, fixed-seed slices (the full run is `deno task fuzz`): generated arguments for every listed
 * tool; no crash or unhandled rejection, every rejection a clear tool error, every request that reached the simulator
 * valid under the contract (and under the official apidata.json when ../shared is present).
 */
import { ApidataChecker, apidataPresent } from "../referee/apidata_check.ts";
import { ALL_TOOLSETS_ENV, auditedInProcessTarget, type FuzzReport, runFuzz, summarize } from "./run.ts";
import { startInProcessStack } from "./stack.ts";
import { startStack } from "../e2e/harness.ts";
import { ALL_TOOLS } from "../../src/tools/all.ts";

const SIM = { taskDurationMs: 0 };

function assertClean(r: FuzzReport, minCases: number): void {
  const msg = summarize(r) + "\n" + r.failures.slice(0, 10).map((f) => JSON.stringify(f)).join("\n");
  if (r.cases < minCases) throw new Error(`Only ${r.cases} cases ran\n${msg}`);
  if (r.failures.length > 0 || r.unhandled.length > 0) throw new Error(msg);
  // Plausible arguments must reach the handlers, or the fuzzing only tests input validation.
  if (r.accepted < r.cases * 0.1) throw new Error(`Too few accepted cases (${r.accepted})\n${msg}`);
}

// With the audit log on: every hostile argument is recorded, and the chain must still verify after each batch.
const inProcess = () =>
  auditedInProcessTarget((o) =>
    startInProcessStack({ ...o, env: { ...ALL_TOOLSETS_ENV, PROXMOX_MCP_LOG_LEVEL: "error" }, simOptions: SIM })
  );

Deno.test("fuzz: every tool in the registry, in process, fixed seed (contract check)", async () => {
  const r = await runFuzz({ cases: 200, seed: 20260728, recycleEvery: 200, start: inProcess });
  assertClean(r, 200);
  const fuzzed = Object.keys(r.byTool);
  const missing = ALL_TOOLS.map((t) => t.name).filter((n) => !fuzzed.includes(n));
  if (missing.length) throw new Error(`Tools not fuzzed (not listed with every toolset on?): ${missing.join(", ")}`);
});

Deno.test({
  name: "fuzz: requests valid under the official apidata.json, fixed seed",
  ignore: !apidataPresent(),
  async fn() {
    const apidata = await ApidataChecker.load();
    const r = await runFuzz({ cases: 160, seed: 7, recycleEvery: 160, apidata, start: inProcess });
    assertClean(r, 160);
  },
});
if (!apidataPresent()) {
  console.warn("fuzz: ../shared/pve-api/apidata.json is absent: the apidata.json slice is skipped");
}

Deno.test("fuzz: a slice through the stdio subprocess (real pipe, real JSON-RPC framing)", async () => {
  let stderr = () => "";
  const r = await runFuzz({
    cases: 60,
    seed: 99,
    recycleEvery: 60,
    start: async () => {
      const s = await startStack({ env: { ...ALL_TOOLSETS_ENV, PROXMOX_MCP_LOG_LEVEL: "warning" }, simOptions: SIM });
      stderr = s.stderr;
      return {
        sim: s.sim,
        client: s.client,
        close: async () => {
          await s.client.ping(); // the server survived every case
          await s.close();
        },
      };
    },
  });
  assertClean(r, 60);
  if (/Uncaught|unhandled/i.test(stderr())) {
    throw new Error(`The server logged an uncaught error:\n${stderr().slice(-2000)}`);
  }
});
