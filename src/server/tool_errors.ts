/**
 * Tool-level failures as the model sees them: an `isError` result with a message it can act on.
 * @module
 */
import type { CallToolResult } from "@modelcontextprotocol/server";
import { log } from "../log.ts";
import { PveError } from "../pve/types.ts";
import type { ToolDef } from "../tools/registry.ts";

/** A tool error result (`isError: true`) with a message the model can act on. */
export function toolError(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

/** How a failed handler is told to the model (never a stack trace), and its kind for the audit log. */
export function errorMessage(def: ToolDef, e: unknown): { text: string; kind: string } {
  if (e instanceof PveError) return { text: `Cannot run ${def.name}: ${e.message}`, kind: e.kind };
  if (e instanceof TypeError || e instanceof RangeError) {
    return { text: `Cannot run ${def.name}: ${e.message}`, kind: "input" };
  }
  if (e instanceof URIError) {
    // encodeURIComponent refuses unpaired UTF-16 surrogates (found by the fuzzer): the caller's text, not a bug.
    return {
      text:
        `Cannot run ${def.name}: an argument holds text that cannot be sent to PVE (broken unicode: an unpaired surrogate)`,
      kind: "input",
    };
  }
  log("pipeline").error("Tool {tool} failed unexpectedly: {error}", { tool: def.name, error: String(e) });
  return { text: `Cannot run ${def.name}: internal error (see the server log)`, kind: "internal" };
}
