/**
 * The fuzz loop: generated arguments for every listed tool, one call at a time through a real MCP client, each
 * result and each request the simulator received checked (tests/fuzz/checks.ts, and the official schema itself when
 * ../shared is present). Used by tests/fuzz/fuzz_test.ts (a fixed-seed slice) and scripts/fuzz.ts (the full run).
 * @module
 */
import fc from "fast-check";
import type { Client } from "@modelcontextprotocol/client";
import type { Simulator } from "../../src/sim/mod.ts";
import type { ApidataChecker } from "../referee/apidata_check.ts";
import { requestProblems } from "../referee/requests.ts";
import { checkRequests, checkResult, type ToolResultLike } from "./checks.ts";
import { caseArb, dictFromSim, type FuzzCase, type ListedTool } from "./schema_args.ts";
import { verifyAudit } from "../../src/audit/verify.ts";
import { FUZZ_AUDIT_KEY } from "./stack.ts";

/** Every toolset, so every tool of the registry is listed (admin mode). */
export const ALL_TOOLSETS_ENV = {
  PROXMOX_MCP_MODE: "admin",
  PROXMOX_MCP_TOOLSETS:
    "cluster,nodes,guests,snapshots,backups,storage,tasks,metrics,agent,firewall,access,pools,ha,ceph,sdn,raw,audit",
  // Destructive calls run without a human here (the fuzz client cannot answer elicitation); dry_run is fuzzed too.
  PROXMOX_MCP_CONFIRM_WITHOUT_ELICITATION: "allow",
  PROXMOX_MCP_MAX_TASK_WAIT_SECONDS: "5",
  // Thousands of calls a minute from one principal: the limiter is tested elsewhere.
  PROXMOX_MCP_RATE_LIMIT_PER_MINUTE: "1000000",
  PROXMOX_MCP_RATE_LIMIT_WRITES_PER_MINUTE: "1000000",
  PROXMOX_MCP_RATE_LIMIT_DESTRUCTIVE_PER_MINUTE: "1000000",
};

/** What the loop drives: a simulator and a connected client. */
export interface FuzzTarget {
  sim: Simulator;
  client: Client;
  /** Checks run after the batch (e.g. the audit chain still verifies); returns problems. */
  afterBatch?: () => Promise<string[]>;
  close(): Promise<void>;
}

/** Options of {@linkcode runFuzz}. */
export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Starts a fresh target (simulator + server + client). */
  start: () => Promise<FuzzTarget>;
  /** A fresh target every this many cases, so destructive cases do not starve later ones (default 500). */
  recycleEvery?: number;
  /** Independent check against apidata.json (when present). */
  apidata?: ApidataChecker;
  /** A call that takes longer counts as hung (default 20 s). */
  callTimeoutMs?: number;
  /** Only these tools (default: every listed tool). */
  tools?: readonly string[];
  onProgress?: (done: number, report: FuzzReport) => void;
}

/** One failed property. */
export interface FuzzFailure {
  tool: string;
  kind: FuzzCase["kind"];
  hostile: string[];
  /** The arguments as JSON, cut to 400 characters. */
  args: string;
  problem: string;
}

/** Per-tool counts. */
export interface ToolCounts {
  cases: number;
  accepted: number;
  rejected: number;
  requests: number;
  /** Wall time spent in this tool's calls. */
  ms: number;
}

/** The outcome of a run. */
export interface FuzzReport {
  seed: number;
  cases: number;
  accepted: number;
  rejected: number;
  /** Requests checked against the contract (and apidata.json when present). */
  requests: number;
  apidataChecked: boolean;
  byTool: Record<string, ToolCounts>;
  failures: FuzzFailure[];
  /** Observations that are not failures (e.g. a request to an endpoint the simulator does not implement yet). */
  notes: Record<string, number>;
  /** Unhandled promise rejections seen during the run. */
  unhandled: string[];
  ms: number;
}

function argsJson(args: unknown): string {
  try {
    const s = JSON.stringify(
      args,
      (_k, v) => typeof v === "string" && v.length > 60 ? `${v.slice(0, 40)}…(${v.length})` : v,
    );
    return s.length > 400 ? `${s.slice(0, 400)}…` : s;
  } catch {
    return "(not serialisable)";
  }
}

/** Runs the fuzz loop and returns the report (it does not throw for failed properties). */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const report: FuzzReport = {
    seed: opts.seed,
    cases: 0,
    accepted: 0,
    rejected: 0,
    requests: 0,
    apidataChecked: opts.apidata !== undefined,
    byTool: {},
    failures: [],
    notes: {},
    unhandled: [],
    ms: 0,
  };
  const onUnhandled = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    report.unhandled.push(
      String(e.reason instanceof Error ? e.reason.stack ?? e.reason.message : e.reason).slice(0, 500),
    );
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  const every = opts.recycleEvery ?? 500;
  const timeout = opts.callTimeoutMs ?? 20_000;
  try {
    for (let batch = 0; report.cases < opts.cases; batch++) {
      const target = await opts.start();
      try {
        const listed = (await target.client.listTools()).tools as unknown as ListedTool[];
        const tools = opts.tools ? listed.filter((t) => opts.tools!.includes(t.name)) : listed;
        const n = Math.min(every, opts.cases - report.cases);
        const cases = fc.sample(caseArb(tools, dictFromSim(target.sim)), { seed: opts.seed + batch, numRuns: n });
        for (const c of cases) {
          await runCase(target, c, report, opts.apidata, timeout);
          opts.onProgress?.(report.cases, report);
        }
        for (const problem of await target.afterBatch?.() ?? []) {
          report.failures.push({ tool: "(batch)", kind: "valid", hostile: [], args: "", problem });
        }
      } finally {
        await target.close();
      }
    }
  } finally {
    // Let stray rejections of the last case surface before the listener goes.
    await new Promise((r) => setTimeout(r, 10));
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
  report.ms = Math.round(performance.now() - started);
  return report;
}

async function runCase(
  target: FuzzTarget,
  c: FuzzCase,
  report: FuzzReport,
  apidata: ApidataChecker | undefined,
  timeout: number,
): Promise<void> {
  const counts = report.byTool[c.tool] ??= { cases: 0, accepted: 0, rejected: 0, requests: 0, ms: 0 };
  const fail = (problem: string) =>
    report.failures.push({ tool: c.tool, kind: c.kind, hostile: c.hostile, args: argsJson(c.args), problem });
  const note = (k: string) => (report.notes[k] = (report.notes[k] ?? 0) + 1);
  report.cases++;
  counts.cases++;
  target.sim.clearRequests();
  let result: ToolResultLike | undefined;
  const t0 = performance.now();
  try {
    result = await target.client.callTool({ name: c.tool, arguments: c.args }, { timeout }) as ToolResultLike;
  } catch (e) {
    fail(`the call failed with a protocol error instead of a tool result: ${(e as Error).message.slice(0, 300)}`);
  }
  counts.ms += performance.now() - t0;
  if (result) {
    if (result.isError) {
      report.rejected++;
      counts.rejected++;
    } else {
      report.accepted++;
      counts.accepted++;
    }
    const problem = checkResult(result);
    if (problem) {
      const text = (result.content ?? []).map((x) => x.text ?? "").join(" ");
      if (problem.startsWith("error text of") && echoesLongInput(text, c.args)) {
        note(
          `${c.tool}: a rejection echoes a long hostile input (${
            text.length > 50_000 ? "50,000+" : "4,000+"
          } characters)`,
        );
      } else fail(`${problem}: ${text.slice(0, 300)}`);
    }
  }
  const records = [...target.sim.requests];
  report.requests += records.length;
  counts.requests += records.length;
  for (const p of checkRequests(records)) {
    if (p.endsWith("(501)")) {
      note(`${c.tool}: ${p.replace(/\/[^ ]*/, (m) => m.split("/").slice(0, 3).join("/") + "/…")}`);
    } else fail(`request: ${p}`);
  }
  if (apidata) { for (const p of requestProblems(apidata, records)) fail(`apidata.json: ${p}`); }
}

/** True when the text holds 1,000+ characters of one of the argument keys or string values (an echo, not prose). */
function echoesLongInput(text: string, args: Record<string, unknown>): boolean {
  const strings: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (typeof v === "string") strings.push(v);
    else if (v && typeof v === "object" && depth < 4) {
      for (const [k, x] of Object.entries(v)) {
        strings.push(k);
        walk(x, depth + 1);
      }
    }
  };
  walk(args, 0);
  return strings.some((s) => s.length >= 1_000 && text.includes(s.slice(0, 200)));
}

/** A short human summary of a report. */
export function summarize(r: FuzzReport): string {
  const lines = [
    `${r.cases} cases (seed ${r.seed}) in ${
      (r.ms / 1000).toFixed(1)
    } s: ${r.accepted} accepted, ${r.rejected} rejected, ` +
    `${r.requests} upstream requests checked${r.apidataChecked ? " (contract + apidata.json)" : " (contract)"}; ` +
    `${r.failures.length} failures, ${r.unhandled.length} unhandled rejections`,
  ];
  const seen = new Map<string, number>();
  for (const f of r.failures) {
    const key = `${f.tool}: ${f.problem.replace(/\d+/g, "N").slice(0, 160)}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  for (const [k, n] of [...seen].sort((a, b) => b[1] - a[1]).slice(0, 30)) lines.push(`  ${n}× ${k}`);
  for (const u of r.unhandled.slice(0, 5)) lines.push(`  unhandled: ${u.split("\n")[0]}`);
  const notes = Object.entries(r.notes);
  if (notes.length) lines.push(`notes (not failures): ${notes.length} kinds`);
  for (const [k, n] of notes.sort((a, b) => b[1] - a[1]).slice(0, 10)) lines.push(`  ${n}× ${k}`);
  return lines.join("\n");
}

/** An in-process fuzz target with the audit log on; after each batch the chain must still verify. */
export async function auditedInProcessTarget(
  start: (opts: { audited: true }) => Promise<{ sim: Simulator; client: Client; dir: string; close(): Promise<void> }>,
): Promise<FuzzTarget> {
  const s = await start({ audited: true });
  return {
    sim: s.sim,
    client: s.client,
    afterBatch: async () => {
      const r = await verifyAudit(`${s.dir}/audit`, new TextEncoder().encode(FUZZ_AUDIT_KEY));
      return r.ok && r.records > 0
        ? []
        : [`the audit log does not verify after the batch: ${JSON.stringify(r).slice(0, 300)}`];
    },
    close: () => s.close(),
  };
}
