/**
 * Files that hold secret values seen as a list of secret slots that can be sealed, opened and written back: the
 * slot model, the secret store's own layout (field path `secret://NAME`), and sealing helpers. Config files (JSON and
 * `.env`) are parsed into slots by src/config/secret_file.ts, which knows the settings.
 * @module
 */
import { isPlainObject, setAt, type Tree } from "../core/tree.ts";
import type { KdfParams, MasterKey } from "../crypto/keys.ts";
import { isLegacySealed, looksSealed, openValue, parseSealed, SEALED_PREFIX, sealValue } from "../crypto/sealed.ts";

/** `kind` of a secret store file. */
export const STORE_KIND = "pve-mcp secret store";

/** State of one secret slot. */
export type SlotState = "plain" | "sealed" | "legacy" | "unknown-enc" | "ref" | "empty" | "key";

/** One secret value in a file. */
export interface SecretSlot {
  /** Field path bound into the sealed value. */
  field: string;
  /** Where it is in the file, for messages: `auth.token_value`, `PROXMOX_TOKEN_SECRET (line 3)`. */
  label: string;
  value: string;
  state: SlotState;
  /** Key id of a sealed (`enc:v1:`) value. */
  keyId?: string;
  /** Passphrase KDF parameters of a sealed value. */
  kdf?: KdfParams;
  loc: { kind: "json"; parts: string[] } | { kind: "env"; line: number; name: string; prefix: string };
}

/** A parsed file with its secret slots. */
export interface SecretFile {
  path: string;
  format: "json" | "env" | "store";
  slots: SecretSlot[];
  json?: Tree;
  lines?: string[];
}

/** Thrown when a file is neither JSON nor `.env`. */
export class SecretFileError extends Error {
  override readonly name = "SecretFileError";
}

/** The state of a value found in a secret slot (plain, sealed, a reference, …). */
export function classify(value: unknown): { state: SlotState; keyId?: string; kdf?: KdfParams } {
  if (typeof value !== "string" || value === "") return { state: "empty" };
  if (value.startsWith("secret://")) return { state: "ref" };
  if (!looksSealed(value)) return { state: "plain" };
  if (isLegacySealed(value)) return { state: "legacy" };
  if (!value.startsWith(SEALED_PREFIX)) return { state: "unknown-enc" };
  try {
    const p = parseSealed(value, "value");
    return { state: "sealed", keyId: p.keyId, ...(p.kdf ? { kdf: p.kdf } : {}) };
  } catch {
    return { state: "sealed" };
  }
}

/** The secret slots of a secret store file (its `entries`). */
export function storeSlots(path: string, json: Tree): SecretFile {
  const slots: SecretSlot[] = [];
  const entries = isPlainObject(json.entries) ? json.entries : {};
  for (const [name, entry] of Object.entries(entries)) {
    if (!isPlainObject(entry) || typeof entry.value !== "string") continue;
    const c = classify(entry.value);
    slots.push({
      field: `secret://${name}`,
      label: `secret ${name}`,
      value: entry.value,
      ...c,
      loc: { kind: "json", parts: ["entries", name, "value"] },
    });
  }
  return { path, format: "store", slots, json };
}

/** The file's text with some slots replaced (other bytes of a `.env` file are kept as they were). */
export function renderSecretFile(file: SecretFile, replacements: ReadonlyMap<SecretSlot, string>): string {
  if (file.format === "env") {
    const lines = [...file.lines!];
    for (const [slot, value] of replacements) {
      if (slot.loc.kind !== "env") continue;
      lines[slot.loc.line] = `${slot.loc.prefix}${slot.loc.name}=${value}`;
    }
    return lines.join("\n");
  }
  const json = structuredClone(file.json!);
  for (const [slot, value] of replacements) if (slot.loc.kind === "json") setAt(json, slot.loc.parts, value);
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** KDF parameters to seal new values of a file with a passphrase: the salt its values already use, else fresh. */
export async function fileKdf(file: SecretFile, key: MasterKey): Promise<KdfParams | undefined> {
  if (key.kind !== "passphrase") return undefined;
  for (const slot of file.slots) {
    if (slot.state !== "sealed" || !slot.kdf) continue;
    const aes = await key.aesKey(slot.kdf);
    if (aes.id === slot.keyId) return slot.kdf;
  }
  return key.newKdfParams();
}

/** Seals `plaintext` for a slot of `file` (one salt per file for passphrase keys). */
export async function sealForSlot(
  slot: SecretSlot,
  plaintext: string,
  key: MasterKey,
  kdf?: KdfParams,
): Promise<string> {
  return await sealValue(key, plaintext, slot.field, kdf);
}

/** Opens every sealed slot; rejects with the first failure (its message names the slot). */
export async function openSlots(
  file: SecretFile,
  keyFor: (slot: SecretSlot) => MasterKey | undefined,
): Promise<Map<SecretSlot, string>> {
  const out = new Map<SecretSlot, string>();
  for (const slot of file.slots) {
    if (slot.state !== "sealed") continue;
    out.set(slot, await openValue(keyFor(slot), slot.value, slot.field, `${slot.label} in ${file.path}`));
  }
  return out;
}
