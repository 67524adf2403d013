/**
 * `loadConfig`: merges CLI flags > environment > `.env` > JSON file, reads `NAME_FILE` secrets, opens sealed
 * `enc:v1:` values, validates with the one schema, and reports every problem at once.
 * @module
 */
import { resolve } from "node:path";
import { getConfig } from "@logtape/logtape";
import { log, setupLogging } from "../log.ts";
import { type Config, ConfigSchema } from "./schema.ts";
import { ConfigError } from "./errors.ts";
import { META_ENV, META_FLAGS, SECRET_ENV_NAMES, SETTINGS, type SettingSpec } from "./settings.ts";
import {
  type ConfigFs,
  denoFs,
  describeReadError,
  findInLayers,
  fromJsonObject,
  type JsonConfig,
  parseConfigFlags,
  readDotenv,
  readJsonObject,
  type StringLayer,
} from "./sources.ts";
import { concretePaths, type Origin } from "./tree.ts";
import { deleteAt, getAt, isPlainObject, setAt, type Tree } from "../core/tree.ts";
import { formatIssues } from "./issues.ts";
import { checkFileModes, unknownEnvWarnings } from "./warnings.ts";
import { unsealSecrets } from "./unseal.ts";
import type { MasterKey } from "../crypto/keys.ts";

/** Where to read the configuration from. Every field is optional; defaults read the real process. */
export interface LoadOptions {
  /** CLI arguments holding only configuration flags (`--mode operator --config c.json`). */
  args?: readonly string[];
  /** Flags the caller already parsed (keys are flag names; unknown keys are ignored). Beats `args`. */
  flags?: Readonly<Record<string, string | boolean | undefined>>;
  /** Environment variables; default: the process environment. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory of `.env` and of relative paths; default: the working directory. */
  cwd?: string;
  readFile?: (path: string) => Promise<string>;
  /** File mode bits for permission warnings (null where modes do not apply). */
  fileMode?: (path: string) => Promise<number | null | undefined>;
  /** When false, a configuration without any cluster is accepted (`clusters` is then empty). Default true. */
  requireCluster?: boolean;
  /** Remove secret variables from the process environment after loading. Default: true when `env` is not given. */
  scrubEnv?: boolean;
  /** Clock for key-age warnings; default `Date.now`. */
  now?: () => number;
}

/** The configuration plus what the loader learned on the way (for `config check` and `config status`). */
export interface LoadedConfig {
  config: Config;
  /** Warnings (plain secrets, file modes, ignored variables); `loadConfig` logs them. */
  warnings: string[];
  files: { config?: string; dotenv?: string };
  /** Where each value came from, by schema path (`clusters.prod.tokenSecret`). */
  origins: ReadonlyMap<string, Origin>;
  /** Schema paths of secrets that were sealed (`enc:v1:`) and opened. */
  sealed: string[];
  /** Key id of the master key (raw keys; passphrase-derived ids depend on each file's salt). */
  keyId?: string;
  /** The master key, when one is set (for the secret store and the `config` commands). */
  key?: MasterKey;
}

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/**
 * Loads and validates the configuration, and logs its warnings (setting logging up at the configured level when
 * nothing has yet).
 * @throws {ConfigError} listing every problem by variable, flag or file key (never a value).
 */
export async function loadConfig(opts: LoadOptions = {}): Promise<Config> {
  const loaded = await loadConfigDetailed(opts);
  // Warnings come before the caller sets logging up: configure it now (at the configured level) so none is lost.
  if (loaded.warnings.length > 0 && getConfig() === null) await setupLogging(loaded.config.logging.level);
  const logger = log("config");
  for (const warning of loaded.warnings) logger.warn(warning);
  return loaded.config;
}

/** Like {@linkcode loadConfig}, and also returns the warnings and where each value came from. */
export async function loadConfigDetailed(opts: LoadOptions = {}): Promise<LoadedConfig> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const env = opts.env ?? Deno.env.toObject();
  const cwd = opts.cwd ?? Deno.cwd();
  const fs: ConfigFs = {
    readTextFile: opts.readFile ?? denoFs.readTextFile,
    fileMode: opts.fileMode ?? (opts.readFile ? () => Promise.resolve(undefined) : denoFs.fileMode),
    ...(opts.readFile ? {} : { mtime: denoFs.mtime! }),
  };

  // 1. Flags, environment and .env, in precedence order.
  const flags = opts.args === undefined ? {} : parseConfigFlags(opts.args, problems);
  for (const [k, v] of Object.entries(opts.flags ?? {})) if (typeof v === "string") flags[k] = v;
  const envFileSetting = flags[META_FLAGS.envFile] ?? nonEmpty(env[META_ENV.envFile]);
  const dotenvPath = resolve(cwd, expandHome(envFileSetting ?? ".env", env));
  const dotenv = await readDotenv(dotenvPath, envFileSetting !== undefined, fs, problems);
  const layers: StringLayer[] = [
    { kind: "flag", values: flags, baseDir: cwd },
    { kind: "env", values: env, baseDir: cwd },
  ];
  if (dotenv) layers.push({ kind: "dotenv", values: dotenv, baseDir: resolve(dotenvPath, ".."), file: dotenvPath });

  // 2. The JSON file.
  const configSetting = flags[META_FLAGS.config] ?? nonEmpty(env[META_ENV.config]) ??
    nonEmpty(dotenv?.[META_ENV.config]);
  const configPath = configSetting === undefined ? undefined : resolve(cwd, expandHome(configSetting, env));
  const rawFile = configPath === undefined ? undefined : await readJsonObject(configPath, fs, problems);
  // A named file that cannot be read or parsed: what it holds is unknown, so checking further would only add
  // knock-on problems (a missing host, a missing credential) that the file may well have had.
  if ((configPath !== undefined && rawFile === undefined) || (envFileSetting !== undefined && dotenv === undefined)) {
    throw new ConfigError(problems);
  }

  // 3. Which cluster the PROXMOX_* variables and flags apply to.
  const dcSpec = SETTINGS.find((s) => s.path === "defaultCluster")!;
  const dcHit = findInLayers(dcSpec, layers, problems, warnings);
  const fileDefault = typeof rawFile?.defaultCluster === "string" ? rawFile.defaultCluster : undefined;
  const chosenDefault = dcHit?.value.trim() ?? fileDefault;
  const file: JsonConfig | undefined = rawFile && configPath
    ? fromJsonObject(configPath, rawFile, chosenDefault ?? "default", problems, warnings)
    : undefined;
  const tree: Tree = file?.tree ?? {};
  const origins = new Map<string, Origin>(file?.origins ?? []);
  const fileClusters = file?.clusterNames ?? [];
  const target = chosenDefault ??
    (fileClusters.length === 0 ? "default" : fileClusters.length === 1 ? fileClusters[0]! : undefined);

  // 4. Layered values override the file.
  const reads: Promise<void>[] = [];
  for (const spec of SETTINGS) {
    const hit = spec === dcSpec ? dcHit : findInLayers(spec, layers, problems, warnings);
    if (hit === undefined) continue;
    let parts = spec.path.split(".");
    if (parts[0] === "clusters") {
      if (target === undefined) {
        problems.push(
          `${hit.origin.label}: ${fileClusters.length} clusters are configured in ${file?.path}; set ` +
            `PROXMOX_MCP_DEFAULT_CLUSTER (or defaultCluster in the file) to choose the one it applies to`,
        );
        continue;
      }
      parts = ["clusters", target, ...parts.slice(2)];
    }
    const key = parts.join(".");
    origins.set(key, hit.origin);
    if (hit.readFrom === undefined) {
      setAt(tree, parts, hit.value);
      continue;
    }
    const path = hit.readFrom;
    reads.push(
      fs.readTextFile(path).then(
        (text) => setAt(tree, parts, text.replace(/[\r\n]+$/, "")),
        (error) => {
          deleteAt(tree, parts);
          origins.delete(key);
          problems.push(`${hit.origin.label}: ${describeReadError(path, error)}`);
        },
      ),
    );
    setAt(tree, parts, undefined);
  }
  await Promise.all(reads);

  // 5. Types from text, paths made absolute, token ids completed.
  if (tree.clusters === undefined) tree.clusters = {};
  const clusters = isPlainObject(tree.clusters) ? tree.clusters : undefined;
  if (clusters && opts.requireCluster !== false && Object.keys(clusters).length === 0) {
    clusters[target ?? "default"] = {};
  }
  for (const spec of SETTINGS) {
    for (const parts of concretePaths(spec, tree)) {
      const value = getAt(tree, parts);
      if (value === undefined) {
        deleteAt(tree, parts);
        continue;
      }
      const origin = origins.get(parts.join("."));
      setAt(tree, parts, coerce(spec, value, origin?.baseDir ?? cwd, env));
    }
  }
  for (const name of Object.keys(clusters ?? {})) completeTokenIds(clusters![name]);
  if (tree.defaultCluster === undefined) {
    const names = Object.keys(clusters ?? {});
    tree.defaultCluster = names[0] ?? "";
  }

  // 6. Sealed values and secret references.
  const unsealed = await unsealSecrets(tree, origins, { fs, problems, warnings, now: opts.now ?? Date.now });

  // 7. Validation.
  const parsed = ConfigSchema.safeParse(tree);
  if (!parsed.success) problems.push(...formatIssues(parsed.error.issues, { origins, target, legacy: !!file?.legacy }));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);

  warnings.push(...unknownEnvWarnings(env, "the environment"));
  if (dotenv) warnings.push(...unknownEnvWarnings(dotenv, dotenvPath));
  warnings.push(...(await checkFileModes(origins, unsealed.keyFiles, fs)));

  if (opts.scrubEnv ?? opts.env === undefined) scrubSecretEnv();
  return {
    config: parsed.data,
    warnings,
    files: {
      ...(configPath === undefined ? {} : { config: configPath }),
      ...(dotenv === undefined ? {} : { dotenv: dotenvPath }),
    },
    origins,
    sealed: unsealed.sealed,
    ...(unsealed.keyId === undefined ? {} : { keyId: unsealed.keyId }),
    ...(unsealed.key === undefined ? {} : { key: unsealed.key }),
  };
}

/** Removes every secret-carrying variable from the process environment (the values live on in the Config). */
export function scrubSecretEnv(env: { delete(name: string): void } = Deno.env): void {
  for (const name of SECRET_ENV_NAMES) {
    try {
      env.delete(name);
    } catch {
      // No env permission: nothing to scrub.
    }
  }
}

function coerce(spec: SettingSpec, value: unknown, baseDir: string, env: Readonly<Record<string, string | undefined>>) {
  if (typeof value !== "string") return value;
  switch (spec.kind) {
    case "int":
      return /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
    case "bool": {
      const l = value.trim().toLowerCase();
      return TRUE.has(l) ? true : FALSE.has(l) ? false : value;
    }
    case "list":
      return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
    case "enum": {
      const l = value.trim().toLowerCase();
      return spec.path === "policy.mode" && (l === "readonly" || l === "read_only") ? "read-only" : l;
    }
    case "path":
      return value.trim() === "" ? value : resolve(baseDir, expandHome(value.trim(), env));
    case "string":
      return spec.secret ? value : value.trim();
  }
}

function completeTokenIds(cluster: unknown): void {
  if (!isPlainObject(cluster)) return;
  const user = typeof cluster.user === "string" ? cluster.user : undefined;
  if (typeof cluster.tokenId === "string" && !cluster.tokenId.includes("!") && user) {
    cluster.tokenId = `${user}!${cluster.tokenId}`;
  }
  const write = cluster.write;
  if (isPlainObject(write) && typeof write.tokenId === "string" && !write.tokenId.includes("!")) {
    const writeUser = typeof write.user === "string" ? write.user : user;
    if (writeUser) write.tokenId = `${writeUser}!${write.tokenId}`;
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}

function expandHome(path: string, env: Readonly<Record<string, string | undefined>>): string {
  const home = env.HOME ?? env.USERPROFILE;
  return path.startsWith("~/") && home ? `${home}${path.slice(1)}` : path;
}
