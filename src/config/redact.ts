/**
 * Redaction of secret settings, for printing a configuration and for leak tests.
 * @module
 */
import type { Config } from "./schema.ts";
import { SECRET_FIELDS } from "./settings.ts";
import { concretePaths } from "./tree.ts";
import { getAt, setAt, type Tree } from "../core/tree.ts";

/** What replaces a secret in printed configuration. */
export const REDACTED = "[redacted]";

/** A deep copy of `config` with every secret setting replaced by {@linkcode REDACTED}. */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config) as unknown as Tree;
  for (const parts of secretPaths(copy)) {
    if (getAt(copy, parts) !== undefined) setAt(copy, parts, REDACTED);
  }
  return copy as unknown as Config;
}

/** Every secret value present in `config` (for scanning output and logs in tests and sanitisers). */
export function secretValues(config: Config): string[] {
  const tree = config as unknown as Tree;
  const out: string[] = [];
  for (const parts of secretPaths(tree)) {
    const value = getAt(tree, parts);
    if (typeof value === "string" && value !== "") out.push(value);
  }
  return out;
}

function secretPaths(tree: Tree): string[][] {
  return SECRET_FIELDS.flatMap((path) => concretePaths({ path }, tree));
}
