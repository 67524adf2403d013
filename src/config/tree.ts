/**
 * Small helpers for the raw configuration tree the loader builds before validation, and the record of where each
 * value came from.
 * @module
 */
import type { SettingSpec } from "./settings.ts";
import { isPlainObject, type Tree } from "../core/tree.ts";

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

/** Concrete tree paths of a setting (one per configured cluster for cluster settings). */
export function concretePaths(spec: Pick<SettingSpec, "path">, tree: Tree): string[][] {
  const parts = spec.path.split(".");
  if (parts[0] !== "clusters") return [parts];
  const clusters = tree.clusters;
  if (!isPlainObject(clusters)) return [];
  return Object.keys(clusters).filter((n) => isPlainObject(clusters[n])).map((n) => ["clusters", n, ...parts.slice(2)]);
}
