/**
 * The first stage of every call, the same on every path (stdio, HTTP, resources, the HTTP rate-limit pre-check):
 * arguments parsed by the tool's zod input (defaults applied), and the parsed call's effect.
 * @module
 */
import type { z } from "zod";
import type { CallClass, Effect } from "../core/mod.ts";
import { effectOf, type ToolDef } from "../tools/registry.ts";

/** True for tools that can act destructively: they get `dry_run` and their destructive calls need confirmation. */
export function canBeDestructive(def: ToolDef): boolean {
  return !def.annotations.readOnlyHint && def.annotations.destructiveHint;
}

/** A call after preparation: arguments parsed (defaults applied), its class, and where it goes. */
export interface PreparedCall {
  def: ToolDef;
  /** The tool's arguments as parsed by its zod input (defaults applied); `cluster` and `dry_run` removed. */
  args: Record<string, unknown>;
  /** The `cluster` argument as given (undefined: the default cluster). */
  clusterName: unknown;
  dryRun: boolean;
  /** What the call does and touches (decides the mode, the rate-limit bucket and the policy checks). */
  effect: Effect;
  /** `effect.cls`. */
  cls: CallClass;
}

/** Says what is wrong with a tool's arguments, in the words of the zod issues (never echoing values). */
function invalidArgs(def: ToolDef, error: z.ZodError): string {
  const issues = error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(arguments)"}: ${i.message}`);
  return `Invalid arguments for ${def.name}: ${issues.join("; ")}`;
}

/**
 * Stage 1, the same on every path (stdio, HTTP, resources, the HTTP rate-limit pre-check): splits off `cluster` and
 * `dry_run`, parses the arguments with the tool's zod input (defaults applied) and computes the parsed call's effect.
 * Returns the reason when the arguments are invalid.
 */
export function prepareCall(def: ToolDef, rawArgs: Record<string, unknown>): PreparedCall | { invalid: string } {
  const { cluster: clusterName, dry_run: dry, ...given } = rawArgs;
  if (dry !== undefined && (!canBeDestructive(def) || typeof dry !== "boolean")) {
    return {
      invalid: `Invalid arguments for ${def.name}: dry_run: ${
        canBeDestructive(def) ? "expected a boolean" : "this tool has no dry run"
      }`,
    };
  }
  const parsed = def.input.safeParse(given);
  if (!parsed.success) return { invalid: invalidArgs(def, parsed.error) };
  const args = parsed.data as Record<string, unknown>;
  const eff = effectOf(def, args);
  return { def, args, clusterName, dryRun: dry === true, effect: eff, cls: eff.cls };
}
