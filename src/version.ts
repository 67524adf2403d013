/**
 * The program's version, printed by `pve-mcp --version` and embedded in every build.
 * Kept equal to `version` in deno.json (checked by tests/version_test.ts and by scripts/compile.ts).
 * @module
 */

/** The pve-mcp release version (semver), equal to deno.json's `version`. */
export const VERSION = "0.1.0";
