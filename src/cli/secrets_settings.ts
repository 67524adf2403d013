/**
 * The `secrets.*` settings for the `config` and `secrets` commands: read from the same places as the server's
 * (flags > environment > `.env` > JSON file), without requiring the rest of the configuration to be complete, so
 * key and store commands work before a cluster is configured.
 * @module
 */
import { resolve } from "node:path";
import { META_ENV, SETTINGS } from "../config/settings.ts";
import { findInLayers, readDotenv, readJsonObject, type StringLayer } from "../config/sources.ts";
import { denoFs } from "../config/sources.ts";
import { getAt, isPlainObject } from "../core/tree.ts";
import type { KeySettings } from "../crypto/key_source.ts";
import type { CliIo } from "./cli_io.ts";

/** What the key and store commands need. */
export interface SecretsSettings {
  key: KeySettings;
  storeFile?: string;
  maxKeyAgeDays: number;
  /** The JSON configuration file, when one is named. */
  configFile?: string;
  /** The `.env` file read, when present. */
  dotenvFile?: string;
}

/** Flags the commands accept to point elsewhere. */
export interface SecretsFlags {
  config?: string | undefined;
  keyFile?: string | undefined;
  passphraseFile?: string | undefined;
  storeFile?: string | undefined;
}

/** Resolves the settings; problems (unreadable files) are collected, never thrown. */
export async function resolveSecretsSettings(
  io: CliIo,
  flags: SecretsFlags,
  problems: string[],
): Promise<SecretsSettings> {
  const env = io.env ?? Deno.env.toObject();
  const cwd = io.cwd ?? Deno.cwd();
  const envFile = resolve(cwd, env[META_ENV.envFile] || ".env");
  const dotenv = await readDotenv(envFile, !!env[META_ENV.envFile], denoFs, problems);
  const layers: StringLayer[] = [{ kind: "env", values: env, baseDir: cwd }];
  if (dotenv) layers.push({ kind: "dotenv", values: dotenv, baseDir: resolve(envFile, ".."), file: envFile });
  const configSetting = flags.config ?? (env[META_ENV.config] || dotenv?.[META_ENV.config]);
  const configFile = configSetting ? resolve(cwd, configSetting) : undefined;
  const json = configFile ? await readJsonObject(configFile, denoFs, problems) : undefined;
  const fileSecrets = isPlainObject(json?.secrets) ? json.secrets : {};

  const value = (path: string): string | undefined => {
    const spec = SETTINGS.find((s) => s.path === path)!;
    const hit = findInLayers(spec, layers, problems, []);
    if (hit) return spec.kind === "path" ? resolve(hit.origin.baseDir, hit.value) : hit.value;
    const v = getAt(fileSecrets, path.split(".").slice(1));
    if (typeof v === "string" && v !== "") return spec.kind === "path" ? resolve(configFile!, "..", v) : v;
    if (typeof v === "number") return String(v);
    return undefined;
  };

  let key: KeySettings = {
    masterKey: value("secrets.masterKey"),
    masterKeyFile: value("secrets.masterKeyFile"),
    passphrase: value("secrets.passphrase"),
    passphraseFile: value("secrets.passphraseFile"),
  };
  if (flags.keyFile) key = { masterKeyFile: resolve(cwd, flags.keyFile) };
  else if (flags.passphraseFile) key = { passphraseFile: resolve(cwd, flags.passphraseFile) };
  const storeFile = flags.storeFile ? resolve(cwd, flags.storeFile) : value("secrets.storeFile");
  const age = Number(value("secrets.maxKeyAgeDays") ?? 365);
  return {
    key,
    maxKeyAgeDays: Number.isInteger(age) && age > 0 ? age : 365,
    ...(storeFile ? { storeFile } : {}),
    ...(configFile ? { configFile } : {}),
    ...(dotenv ? { dotenvFile: envFile } : {}),
  };
}
