/**
 * The error a bad configuration raises: every problem at once, each named by the variable, flag or file key that
 * set it. Messages never contain a setting's value.
 * @module
 */

/** Exit code of the CLI for a bad or missing setting. */
export const CONFIG_ERROR_EXIT_CODE = 2;

/** Every problem found while loading the configuration. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** One entry per problem, e.g. `PROXMOX_PORT: expected an integer from 1 to 65535`. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    const unique = [...new Set(problems)];
    const head = unique.length === 1
      ? "Invalid configuration: 1 problem"
      : `Invalid configuration: ${unique.length} problems`;
    super(`${head}\n${unique.map((p) => `  - ${p}`).join("\n")}\nSee docs/configuration.md for every setting.`);
    this.problems = unique;
  }
}

/** Maps an error to the CLI's exit code: 2 for configuration problems, 1 for anything else. */
export function exitCodeFor(error: unknown): number {
  return error instanceof ConfigError ? CONFIG_ERROR_EXIT_CODE : 1;
}
