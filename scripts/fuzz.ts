/**
 * `deno task fuzz`: the full hostile-input fuzz run. Generated arguments for every tool of the registry (all toolsets,
 * admin mode), driven in process through a real MCP client, plus a slice through the stdio subprocess; each result
 * and every upstream request checked (see tests/fuzz/). Exits 1 on any failure.
 *
 * Usage: deno task fuzz [--cases 10000] [--stdio 300] [--seed N] [--tools a,b] [--json report.json] [--write-docs]
 * (`--write-docs` rewrites the "latest full run" block of docs/reliability.md from this run.)
 * @module
 */
import { parseArgs } from "node:util";
import { ApidataChecker, apidataPresent } from "../tests/referee/apidata_check.ts";
import { ALL_TOOLSETS_ENV, auditedInProcessTarget, type FuzzReport, runFuzz, summarize } from "../tests/fuzz/run.ts";
import { startInProcessStack } from "../tests/fuzz/stack.ts";
import { startStack } from "../tests/e2e/harness.ts";
import { writeBlock } from "./doc_blocks.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    cases: { type: "string", default: "10000" },
    stdio: { type: "string", default: "300" },
    seed: { type: "string" },
    json: { type: "string" },
    tools: { type: "string" },
    "write-docs": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(
    "Usage: deno task fuzz [--cases 10000] [--stdio 300] [--seed N] [--tools a,b] [--json report.json] [--write-docs]",
  );
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
if (values["write-docs"]) {
  const docs = new URL("../docs/reliability.md", import.meta.url).pathname;
  await writeBlock(docs, "fuzz", fuzzBlock(inProc, stdio));
  console.error(`Wrote the fuzz block of ${docs}`);
}
const bad = inProc.failures.length + inProc.unhandled.length + stdio.failures.length + stdio.unhandled.length;
Deno.exit(bad === 0 ? 0 : 1);

/** The table docs/reliability.md shows for the latest full run. */
function fuzzBlock(a: FuzzReport, b: FuzzReport): string {
  const n = (v: number) => v.toLocaleString("en-US");
  const counts = Object.values(a.byTool).map((c) => c.cases);
  const tools = `${Object.keys(a.byTool).length} tools, ${Math.min(...counts)}–${Math.max(...counts)} each`;
  const checked = a.apidataChecked ? "contract + apidata.json" : "contract only: apidata.json was absent";
  const args = Deno.args.filter((x) => x !== "--write-docs").join(" ");
  const bad = (r: FuzzReport) => `**${r.failures.length} / ${r.unhandled.length}**`;
  // Notes are per tool and path; the page sums them by kind.
  const notes: Record<string, number> = {};
  for (const [k, v] of [...Object.entries(a.notes), ...Object.entries(b.notes)]) {
    const kind = k.replace(/^[^:]+: /, "").replace(/^(GET|POST|PUT|DELETE) \S+ /, "");
    notes[kind] = (notes[kind] ?? 0) + v;
  }
  return [
    `**Latest full run** (\`deno task fuzz${
      args ? ` ${args}` : ""
    }\`, seed ${seed}, ${navigator.hardwareConcurrency} cores, ${
      new Date().toISOString().slice(0, 10)
    }; written by \`--write-docs\`):`,
    "",
    "| | in process | stdio subprocess |",
    "|---|---|---|",
    `| cases | ${n(a.cases)} (${tools}) | ${n(b.cases)} |`,
    `| accepted / rejected | ${n(a.accepted)} / ${n(a.rejected)} | ${n(b.accepted)} / ${n(b.rejected)} |`,
    `| upstream requests checked (${checked}) | ${n(a.requests)} | ${n(b.requests)} |`,
    `| failures / unhandled rejections | ${bad(a)} | ${bad(b)} |`,
    `| time | ${(a.ms / 1000).toFixed(1)} s (with the audit log on) | ${(b.ms / 1000).toFixed(1)} s |`,
    "",
    "Notes of this run (not failures): " +
    (Object.entries(notes).map(([k, v]) => `${k}: ${v}`).join("; ") || "none") + ".",
  ].join("\n");
}
