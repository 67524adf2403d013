/**
 * The e2e referee: every request a simulator receives while an end-to-end stack runs is checked against the official
 * PVE schema itself (../shared/pve-api/apidata.json: method, path template, every parameter's name, type, format,
 * enum, range and presence), not against src/pve/contract.json, which the server, the simulator and the tool fakes
 * all share — so a mistake in deriving that contract cannot hide a request real PVE would refuse.
 * The e2e harness (tests/e2e/harness.ts) and the in-process stack (tests/fuzz/stack.ts) watch every stack's simulator;
 * a fresh clone without ../shared skips the check with a warning.
 * @module
 */
import type { SimRequestRecord, Simulator } from "../../src/sim/mod.ts";
import { ApidataChecker, apidataPresent } from "./apidata_check.ts";

/** What the simulator records in place of a secret-looking value: its name is checked, its value cannot be. */
const REDACTED = "[redacted]";

/** Problems of recorded requests under apidata.json, each once, in the order first seen. */
export function requestProblems(checker: ApidataChecker, records: readonly SimRequestRecord[]): string[] {
  const problems = new Set<string>();
  for (const r of records) {
    const opaque = new Set(Object.keys(r.params).filter((k) => r.params[k] === REDACTED));
    for (const p of checker.check(r.method, r.path, r.params, opaque)) problems.add(p);
  }
  return [...problems];
}

let warned = false;

/** A watch over one simulator's requests; `stop` ends it and resolves with the problems found. */
export interface RequestWatch {
  stop(): Promise<string[]>;
}

/** Starts recording every request `sim` receives (whatever `sim.clearRequests` empties). */
export function watchRequests(sim: Pick<Simulator, "onRequest">): RequestWatch {
  const records: SimRequestRecord[] = [];
  const unsubscribe = sim.onRequest((r) => records.push(r));
  return {
    async stop() {
      unsubscribe();
      if (records.length === 0) return [];
      if (!apidataPresent()) {
        if (!warned) {
          warned = true;
          console.warn(
            "SKIPPED: ../shared/pve-api/apidata.json is absent, so the e2e referee does not check upstream requests " +
              "against the official PVE schema.",
          );
        }
        return [];
      }
      return requestProblems(await ApidataChecker.load(), records);
    },
  };
}

/** Throws, listing them, when the watch found requests the official schema refuses. */
export async function assertRequestsValid(watch: RequestWatch, what: string): Promise<void> {
  const problems = await watch.stop();
  if (problems.length === 0) return;
  const shown = problems.slice(0, 20).map((p) => `  ${p}`).join("\n");
  const more = problems.length > 20 ? `\n  … ${problems.length - 20} more` : "";
  throw new Error(
    `${what}: ${problems.length} upstream request problem(s) under the official PVE schema (apidata.json):\n` +
      shown + more,
  );
}
