/**
 * Argument parsing for the `config` and `secrets` commands: choosing the subcommand (with help), and node:util
 * parseArgs with error messages that name the option but never repeat an argument (a secret typed in the wrong place
 * must not be echoed).
 * @module
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { type CliIo, outputFor } from "./cli_io.ts";
import { EXIT } from "./exit_codes.ts";

/** Parsed flags and positionals, or the usage problem. */
export type Parsed =
  | { ok: true; values: Record<string, string | boolean | undefined>; positionals: string[] }
  | { ok: false; problem: string };

/** Parses `args` strictly; at most `maxPositionals` positionals. */
export function parseCommandArgs(
  args: readonly string[],
  options: ParseArgsOptionsConfig,
  maxPositionals: number,
): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
    if (positionals.length > maxPositionals) {
      return {
        ok: false,
        problem: maxPositionals === 0
          ? "this command takes no arguments besides options"
          : `too many arguments (this command takes at most ${maxPositionals})`,
      };
    }
    return { ok: true, values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    const text = error instanceof Error ? error.message : "";
    const option = /'(--?[A-Za-z][A-Za-z0-9-]*)/.exec(text)?.[1];
    if (/argument missing/i.test(text) && option) return { ok: false, problem: `option ${option} needs a value` };
    if (/does not take an argument/i.test(text) && option) {
      return { ok: false, problem: `option ${option} takes no value` };
    }
    return { ok: false, problem: option ? `unknown option ${option}` : "malformed options" };
  }
}

/**
 * Picks the subcommand of `pve-mcp <command> <sub> …` whose help texts are `help` (`""` = the command's own), after
 * `aliases`. Prints help (no subcommand: usage exit code; `--help`/`-h`/`help`, or either flag after a subcommand:
 * OK) or an unknown-subcommand error and returns the exit code; else returns the subcommand's name.
 */
export function pickSubcommand(
  io: CliIo,
  command: string,
  help: Record<string, string>,
  sub: string,
  rest: readonly string[],
  aliases: Record<string, string> = {},
): string | number {
  if (sub === "" || sub === "--help" || sub === "-h" || sub === "help") {
    io.stdout(`${help[""]}\n`);
    return sub === "" ? EXIT.USAGE : EXIT.OK;
  }
  const name = aliases[sub] ?? sub;
  if (!(name in help)) {
    outputFor(io).error(`Unknown ${command} command "${sub}": run pve-mcp ${command} --help`);
    return EXIT.USAGE;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(`${help[name]}\n`);
    return EXIT.OK;
  }
  return name;
}
