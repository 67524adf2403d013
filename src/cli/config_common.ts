/**
 * Helpers shared by the `config` subcommands: usage errors, loading the master key and reading a secret file.
 * @module
 */
import { KeyError, type MasterKey } from "../crypto/keys.ts";
import { loadMasterKey } from "../crypto/key_source.ts";
import { describeReadError } from "../config/sources.ts";
import { type SecretFile } from "../secrets/sealed_file.ts";
import { parseSecretFile } from "../config/secret_file.ts";
import { type CliIo, outputFor } from "./cli_io.ts";
import type { Output } from "./output.ts";
import { EXIT } from "./exit_codes.ts";
import type { SecretsSettings } from "./secrets_settings.ts";

/** Prints a usage problem and returns the usage exit code. */
export function usage(io: CliIo, command: string, problem: string): number {
  outputFor(io).error(`${problem}: run pve-mcp config ${command} --help`);
  return EXIT.USAGE;
}

/** Loads the master key from flags/settings; prints why not and returns an exit code when it cannot. */
export async function cliKey(
  io: CliIo,
  settings: SecretsSettings,
  required: boolean,
): Promise<MasterKey | undefined | number> {
  const out = outputFor(io);
  try {
    const key = await loadMasterKey(settings.key);
    if (!key && required) {
      out.error(
        "No master key is set: set PROXMOX_MCP_MASTER_KEY_FILE (make a key with `pve-mcp config generate-key --out " +
          "FILE`) or pass --key-file FILE",
      );
      return EXIT.USAGE;
    }
    return key;
  } catch (error) {
    if (!(error instanceof KeyError)) throw error;
    out.error(error.message);
    return EXIT.USAGE;
  }
}

/**
 * Reads and parses the config, .env or store file at `path`; when it cannot, prints why (a `SecretFileError`'s
 * message, else the read error) and returns the exit code: {@linkcode EXIT.USAGE} for a file that is not there or not
 * a config/.env/store file (fix the input), {@linkcode EXIT.FAILURE} for other I/O errors.
 */
export async function readSecretFile(out: Output, path: string): Promise<SecretFile | number> {
  try {
    return parseSecretFile(path, await Deno.readTextFile(path));
  } catch (error) {
    const invalid = error instanceof Error && error.name === "SecretFileError";
    out.error(invalid ? (error as Error).message : describeReadError(path, error));
    return invalid || error instanceof Deno.errors.NotFound ? EXIT.USAGE : EXIT.FAILURE;
  }
}
