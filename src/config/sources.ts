/**
 * Reading the configuration sources: CLI flags, environment variables, a `.env` file and a JSON file (our layout or
 * the existing Python server's `proxmox`/`auth` layout). Nothing here validates types; `load.ts` does that.
 * @module
 */
import { parseArgs, parseEnv } from "node:util";
import { dirname, resolve } from "node:path";
import { fileEnvNames, META_FLAGS, SETTINGS, type SettingSpec } from "./settings.ts";
import { type Origin } from "./tree.ts";
import { isPlainObject, setAt, type Tree } from "../core/tree.ts";

/** How the loader reads files; tests inject their own. */
export interface ConfigFs {
  readTextFile(path: string): Promise<string>;
  /** Mode bits (null where modes do not apply, e.g. Windows); undefined when the file cannot be examined. */
  fileMode(path: string): Promise<number | null | undefined>;
  /** Modification time (for the age of key files without a `# created:` header). */
  mtime?(path: string): Promise<Date | undefined>;
}

/** The real file system. */
export const denoFs: ConfigFs = {
  readTextFile: (path) => Deno.readTextFile(path),
  fileMode: async (path) => {
    try {
      return (await Deno.stat(path)).mode;
    } catch {
      return undefined;
    }
  },
  mtime: async (path) => {
    try {
      return (await Deno.stat(path)).mtime ?? undefined;
    } catch {
      return undefined;
    }
  },
};

/** Says why a file could not be read, without its content. */
export function describeReadError(path: string, error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return `cannot read ${path}: the file does not exist`;
  if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable) {
    return `cannot read ${path}: permission denied`;
  }
  if (error instanceof Deno.errors.IsADirectory) return `cannot read ${path}: it is a directory`;
  return `cannot read ${path}: ${error instanceof Error ? error.name : "unknown error"}`;
}

/** parseArgs options of every configuration flag (all take a value), for callers that parse their own argv. */
export const CONFIG_FLAG_OPTIONS: Record<string, { type: "string" }> = Object.fromEntries([
  ...Object.values(META_FLAGS).map((f) => [f, { type: "string" as const }]),
  ...SETTINGS.filter((s) => s.flag !== undefined).map((s) => [s.flag!, { type: "string" as const }]),
]);

/** Parses configuration flags; unknown options and stray arguments become problems (never echoing values). */
export function parseConfigFlags(args: readonly string[], problems: string[]): Record<string, string> {
  const { tokens } = parseArgs({ args: [...args], options: CONFIG_FLAG_OPTIONS, strict: false, tokens: true });
  const out: Record<string, string> = {};
  for (const token of tokens) {
    if (token.kind === "positional") {
      problems.push(`argument ${token.index + 1}: unexpected argument (configuration flags look like --name value)`);
    } else if (token.kind === "option") {
      if (!(token.name in CONFIG_FLAG_OPTIONS)) {
        problems.push(`--${token.name}: unknown option (see docs/configuration.md)`);
      } else if (token.value === undefined) {
        problems.push(`--${token.name}: expects a value`);
      } else {
        out[token.name] = token.value;
      }
    }
  }
  return out;
}

/** Reads and parses a `.env` file; returns undefined when an optional file is absent. */
export async function readDotenv(
  path: string,
  required: boolean,
  fs: ConfigFs,
  problems: string[],
): Promise<Record<string, string> | undefined> {
  let text: string;
  try {
    text = await fs.readTextFile(path);
  } catch (error) {
    if (required || !(error instanceof Deno.errors.NotFound)) problems.push(describeReadError(path, error));
    return undefined;
  }
  return { ...parseEnv(text) } as Record<string, string>;
}

/** One place string values come from, in precedence order. */
export interface StringLayer {
  kind: "flag" | "env" | "dotenv";
  values: Record<string, string | undefined>;
  baseDir: string;
  file?: string;
}

/** A setting's value found in a string layer. */
export interface LayerHit {
  value: string;
  origin: Origin;
  /** Set when the value must still be read from this file (a `NAME_FILE` variable). */
  readFrom?: string;
}

/** Finds the highest-precedence value of one setting among the string layers. */
export function findInLayers(
  spec: SettingSpec,
  layers: readonly StringLayer[],
  problems: string[],
  warnings: string[],
): LayerHit | undefined {
  const primary = spec.env[0] ?? spec.path;
  for (const layer of layers) {
    if (layer.kind === "flag") {
      const v = spec.flag === undefined ? undefined : layer.values[spec.flag];
      if (v !== undefined) {
        return { value: v, origin: { label: `--${spec.flag}`, kind: "flag", aad: primary, baseDir: layer.baseDir } };
      }
      continue;
    }
    const direct = spec.env.filter((n) => nonEmpty(layer.values[n]));
    const viaFile = fileEnvNames(spec).filter((n) => nonEmpty(layer.values[n]));
    if (direct.length === 0 && viaFile.length === 0) continue;
    const where = layer.kind === "dotenv" ? ` (in ${layer.file})` : "";
    if (direct.length > 0 && viaFile.length > 0) {
      problems.push(`${direct[0]}${where}: set only one of ${direct[0]} and ${viaFile[0]}`);
    }
    const chosen = direct[0] ?? viaFile[0]!;
    for (const other of [...direct, ...viaFile].slice(1)) {
      if (direct.length > 0 && viaFile.includes(other)) continue; // already a problem
      warnings.push(`${other}${where} is ignored because ${chosen} is set`);
    }
    const origin: Origin = {
      label: `${chosen}${where}`,
      kind: layer.kind,
      aad: primary,
      baseDir: layer.baseDir,
      ...(layer.file === undefined ? {} : { file: layer.file }),
    };
    const value = layer.values[chosen]!;
    if (direct.length === 0) {
      const file = resolve(layer.baseDir, value);
      return { value, origin: { ...origin, file, viaFile: true }, readFrom: file };
    }
    return { value, origin };
  }
  return undefined;
}

function nonEmpty(v: string | undefined): v is string {
  return v !== undefined && v !== "";
}

/** The parsed JSON configuration file, in our layout, with where each leaf came from. */
export interface JsonConfig {
  path: string;
  tree: Tree;
  origins: Map<string, Origin>;
  /** True when the file uses the `proxmox`/`auth` layout of the existing Python server. */
  legacy: boolean;
  /** Cluster names in file order. */
  clusterNames: string[];
}

/** Reads the raw JSON object of a config file; problems say where the syntax broke (never quoting content). */
export async function readJsonObject(path: string, fs: ConfigFs, problems: string[]): Promise<Tree | undefined> {
  let text: string;
  try {
    text = await fs.readTextFile(path);
  } catch (error) {
    problems.push(describeReadError(path, error));
    return undefined;
  }
  if (text.trim() === "") {
    problems.push(`${path}: the file is empty; write a JSON object ({} at least) or unset the config file setting`);
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isPlainObject(parsed)) {
      problems.push(`${path}: expected a JSON object at the top level`);
      return undefined;
    }
    return parsed;
  } catch (error) {
    // V8's message may quote the file's text (secrets); report only the position.
    const pos = /position (\d+)/.exec(error instanceof Error ? error.message : "")?.[1];
    if (pos === undefined) {
      problems.push(`${path}: not valid JSON`);
    } else {
      const before = text.slice(0, Number(pos));
      const line = before.split("\n").length;
      const column = Number(pos) - before.lastIndexOf("\n");
      problems.push(`${path}: not valid JSON (line ${line}, column ${column})`);
    }
    return undefined;
  }
}

const LEGACY_IGNORED: Record<string, string[]> = {
  proxmox: ["service"],
  auth: [],
  logging: ["format", "file"],
};
const LEGACY_SECTIONS_IGNORED = ["mcp", "security", "features", "server"];

/**
 * Converts a parsed file to our layout. The legacy sections (`proxmox`, `auth`, and `logging.format/file`) map to
 * the cluster `target`; keys they do not know are reported as warnings and dropped.
 */
export function fromJsonObject(
  path: string,
  raw: Tree,
  target: string,
  problems: string[],
  warnings: string[],
): JsonConfig {
  const baseDir = dirname(path);
  const tree: Tree = {};
  const origins = new Map<string, Origin>();
  const origin = (jsonPath: string): Origin => ({
    label: `${jsonPath} (in ${path})`,
    kind: "file",
    aad: jsonPath,
    baseDir,
    file: path,
  });
  const legacy = isPlainObject(raw.proxmox) || isPlainObject(raw.auth);
  for (const [key, value] of Object.entries(raw)) {
    if (key === "$schema") continue;
    if (legacy && (key === "proxmox" || key === "auth" || key === "logging")) continue;
    if (LEGACY_SECTIONS_IGNORED.includes(key) && legacy) {
      warnings.push(`${key} (in ${path}) is a setting of another server and is ignored`);
      continue;
    }
    tree[key] = structuredClone(value);
    for (const [parts] of walk(value, [key])) origins.set(parts.join("."), origin(parts.join(".")));
  }
  if (legacy) {
    for (const section of ["proxmox", "auth", "logging"]) {
      const obj = raw[section];
      if (obj === undefined) continue;
      if (!isPlainObject(obj)) {
        problems.push(`${section} (in ${path}): expected an object`);
        continue;
      }
      for (const [key, value] of Object.entries(obj)) {
        const legacyPath = `${section}.${key}`;
        const spec = SETTINGS.find((s) => s.legacy?.includes(legacyPath));
        if (spec === undefined) {
          if (LEGACY_IGNORED[section]?.includes(key)) {
            warnings.push(`${legacyPath} (in ${path}) is a setting of another server and is ignored`);
          } else {
            problems.push(`${legacyPath} (in ${path}): unknown setting`);
          }
          continue;
        }
        const canonical = spec.path.replace("*", target);
        setAt(tree, canonical.split("."), value);
        origins.set(canonical, origin(legacyPath));
      }
    }
  }
  const clusters = tree.clusters;
  const clusterNames = isPlainObject(clusters) ? Object.keys(clusters) : [];
  return { path, tree, origins, legacy, clusterNames };
}

function walk(value: unknown, prefix: string[]): [string[], unknown][] {
  if (!isPlainObject(value)) return [[prefix, value]];
  const out: [string[], unknown][] = [];
  for (const [k, v] of Object.entries(value)) out.push(...walk(v, [...prefix, k]));
  return out.length === 0 ? [[prefix, value]] : out;
}
