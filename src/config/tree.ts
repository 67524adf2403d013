/**
 * Small helpers for the raw configuration tree the loader builds before validation, and the record of where each
 * value came from.
 * @module
 */
import type { SettingSpec } from "./settings.ts";

/** A nested plain object as read from JSON or built from variables. */
export type Tree = Record<string, unknown>;

/** Where one value came from; used to name it in messages and to bind sealed values to their field. */
export interface Origin {
  /** How messages name the place: `PROXMOX_PORT`, `--pve-port`, `PROXMOX_PORT (in /x/.env)`, `auth.user (in c.json)`. */
  label: string;
  kind: "flag" | "env" | "dotenv" | "file";
  /** Field path bound into a sealed value: the primary variable name, or the key path inside the JSON file. */
  aad: string;
  /** Directory relative paths in this value are resolved against. */
  baseDir: string;
  /** File the value was read from (config file, .env, or the file a `NAME_FILE` variable points to). */
  file?: string;
  /** The value came from a `NAME_FILE` variable. */
  viaFile?: boolean;
}

/** True for plain objects (not arrays, not null). */
export function isPlainObject(value: unknown): value is Tree {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads the value at `parts`, or undefined. */
export function getAt(tree: Tree, parts: readonly string[]): unknown {
  let node: unknown = tree;
  for (const part of parts) {
    if (!isPlainObject(node) || !Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  return node;
}

/** Sets the value at `parts`, creating (or replacing non-object) parents. */
export function setAt(tree: Tree, parts: readonly string[], value: unknown): void {
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (isPlainObject(next)) {
      node = next;
    } else {
      const created: Tree = {};
      node[part] = created;
      node = created;
    }
  }
  node[parts[parts.length - 1]!] = value;
}

/** Removes the value at `parts` if present. */
export function deleteAt(tree: Tree, parts: readonly string[]): void {
  const parent = getAt(tree, parts.slice(0, -1));
  if (isPlainObject(parent)) delete parent[parts[parts.length - 1]!];
}

/** Lists `[path parts, value]` of every leaf (anything that is not a plain object). */
export function leaves(tree: Tree, prefix: string[] = []): [string[], unknown][] {
  const out: [string[], unknown][] = [];
  for (const [key, value] of Object.entries(tree)) {
    if (isPlainObject(value)) out.push(...leaves(value, [...prefix, key]));
    else out.push([[...prefix, key], value]);
  }
  return out;
}

/** Concrete tree paths of a setting (one per configured cluster for cluster settings). */
export function concretePaths(spec: Pick<SettingSpec, "path">, tree: Tree): string[][] {
  const parts = spec.path.split(".");
  if (parts[0] !== "clusters") return [parts];
  const clusters = tree.clusters;
  if (!isPlainObject(clusters)) return [];
  return Object.keys(clusters).filter((n) => isPlainObject(clusters[n])).map((n) => ["clusters", n, ...parts.slice(2)]);
}
