/**
 * What every fuzz case must satisfy: the result is either a success or a clear tool error, and every request that
 * reached the (simulated) cluster is valid under the contract derived from the official schema.
 * @module
 */
import { findEndpoint, validateParams } from "../../src/pve/contract.ts";
import type { SimRequestRecord } from "../../src/sim/mod.ts";

/** A tool result as the client sees it. */
export interface ToolResultLike {
  content?: { type: string; text?: string }[];
  structuredContent?: unknown;
  isError?: boolean;
}

/** Longest error text we call clear (a model reads it; hostile input must not be echoed in full). */
export const MAX_ERROR_CHARS = 4_000;

/** Why an error text is not a clear tool error, or undefined when it is. */
export function unclearError(text: string): string | undefined {
  if (text.trim() === "") return "empty error text";
  if (text.length > MAX_ERROR_CHARS) return `error text of ${text.length} characters (limit ${MAX_ERROR_CHARS})`;
  if (/\n\s+at .+:\d+:\d+/.test(text)) return "error text holds a stack trace";
  if (/internal error/i.test(text)) return "internal error (a handler threw unexpectedly)";
  if (
    /\[object Object\]|Cannot read propert|is not a function|ReferenceError|undefined \(reading|Maximum call stack/
      .test(text)
  ) {
    return "a JavaScript error leaked into the message";
  }
  if (!/^[A-Z"'`(]/.test(text.trimStart())) return "error text does not start like a sentence";
  return undefined;
}

/** Checks one call's result; returns a problem or undefined. */
export function checkResult(result: ToolResultLike): string | undefined {
  const text = (result.content ?? []).filter((c) => c.type === "text").map((c) => c.text ?? "").join("\n");
  if (result.isError) return unclearError(text);
  if (result.structuredContent === undefined && text === "") return "success without any content";
  return undefined;
}

/** Secret-looking parameters the simulator redacts in its log; their values cannot be checked from the log. */
const REDACTED = "[redacted]";

/** Problems with the requests the simulator received (contract check, and PVE-style refusals). */
export function checkRequests(records: readonly SimRequestRecord[]): string[] {
  const problems: string[] = [];
  for (const r of records) {
    const where = `${r.method} ${r.path}`;
    // `/cluster/nextid?vmid=N` answers 400 "VM N already exists" by design (how PVE says a vmid is taken).
    if (r.status === 400 && r.path !== "/cluster/nextid") {
      problems.push(`${where}: the simulator refused the parameters (400)`);
    }
    // The simulator does not implement every endpoint (yet): the caller notes these instead of failing.
    if (r.status === 501) problems.push(`${where}: the simulator has no such method or path (501)`);
    const match = findEndpoint(r.method, r.path);
    if (!match) {
      problems.push(`${where}: not an endpoint of the official schema`);
      continue;
    }
    const params: Record<string, unknown> = { ...match.pathParams };
    for (const [k, v] of Object.entries(r.params)) if (v !== REDACTED) params[k] = v;
    const errors = validateParams(match.endpoint, params);
    for (const [k, msg] of Object.entries(errors)) {
      // A redacted value cannot be judged; a missing one can.
      if (r.params[k] === REDACTED) continue;
      problems.push(`${where}: parameter ${k}: ${msg}`);
    }
  }
  return problems;
}
