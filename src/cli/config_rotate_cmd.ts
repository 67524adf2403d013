/**
 * `config rotate-key FILE`, `config rotate-key-all DIR` and `config migrate FILE`. The new key is written to disk
 * (0600) before any file is rewritten, so after a crash every file opens with the old key or the new one.
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { formatKeyFile, generateKeyBytes, KeyError, keyIdOf, MasterKey, parseKeyText } from "../crypto/keys.ts";
import { LegacyError, legacyKeyBytes, openLegacyValue } from "../crypto/legacy_python.ts";
import { describeReadError } from "../config/sources.ts";
import { backupFile, createExclusive, fileStamp, TEMP_MARK, writeFileAtomic } from "../secrets/atomic_write.ts";
import { rotateFile, type RotateResult } from "../config/rotate.ts";
import { fileKdf, openSlots, renderSecretFile, sealForSlot, type SecretSlot } from "../secrets/sealed_file.ts";
import { parseSecretFile } from "../config/secret_file.ts";
import { parseCommandArgs } from "./cli_args.ts";
import { type CliIo, outputFor } from "./cli_io.ts";
import { cliKey, readSecretFile, usage } from "./config_common.ts";
import { EXIT } from "./exit_codes.ts";
import { resolveSecretsSettings, type SecretsSettings } from "./secrets_settings.ts";

const ROTATE_OPTIONS = { "new-key-file": { type: "string" }, "key-file": { type: "string" } } as const;

/** The new key: loaded from `path` when it exists (resuming), else generated and written there 0600. */
async function newKeyAt(
  io: CliIo,
  command: string,
  flag: string | undefined,
  settings: SecretsSettings,
  now: number,
): Promise<{ key: MasterKey; file: string; created: boolean } | number> {
  const out = outputFor(io);
  const current = settings.key.masterKeyFile;
  const file = flag
    ? resolve(io.cwd ?? Deno.cwd(), flag)
    : current
    ? join(dirname(current), `master-${fileStamp(now)}.key`)
    : undefined;
  if (!file) {
    return usage(io, command, "name where the new key goes: --new-key-file FILE (kept apart from the configs)");
  }
  try {
    const text = await Deno.readTextFile(file);
    const parsed = parseKeyText(text, file);
    const key = await MasterKey.fromBytes(parsed.raw, { source: file, file });
    return { key, file, created: false };
  } catch (error) {
    if (error instanceof KeyError) {
      out.error(error.message);
      return EXIT.USAGE;
    }
    if (!(error instanceof Deno.errors.NotFound)) {
      out.error(describeReadError(file, error));
      return EXIT.FAILURE;
    }
  }
  const raw = generateKeyBytes();
  try {
    await Deno.mkdir(dirname(file), { recursive: true, mode: 0o700 });
    if (!(await createExclusive(file, await formatKeyFile(raw, new Date(now))))) {
      out.error(`Cannot write the new key to ${file}: the file appeared meanwhile`);
      return EXIT.FAILURE;
    }
    return {
      key: await MasterKey.fromBytes(raw, { source: file, file, createdAt: new Date(now) }),
      file,
      created: true,
    };
  } finally {
    raw.fill(0);
  }
}

function report(io: CliIo, r: RotateResult, prefix = ""): void {
  const out = outputFor(io);
  if (r.status === "rotated") {
    out.success(
      `${prefix}${r.path}: rotated, ${r.values} value${r.values === 1 ? "" : "s"} re-sealed (backup ${r.backup})`,
    );
    if (r.plain > 0) {
      out.warn(`${prefix}${r.path}: ${r.plain} plain secret(s) left as they are; seal them with config encrypt`);
    }
  } else if (r.status === "skipped") out.info(`${prefix}${r.path}: skipped (${r.reason})`);
  else out.error(`${prefix}${r.path}: failed: ${r.reason}`);
}

async function prepare(args: string[], io: CliIo, command: string, positional: string) {
  const p = parseCommandArgs(args, ROTATE_OPTIONS, 1);
  if (!p.ok) return usage(io, command, p.problem);
  const target = p.positionals[0];
  if (!target) return usage(io, command, `name the ${positional}`);
  const problems: string[] = [];
  const settings = await resolveSecretsSettings(io, { keyFile: p.values["key-file"] as string | undefined }, problems);
  const oldKey = await cliKey(io, settings, true);
  if (typeof oldKey === "number" || !oldKey) return oldKey ?? EXIT.USAGE;
  const now = (io.now ?? Date.now)();
  const next = await newKeyAt(io, command, p.values["new-key-file"] as string | undefined, settings, now);
  if (typeof next === "number") return next;
  if (oldKey.kind === "key" && next.key.id === oldKey.id) {
    outputFor(io).error(`The new key ${next.file} is the current key (id ${oldKey.id}): choose another file`);
    return EXIT.USAGE;
  }
  const out = outputFor(io);
  if (next.created) out.info(`New master key ${next.key.id} written to ${next.file} (mode 0600)`);
  else out.info(`Using the existing key ${next.key.id} in ${next.file} as the new key`);
  return { target, oldKey, next, now };
}

function finish(io: CliIo, results: RotateResult[], next: { key: MasterKey; file: string }): number {
  const count = (s: RotateResult["status"]) => results.filter((r) => r.status === s).length;
  io.stdout(`Summary: ${count("rotated")} processed, ${count("skipped")} skipped, ${count("failed")} failed\n`);
  const out = outputFor(io);
  out.info(
    `The new key ${next.key.id} is in ${next.file}. Point PROXMOX_MCP_MASTER_KEY_FILE at it and restart the server; ` +
      "keep the old key (and the backups) until everything opens with the new one (docs/secrets.md).",
  );
  return count("failed") > 0 ? EXIT.FAILURE : EXIT.OK;
}

/** Runs `config rotate-key FILE`. */
export async function runRotateKey(args: string[], io: CliIo): Promise<number> {
  const ready = await prepare(args, io, "rotate-key", "file to rotate");
  if (typeof ready === "number") return ready;
  let result: RotateResult;
  try {
    result = await rotateFile(ready.target, ready.oldKey, ready.next.key, { now: () => ready.now });
  } catch (error) {
    result = { path: ready.target, status: "failed", reason: (error as Error).message, values: 0, plain: 0 };
  }
  report(io, result);
  return finish(io, [result], ready.next);
}

const SKIP_NAME = /example|\.sample$|\.dist$|\.template$|\.bak-|\.key$/i;

/** Config, `.env` and store files under `dir` that `rotate-key-all` considers, sorted. */
export async function rotationCandidates(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const entry of Deno.readDir(d)) {
      const path = join(d, entry.name);
      if (entry.isDirectory) {
        if (entry.name !== ".git" && entry.name !== "node_modules") await walk(path);
        continue;
      }
      if (!entry.isFile || entry.name.includes(TEMP_MARK) || SKIP_NAME.test(entry.name)) continue;
      const n = entry.name;
      if (n.endsWith(".json") || n === ".env" || n.endsWith(".env") || n.startsWith(".env.")) out.push(path);
    }
  };
  await walk(dir);
  return out.sort();
}

/** Runs `config rotate-key-all DIR`. */
export async function runRotateKeyAll(args: string[], io: CliIo): Promise<number> {
  const ready = await prepare(args, io, "rotate-key-all", "directory to rotate");
  if (typeof ready === "number") return ready;
  let files: string[];
  try {
    files = await rotationCandidates(ready.target);
  } catch (error) {
    outputFor(io).error(describeReadError(ready.target, error));
    return EXIT.FAILURE;
  }
  const results: RotateResult[] = [];
  for (const [i, path] of files.entries()) {
    let result: RotateResult;
    try {
      result = await rotateFile(path, ready.oldKey, ready.next.key, { now: () => ready.now });
    } catch (error) {
      result = { path, status: "failed", reason: (error as Error).message, values: 0, plain: 0 };
    }
    results.push(result);
    report(io, result, `[${i + 1}/${files.length}] `);
  }
  if (files.length === 0) outputFor(io).info(`No config, .env or store files under ${ready.target}`);
  return finish(io, results, ready.next);
}

async function legacyKeyText(
  io: CliIo,
  flag: string | undefined,
): Promise<{ text: string; source: string } | undefined> {
  const env = io.env ?? Deno.env.toObject();
  const read = async (path: string) => (await Deno.readTextFile(path)).trim();
  if (flag) return { text: await read(resolve(io.cwd ?? Deno.cwd(), flag)), source: flag };
  if (env.PROXMOX_MCP_LEGACY_MASTER_KEY) {
    return { text: env.PROXMOX_MCP_LEGACY_MASTER_KEY, source: "PROXMOX_MCP_LEGACY_MASTER_KEY" };
  }
  if (env.PROXMOX_MCP_LEGACY_MASTER_KEY_FILE) {
    return { text: await read(env.PROXMOX_MCP_LEGACY_MASTER_KEY_FILE), source: env.PROXMOX_MCP_LEGACY_MASTER_KEY_FILE };
  }
  const home = env.HOME ?? env.USERPROFILE;
  if (home) {
    try {
      return { text: await read(join(home, ".proxmox_mcp_key")), source: join(home, ".proxmox_mcp_key") };
    } catch {
      // not there: try the next source
    }
  }
  if (env.PROXMOX_MCP_MASTER_KEY) return { text: env.PROXMOX_MCP_MASTER_KEY, source: "PROXMOX_MCP_MASTER_KEY" };
  return undefined;
}

/** Runs `config migrate FILE`. */
export async function runMigrate(args: string[], io: CliIo): Promise<number> {
  const p = parseCommandArgs(args, {
    out: { type: "string", short: "o" },
    "legacy-key-file": { type: "string" },
    ...ROTATE_OPTIONS,
  }, 1);
  if (!p.ok) return usage(io, "migrate", p.problem);
  const path = p.positionals[0];
  if (!path) return usage(io, "migrate", "name the file to migrate");
  const out = outputFor(io);
  let legacy;
  try {
    legacy = await legacyKeyText(io, p.values["legacy-key-file"] as string | undefined);
  } catch (error) {
    out.error(describeReadError(String(p.values["legacy-key-file"] ?? "the legacy key file"), error));
    return EXIT.FAILURE;
  }
  if (!legacy) {
    return usage(
      io,
      "migrate",
      "no key of the Python server found: pass --legacy-key-file or set PROXMOX_MCP_LEGACY_MASTER_KEY",
    );
  }
  const problems: string[] = [];
  const settings = await resolveSecretsSettings(io, { keyFile: p.values["key-file"] as string | undefined }, problems);
  const now = (io.now ?? Date.now)();
  let key: MasterKey;
  if (p.values["new-key-file"]) {
    const next = await newKeyAt(io, "migrate", p.values["new-key-file"] as string, settings, now);
    if (typeof next === "number") return next;
    if (next.created) out.info(`New master key ${next.key.id} written to ${next.file} (mode 0600)`);
    key = next.key;
  } else {
    const k = await cliKey(io, settings, true);
    if (typeof k === "number" || !k) return k ?? EXIT.USAGE;
    key = k;
  }
  const file = await readSecretFile(out, path);
  if (typeof file === "number") return file;
  const slots = file.slots.filter((s) => s.state === "legacy");
  if (slots.length === 0) {
    out.info(`Nothing to migrate in ${path}: no values of the Python server's format`);
    return EXIT.OK;
  }
  try {
    legacyKeyBytes(legacy.text);
  } catch {
    out.error(`${legacy.source}: not a key of the Python server (URL-safe base64 expected)`);
    return EXIT.USAGE;
  }
  const kdf = await fileKdf(file, key);
  const replacements = new Map<SecretSlot, string>();
  let failed = 0;
  for (const slot of slots) {
    try {
      replacements.set(slot, await sealForSlot(slot, await openLegacyValue(slot.value, legacy.text), key, kdf));
    } catch (error) {
      if (!(error instanceof LegacyError)) throw error;
      failed++;
      out.error(`${slot.label} in ${path}: ${error.message} (key from ${legacy.source})`);
    }
  }
  if (failed > 0) {
    out.error(`Nothing was written: ${failed} value${failed === 1 ? "" : "s"} did not open`);
    return EXIT.FAILURE;
  }
  const target = (p.values.out as string | undefined) ?? path;
  const backup = target === path ? await backupFile(path, now) : undefined;
  await writeFileAtomic(target, renderSecretFile(file, replacements), { mode: 0o600 });
  await openSlots(parseSecretFile(target, await Deno.readTextFile(target)), () => key);
  out.success(
    `Migrated ${replacements.size} value${replacements.size === 1 ? "" : "s"} of ${
      basename(path)
    } to enc:v1 with key ` +
      `${key.id ?? "(passphrase)"}: ${[...replacements.keys()].map((s) => s.label).join(", ")}` +
      (backup ? ` (backup ${backup})` : ""),
  );
  const raw = legacyKeyBytes(legacy.text);
  if (key.kind === "key" && raw.length === 32 && (await keyIdOf(raw)) === key.id) {
    out.warn("The new values are sealed with the Python server's own key; give pve-mcp its own with config rotate-key");
  }
  return EXIT.OK;
}
