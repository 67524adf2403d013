/**
 * Start-up figures: the floor (`node -e 0`, `deno run` of an empty file) and spawn → first tool result of the server
 * (source and bundle), measured in interleaved rounds so every ratio compares runs made under the same load; and
 * where start-up goes (the probe in startup_probe.ts, run as its own process).
 * @module
 */
import type { Simulator } from "../../src/sim/mod.ts";
import { type ServerLaunch, startStdioServer } from "./stdio.ts";
import { summary } from "./stats.ts";

/** Median, p95 and count of a set of times (ms). */
export type Times = { median: number; p95: number; n: number; min: number };

function times(values: number[]): Times {
  return { ...summary(values), min: Math.min(...values) };
}

/** Wall time from spawning a command until it exits (output discarded); undefined when it cannot run. */
export async function spawnExitMs(cmd: string, args: string[]): Promise<number | undefined> {
  const t = performance.now();
  try {
    const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return r.success ? performance.now() - t : undefined;
  } catch {
    return undefined;
  }
}

/** Start-up results of one run. */
export interface StartupResults {
  /** `node -e 0` (absent when node is not installed). */
  node?: Times;
  /** `deno run` of an empty file. */
  denoEmpty: Times;
  /** Spawn → initialize → first tool result, per program. */
  cold: Record<string, Times>;
}

/**
 * `rounds` rounds (after one unmeasured round) of: `node -e 0`, `deno run empty.ts`, then spawn → first `call`
 * result of each launch. Interleaving keeps background load from favouring one figure over another.
 */
export async function startupRounds(
  sim: Simulator,
  launches: Record<string, ServerLaunch>,
  call: { name: string; arguments: Record<string, unknown> },
  rounds: number,
): Promise<StartupResults> {
  const empty = await Deno.makeTempFile({ prefix: "pve-mcp-bench-empty-", suffix: ".js" });
  const node: number[] = [];
  const deno: number[] = [];
  const cold: Record<string, number[]> = Object.fromEntries(Object.keys(launches).map((k) => [k, []]));
  try {
    for (let i = 0; i <= rounds; i++) {
      const n = await spawnExitMs("node", ["-e", "0"]);
      const d = await spawnExitMs(Deno.execPath(), ["run", "--quiet", empty]);
      if (d === undefined) throw new Error("deno run of an empty file failed");
      const c: Record<string, number> = {};
      for (const [label, launch] of Object.entries(launches)) {
        const t = performance.now();
        const s = await startStdioServer(sim, launch);
        try {
          const r = await s.client.callTool(call) as { isError?: boolean };
          c[label] = performance.now() - t;
          if (r.isError) throw new Error(`Cold start call failed: ${JSON.stringify(r).slice(0, 300)}`);
        } finally {
          await s.close();
        }
      }
      if (i === 0) continue;
      if (n !== undefined) node.push(n);
      deno.push(d);
      for (const [label, v] of Object.entries(c)) cold[label]!.push(v);
    }
  } finally {
    await Deno.remove(empty).catch(() => {});
  }
  return {
    ...(node.length ? { node: times(node) } : {}),
    denoEmpty: times(deno),
    cold: Object.fromEntries(Object.entries(cold).map(([k, v]) => [k, times(v)])),
  };
}

/** One step of the start-up probe: what loading a module (and what it imports) cost. */
export interface ProbeStep {
  step: string;
  ms: number;
  rssMiB: number;
  heapUsedMiB: number;
}

/** Runs startup_probe.ts in a fresh process (median of `runs`, per step) to see where start-up time and memory go. */
export async function startupProbe(runs: number): Promise<ProbeStep[]> {
  const probe = new URL("./startup_probe.ts", import.meta.url).pathname;
  const all: ProbeStep[][] = [];
  for (let i = 0; i <= runs; i++) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", probe],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) throw new Error("The start-up probe failed");
    if (i > 0) all.push(JSON.parse(new TextDecoder().decode(out.stdout)) as ProbeStep[]);
  }
  return all[0]!.map((s, j) => ({
    step: s.step,
    ms: summary(all.map((r) => r[j]!.ms)).median,
    rssMiB: summary(all.map((r) => r[j]!.rssMiB)).median,
    heapUsedMiB: summary(all.map((r) => r[j]!.heapUsedMiB)).median,
  }));
}
