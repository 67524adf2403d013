/**
 * `deno task fuzz`: the full hostile-input fuzz run. Generated arguments for every tool of the registry (all toolsets,
 * admin mode), driven in process through a real MCP client, plus a slice through the stdio subprocess; each result
 * and every upstream request checked (see tests/fuzz/). Exits 1 on any failure.
 *
 * Usage: deno task fuzz [--cases 10000] [--stdio 300] [--seed N] [--tools a,b] [--json report.json]
 * @module
 */
import { parseArgs } from "node:util";
import { ApidataChecker, apidataPresent } from "../tests/referee/apidata_check.ts";
import { ALL_TOOLSETS_ENV, auditedInProcessTarget, type FuzzReport, runFuzz, summarize } from "../tests/fuzz/run.ts";
import { startInProcessStack } from "../tests/fuzz/stack.ts";
import { startStack } from "../tests/e2e/harness.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    cases: { type: "string", default: "10000" },
    stdio: { type: "string", default: "300" },
    seed: { type: "string" },
    json: { type: "string" },
    tools: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log("Usage: deno task fuzz [--cases 10000] [--stdio 300] [--seed N] [--tools a,b] [--json report.json]");
  Deno.exit(0);
}
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
const cases = Number(values.cases);
const stdioCases = Number(values.stdio);
const tools = values.tools ? { tools: values.tools.split(",").map((t) => t.trim()) } : {};
const SIM = { taskDurationMs: 0 };
const apidata = apidataPresent() ? await ApidataChecker.load() : undefined;
if (!apidata) {
  console.error("Note: ../shared/pve-api/apidata.json is absent; requests are checked against the contract only");
}

let last = 0;
const progress = (done: number, r: FuzzReport) => {
  if (done - last >= 1000 || done === cases) {
    last = done;
    console.error(`  ${done} cases, ${r.failures.length} failures`);
  }
};

console.error(`Fuzzing in process: ${cases} cases, seed ${seed}`);
const inProc = await runFuzz({
  cases,
  seed,
  ...tools,
  ...(apidata && { apidata }),
  onProgress: progress,
  start: () =>
    auditedInProcessTarget((o) =>
      // The fuzzer reports request problems per case itself (contract, and apidata.json with ../shared).
      startInProcessStack({
        ...o,
        env: { ...ALL_TOOLSETS_ENV, PROXMOX_MCP_LOG_LEVEL: "error" },
        simOptions: SIM,
        referee: false,
      })
    ),
});
console.log("in process:", summarize(inProc));

console.error(`Fuzzing through the stdio subprocess: ${stdioCases} cases, seed ${seed + 1}`);
last = 0;
const stdio = await runFuzz({
  cases: stdioCases,
  seed: seed + 1,
  ...tools,
  ...(apidata && { apidata }),
  start: async () => {
    const s = await startStack({
      env: { ...ALL_TOOLSETS_ENV, PROXMOX_MCP_LOG_LEVEL: "warning" },
      simOptions: SIM,
      referee: false,
    });
    return {
      sim: s.sim,
      client: s.client,
      close: async () => {
        await s.client.ping();
        if (/Uncaught/i.test(s.stderr())) throw new Error(`The server logged an uncaught error:\n${s.stderr()}`);
        await s.close();
      },
    };
  },
});
console.log("stdio:", summarize(stdio));

const perTool = Object.entries(inProc.byTool).sort(([a], [b]) => a.localeCompare(b))
  .map(([name, c]) =>
    `  ${name.padEnd(18)} ${String(c.cases).padStart(5)} cases ${String(c.accepted).padStart(5)} accepted`
  );
console.log("per tool (in process):\n" + perTool.join("\n"));
for (const f of [...inProc.failures, ...stdio.failures].slice(0, 20)) console.log(JSON.stringify(f));
if (values.json) await Deno.writeTextFile(values.json, JSON.stringify({ seed, inProcess: inProc, stdio }, null, 2));
const bad = inProc.failures.length + inProc.unhandled.length + stdio.failures.length + stdio.unhandled.length;
Deno.exit(bad === 0 ? 0 : 1);
