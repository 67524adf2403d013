/**
 * Config files that hold secret settings — a JSON config (ours or the Python server's layout), a `.env` file, or the
 * secret store — seen as a list of secret slots (src/secrets/sealed_file.ts). Field paths (the additional data of each
 * sealed value) are the JSON key path in the file, the primary variable name in `.env`, or `secret://NAME` in the
 * store, exactly as the loader binds them.
 * @module
 */
import { parseEnv } from "node:util";
import { SETTINGS } from "./settings.ts";
import { getAt, isPlainObject, type Tree } from "../core/tree.ts";
import {
  classify,
  type SecretFile,
  SecretFileError,
  type SecretSlot,
  STORE_KIND,
  storeSlots,
} from "../secrets/sealed_file.ts";

const KEY_FIELDS = new Set(["secrets.masterKey", "secrets.passphrase"]);
const SECRET_SPECS = SETTINGS.filter((s) => s.secret);

/** Parses a file's text; the format follows the extension, else the content. */
export function parseSecretFile(path: string, text: string): SecretFile {
  const trimmed = text.trimStart();
  if (path.endsWith(".json") || trimmed.startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new SecretFileError(`${path}: not valid JSON`);
    }
    if (!isPlainObject(json)) throw new SecretFileError(`${path}: expected a JSON object at the top level`);
    return json.kind === STORE_KIND ? storeSlots(path, json) : jsonSlots(path, json);
  }
  return envSlots(path, text);
}

function jsonSlots(path: string, json: Tree): SecretFile {
  const slots: SecretSlot[] = [];
  const add = (parts: string[], key: boolean) => {
    const value = getAt(json, parts);
    if (value === undefined || typeof value !== "string") return;
    const field = parts.join(".");
    const c = key ? { state: "key" as const } : classify(value);
    slots.push({ field, label: field, value, ...c, loc: { kind: "json", parts } });
  };
  const clusters = isPlainObject(json.clusters) ? Object.keys(json.clusters) : [];
  const clusterSpecs = SECRET_SPECS.filter((s) => s.path.startsWith("clusters."));
  for (const name of clusters) {
    for (const spec of clusterSpecs) add(["clusters", name, ...spec.path.split(".").slice(2)], false);
  }
  const legacy = isPlainObject(json.proxmox) || isPlainObject(json.auth);
  for (const spec of SECRET_SPECS) {
    if (!spec.path.startsWith("clusters.")) add(spec.path.split("."), KEY_FIELDS.has(spec.path));
    if (legacy) { for (const path of spec.legacy ?? []) add(path.split("."), false); }
  }
  return { path, format: "json", slots, json };
}

const ENV_LINE = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/;

function envSlots(path: string, text: string): SecretFile {
  const lines = text.split("\n");
  const slots: SecretSlot[] = [];
  lines.forEach((line, i) => {
    const m = ENV_LINE.exec(line);
    if (!m) return;
    const name = m[2]!;
    const spec = SECRET_SPECS.find((s) => s.env.includes(name));
    if (!spec) return;
    const value = parseEnv(`${name}=${m[3]!}`)[name] ?? "";
    const c = KEY_FIELDS.has(spec.path) ? { state: "key" as const } : classify(value);
    slots.push({
      field: spec.env[0]!,
      label: `${name} (line ${i + 1})`,
      value,
      ...c,
      loc: { kind: "env", line: i, name, prefix: m[1]! },
    });
  });
  return { path, format: "env", slots, lines };
}
