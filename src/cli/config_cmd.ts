/**
 * `pve-mcp config …`: master keys, sealing secrets in config files, their status, key rotation, the start-up check
 * and migration from the Python server. No value of a secret is ever printed (`generate-key --print` prints the new
 * key, and only to a terminal).
 * @module
 */
import { formatKeyFile, generateKeyBytes, keyIdOf } from "../crypto/keys.ts";
import { toBase64 } from "../crypto/encoding.ts";
import { backupFile, createExclusive, writeFileAtomic } from "../secrets/atomic_write.ts";
import { fileKdf, openSlots, renderSecretFile, sealForSlot, type SecretSlot } from "../secrets/sealed_file.ts";
import { parseSecretFile } from "../config/secret_file.ts";
import { parseCommandArgs, pickSubcommand } from "./cli_args.ts";
import { type CliIo, outputFor, processIo } from "./cli_io.ts";
import { EXIT } from "./exit_codes.ts";
import { resolveSecretsSettings } from "./secrets_settings.ts";
import { cliKey, usage } from "./config_common.ts";
import { describeReadError } from "../config/sources.ts";
import { runStatus } from "./config_status_cmd.ts";
import { runMigrate, runRotateKey, runRotateKeyAll } from "./config_rotate_cmd.ts";
import { type CheckDeps, runCheck } from "./config_check_cmd.ts";

/** Help text of each subcommand. */
export const CONFIG_HELP: Record<string, string> = {
  "": `Usage: pve-mcp config <command> [options]

Keys and sealed secrets (docs/secrets.md), and the start-up check.

Commands:
  generate-key (--out FILE | --print)   make a new random master key
  encrypt FILE [-o OUT]                 seal every plain secret of a JSON config or .env file (enc:v1:)
  status FILE                           which secrets are plain or sealed, key id match, key age (never values)
  rotate-key FILE                       re-seal FILE with a new key (backup, atomic write, verification)
  rotate-key-all DIR                    the same for every config, .env and store file under DIR
  check (alias --test)                  load, decrypt, connect to PVE, check privileges; --pin trusts the certificate
  migrate FILE [-o OUT]                 convert the Python Proxmox MCP server's enc: values to enc:v1:

The master key comes from PROXMOX_MCP_MASTER_KEY_FILE (or PROXMOX_MCP_MASTER_KEY, PROXMOX_MCP_MASTER_PASSPHRASE[_FILE]),
read like every setting from the environment, .env or the JSON config; --key-file FILE overrides it.
Run pve-mcp config <command> --help for details.`,
  "generate-key": `Usage: pve-mcp config generate-key (--out FILE | --print)

Makes a new random 256-bit master key.
  --out FILE   write it to FILE, created with mode 0600; an existing file is never overwritten
  --print      print it instead — only to a terminal, so it cannot end up in a log or a pipe

Then point PROXMOX_MCP_MASTER_KEY_FILE at the file, and keep a copy offline: sealed values cannot be recovered
without the key.`,
  encrypt: `Usage: pve-mcp config encrypt FILE [-o OUT] [--key-file KEY] [--no-backup]

Seals every plain secret setting of FILE (JSON config, .env file or secret store) with the master key, each bound to
its field. Without -o the file is rewritten atomically (mode 0600) after a timestamped backup; the backup still holds
the plain values, so delete it once the server starts with the sealed file.
  -o, --out OUT   write the sealed copy to OUT and leave FILE as it is
  --key-file KEY  use this key file instead of the configured key
  --no-backup     do not keep a backup of FILE`,
  status: `Usage: pve-mcp config status FILE [--key-file KEY] [--max-key-age-days N] [--json]

Lists the secret settings of FILE: plain, sealed (with key id and whether the current key opens it), Python-format,
or secret:// references — never their values. Also shows the file's mode and the key's age.
Exit code 1 when a value does not open or the key is older than the maximum (default 365 days,
PROXMOX_MCP_MAX_KEY_AGE_DAYS), so it can run from a scheduler.`,
  "rotate-key": `Usage: pve-mcp config rotate-key FILE [--new-key-file NEW] [--key-file KEY]

Re-seals every sealed value of FILE with a new key: checks the current key opens every value, writes a timestamped
0600 backup, re-seals, writes atomically (temp file, fsync, rename) and re-opens the file to verify.
  --new-key-file NEW  where the new key goes (created 0600); an existing key file there is used as the new key, so an
                      interrupted rotation can be resumed. Default: master-<time>.key beside the current key file.
  --key-file KEY      the current key (default: the configured one)
Afterwards point PROXMOX_MCP_MASTER_KEY_FILE at the new key and restart; keep the old key until every file is done.`,
  "rotate-key-all": `Usage: pve-mcp config rotate-key-all DIR [--new-key-file NEW] [--key-file KEY]

Runs rotate-key for every *.json, .env and *.env file under DIR with one new key, showing progress, and prints a
summary (processed, skipped, failed). Example files (*example*, *.sample, *.dist, *.template), backups and
temporary files are skipped, as are files without sealed values. Exit code 1 when any file failed.`,
  check: `Usage: pve-mcp config check [--pin] [--cluster NAME] [--json] [setting flags]

Checks what the server would do at start, step by step: load the configuration, open sealed secrets, reach each
cluster over TLS (prints the certificate's SHA-256 fingerprint), log in, and compare the credential's privileges
(GET /access/permissions) with what the enabled tools need. Warns about over-broad credentials (root@pam, tokens
without privilege separation, Administrator).
  --pin           write the certificate's fingerprint into the configuration (trust on first use, made explicit)
  --cluster NAME  check one cluster only
Exit codes: 0 all passed, 1 a check failed, 2 the configuration is invalid.`,
  migrate: `Usage: pve-mcp config migrate FILE [-o OUT] [--legacy-key-file KEY] [--new-key-file NEW] [--key-file KEY]

Converts the enc: values of the Python Proxmox MCP server (Fernet, key from its PROXMOX_MCP_MASTER_KEY via
PBKDF2-SHA256) into enc:v1: values sealed with our master key. FILE keeps its layout; without -o it is rewritten
after a timestamped backup.
  --legacy-key-file KEY  the Python server's key (default: PROXMOX_MCP_LEGACY_MASTER_KEY[_FILE], ~/.proxmox_mcp_key,
                         then PROXMOX_MCP_MASTER_KEY)
  --new-key-file NEW     seal with this key file (created 0600 when missing) instead of the configured key`,
};

/** Runs `pve-mcp config …`; returns the exit code. */
export async function runConfigCommand(args: string[], io: CliIo = processIo(), deps: CheckDeps = {}): Promise<number> {
  const [sub = "", ...rest] = args;
  const name = pickSubcommand(io, "config", CONFIG_HELP, sub, rest, { "--test": "check" });
  if (typeof name === "number") return name;
  switch (name) {
    case "generate-key":
      return await generateKey(rest, io);
    case "encrypt":
      return await encrypt(rest, io);
    case "status":
      return await runStatus(rest, io);
    case "rotate-key":
      return await runRotateKey(rest, io);
    case "rotate-key-all":
      return await runRotateKeyAll(rest, io);
    case "migrate":
      return await runMigrate(rest, io);
    default:
      return await runCheck(rest, io, deps);
  }
}

async function generateKey(args: string[], io: CliIo): Promise<number> {
  const p = parseCommandArgs(args, { out: { type: "string", short: "o" }, print: { type: "boolean" } }, 0);
  if (!p.ok) return usage(io, "generate-key", p.problem);
  const out = outputFor(io);
  const file = p.values.out as string | undefined;
  if (!file && !p.values.print) return usage(io, "generate-key", "say where the key goes: --out FILE or --print");
  if (file && p.values.print) return usage(io, "generate-key", "use either --out or --print");
  const raw = generateKeyBytes();
  try {
    const id = await keyIdOf(raw);
    if (p.values.print) {
      if (!io.isTerminal) {
        out.error("Refusing to print a key into a pipe or file, where it could end up in logs: use --out FILE");
        return EXIT.USAGE;
      }
      io.stdout(`${toBase64(raw)}\n`);
      out.info(`Key id ${id}. Store it where only the server can read it; it is not saved anywhere.`);
      return EXIT.OK;
    }
    const now = new Date((io.now ?? Date.now)());
    if (!(await createExclusive(file!, await formatKeyFile(raw, now)))) {
      out.error(`Cannot write the key to ${file}: the file already exists (a key is never overwritten)`);
      return EXIT.FAILURE;
    }
    out.success(`New master key ${id} written to ${file} (mode 0600)`);
    out.info(`Use it with PROXMOX_MCP_MASTER_KEY_FILE=${file}, and keep a copy offline (docs/secrets.md).`);
    return EXIT.OK;
  } catch (error) {
    out.error(
      `Cannot write the key to ${file}: ${describeReadError(file!, error).replace(/^cannot read [^:]+: /, "")}`,
    );
    return EXIT.FAILURE;
  } finally {
    raw.fill(0);
  }
}

async function encrypt(args: string[], io: CliIo): Promise<number> {
  const p = parseCommandArgs(args, {
    out: { type: "string", short: "o" },
    "key-file": { type: "string" },
    "no-backup": { type: "boolean" },
  }, 1);
  if (!p.ok) return usage(io, "encrypt", p.problem);
  const path = p.positionals[0];
  if (!path) return usage(io, "encrypt", "name the file to seal");
  const out = outputFor(io);
  const problems: string[] = [];
  const settings = await resolveSecretsSettings(io, { keyFile: p.values["key-file"] as string | undefined }, problems);
  const key = await cliKey(io, settings, true);
  if (typeof key === "number" || !key) return key ?? EXIT.USAGE;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    out.error(describeReadError(path, error));
    return EXIT.FAILURE;
  }
  let file;
  try {
    file = parseSecretFile(path, text);
  } catch (error) {
    out.error((error as Error).message);
    return EXIT.FAILURE;
  }
  const kdf = await fileKdf(file, key);
  const replacements = new Map<SecretSlot, string>();
  for (const slot of file.slots) {
    if (slot.state === "plain") replacements.set(slot, await sealForSlot(slot, slot.value, key, kdf));
    else if (slot.state === "key") {
      out.warn(`${slot.label}: the master key is in this file; move it to a 0600 key file`);
    } else if (slot.state === "legacy") {
      out.warn(`${slot.label} uses the Python server's format: run pve-mcp config migrate ${path}`);
    } else if (slot.state === "unknown-enc") out.warn(`${slot.label} has an unknown enc: format and was left as it is`);
  }
  const already = file.slots.filter((s) => s.state === "sealed").length;
  if (replacements.size === 0) {
    out.info(`Nothing to seal in ${path} (${already} sealed value${already === 1 ? "" : "s"} already)`);
    return EXIT.OK;
  }
  const target = (p.values.out as string | undefined) ?? path;
  let backup: string | undefined;
  if (target === path && !p.values["no-backup"]) backup = await backupFile(path, (io.now ?? Date.now)());
  await writeFileAtomic(target, renderSecretFile(file, replacements), { mode: 0o600 });
  const written = parseSecretFile(target, await Deno.readTextFile(target));
  await openSlots(written, () => key);
  out.success(
    `Sealed ${replacements.size} value${replacements.size === 1 ? "" : "s"} in ${target} with key ` +
      `${key.id ?? "(passphrase)"}: ${[...replacements.keys()].map((s) => s.label).join(", ")}`,
  );
  if (already > 0) out.info(`${already} value${already === 1 ? " was" : "s were"} sealed already`);
  if (backup) {
    out.warn(`The backup ${backup} still holds the plain values: delete it once the server starts with ${path}`);
  }
  if (target !== path) {
    out.warn(`${path} still holds the plain values: delete it once the server starts with ${target}`);
  }
  return EXIT.OK;
}
