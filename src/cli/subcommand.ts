/**
 * The frame of the `tokens` and `audit` commands: strict argument parsing, `--help`, and one mapping of errors to
 * exit codes (0 ok, 1 failure, 2 usage).
 * @module
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { ConfigError } from "../config/errors.ts";
import type { CliIo } from "./cli_io.ts";

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {}

/** The flags parseArgs returns for `options`. */
export type FlagValues<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; allowPositionals: true; strict: true; options: O }>
>["values"];

/** What a subcommand's body gets: the flags, the subcommand and the positionals after it. */
export interface SubcommandCall<O extends ParseArgsOptionsConfig> {
  values: FlagValues<O>;
  sub: string;
  rest: string[];
}

/**
 * Runs `pve-mcp <name> <sub> …`: parses `args` strictly, prints `help` for `--help`, `help` or no subcommand (exit 2
 * when nothing was asked), else runs `body`. A {@linkcode UsageError} or a `ConfigError` thrown by `body` exits 2,
 * any other error 1; each prints its message on stderr.
 */
export async function runSubcommand<O extends ParseArgsOptionsConfig>(
  name: string,
  help: string,
  args: string[],
  options: O,
  io: CliIo,
  body: (call: SubcommandCall<O>) => Promise<number>,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options });
  } catch (e) {
    io.stderr(`${(e as Error).message}; run pve-mcp ${name} --help\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [sub, ...rest] = positionals;
  const asked = (values as Record<string, unknown>).help === true;
  if (asked || sub === undefined || sub === "help") {
    io.stdout(`${help}\n`);
    return sub === undefined && !asked ? 2 : 0;
  }
  try {
    return await body({ values, sub, rest });
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`${e.message}; run pve-mcp ${name} --help\n`);
      return 2;
    }
    if (e instanceof ConfigError) {
      io.stderr(`${e.message}\n`);
      return 2;
    }
    io.stderr(`${(e as Error).message}\n`);
    return 1;
  }
}
