/**
 * Sealed values: `enc:v1:KEYREF:NONCE:CIPHERTEXT`, AES-256-GCM with a fresh 96-bit nonce per value and the field
 * path as additional data, so a value moved to another field does not open.
 *
 * KEYREF is the key id (8 hex digits) of a raw master key, or `KEYID.ITERATIONS.SALT` for a passphrase-derived key
 * (the salt is shared by every value of a file). NONCE and CIPHERTEXT (with the 16-byte tag) are URL-safe base64.
 * @module
 */
import { bytes, fromBase64, fromUtf8, toBase64Url, utf8 } from "./encoding.ts";
import { type KdfParams, type MasterKey, PBKDF2_ITERATIONS, PBKDF2_MAX_ITERATIONS } from "./keys.ts";

/** Prefix of every value this version seals. */
export const SEALED_PREFIX = "enc:v1:";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Why a value could not be opened. */
export type SealErrorKind = "prefix" | "legacy" | "format" | "missing_key" | "wrong_key" | "auth";

/** A sealed value that cannot be opened. The message names the field (never the value) and what to do. */
export class SealError extends Error {
  override readonly name = "SealError";
  constructor(readonly kind: SealErrorKind, message: string, readonly keyId?: string) {
    super(message);
  }
}

/** The parts of a sealed value. */
export interface SealedParts {
  keyId: string;
  kdf?: KdfParams;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
  /** The KEYREF text, bound into the additional data. */
  ref: string;
}

/** True for any `enc:` value (ours or another format). */
export function looksSealed(value: unknown): value is string {
  return typeof value === "string" && value.startsWith("enc:");
}

/** True for values of the existing Python server (`enc:` + Fernet), which `config migrate` converts. */
export function isLegacySealed(value: string): boolean {
  // Ours are `enc:v<N>:…`; a Python value's first part is base64url and may itself start with "v" (1 in 64 salts).
  return !/^enc:v\d+:/.test(value) && /^enc:[A-Za-z0-9_=-]+(:[A-Za-z0-9_=-]+)?$/.test(value);
}

/** Splits a sealed value; `label` names the field in errors. */
export function parseSealed(value: string, label: string): SealedParts {
  if (!value.startsWith(SEALED_PREFIX)) {
    if (isLegacySealed(value)) {
      throw new SealError(
        "legacy",
        `value of ${label} is sealed in the Python Proxmox MCP server's format (Fernet); ` +
          "convert it with `pve-mcp config migrate`",
      );
    }
    throw new SealError(
      "prefix",
      `value of ${label} has an unknown prefix: expected ${SEALED_PREFIX}… (this version seals only enc:v1 values)`,
    );
  }
  const fields = value.slice(SEALED_PREFIX.length).split(":");
  const bad = (what: string) =>
    new SealError("format", `value of ${label} is not a valid sealed value: ${what}; seal it again`);
  if (fields.length !== 3) throw bad("expected enc:v1:KEYID:NONCE:CIPHERTEXT");
  const [ref, nonceText, ctText] = fields as [string, string, string];
  const refParts = ref.split(".");
  const keyId = refParts[0]!;
  if (!/^[0-9a-f]{8}$/.test(keyId)) throw bad("the key id is not 8 hex digits");
  let kdf: KdfParams | undefined;
  if (refParts.length === 3) {
    const iterations = /^[0-9]{1,9}$/.test(refParts[1]!) ? Number(refParts[1]) : NaN;
    const salt = fromBase64(refParts[2]!);
    if (!(iterations >= PBKDF2_ITERATIONS && iterations <= PBKDF2_MAX_ITERATIONS)) {
      throw bad(
        `the key derivation asks for "${refParts[1]!.slice(0, 12)}" PBKDF2 iterations, outside the accepted ` +
          `${PBKDF2_ITERATIONS}…${PBKDF2_MAX_ITERATIONS} (was the value edited?)`,
      );
    }
    if (!salt || salt.length < 16) throw bad("the salt is damaged");
    kdf = { iterations, salt };
  } else if (refParts.length !== 1) {
    throw bad("the key reference is damaged");
  }
  const nonce = fromBase64(nonceText);
  const ciphertext = fromBase64(ctText);
  if (!nonce || nonce.length !== NONCE_BYTES) throw bad("the nonce is damaged");
  if (!ciphertext || ciphertext.length < TAG_BYTES) throw bad("the ciphertext is damaged");
  return { keyId, ...(kdf ? { kdf } : {}), nonce, ciphertext, ref };
}

function aad(ref: string, field: string): Uint8Array<ArrayBuffer> {
  return utf8(`pve-mcp/enc:v1/${ref}/${field}`);
}

/**
 * Seals `plaintext` for `field` (the field path bound as additional data). Passphrase keys need `kdf`: one salt per
 * file (see {@linkcode MasterKey.newKdfParams}); a fresh one is made when absent.
 */
export async function sealValue(key: MasterKey, plaintext: string, field: string, kdf?: KdfParams): Promise<string> {
  const params = key.kind === "passphrase" ? kdf ?? key.newKdfParams() : undefined;
  const aes = await key.aesKey(params);
  const ref = params ? `${aes.id}.${params.iterations}.${toBase64Url(params.salt)}` : aes.id;
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: aad(ref, field) },
      aes.key,
      utf8(plaintext),
    ),
  );
  return `${SEALED_PREFIX}${ref}:${toBase64Url(nonce)}:${toBase64Url(ct)}`;
}

/**
 * Opens a sealed value of `field`. `label` names the field in messages (default: the field path).
 * @throws {SealError} with the wording people can act on: wrong key, damaged value, missing key, bad prefix.
 */
export async function openValue(
  key: MasterKey | undefined,
  value: string,
  field: string,
  label: string = field,
): Promise<string> {
  const parts = parseSealed(value, label);
  if (!key) {
    throw new SealError(
      "missing_key",
      `value of ${label} is sealed (key id ${parts.keyId}) but no master key is set: set PROXMOX_MCP_MASTER_KEY_FILE ` +
        "(or PROXMOX_MCP_MASTER_KEY, or PROXMOX_MCP_MASTER_PASSPHRASE for passphrase-sealed files)",
      parts.keyId,
    );
  }
  if ((parts.kdf === undefined) !== (key.kind === "key")) {
    const sealedWith = parts.kdf ? "a passphrase" : "a master key";
    const given = key.kind === "key" ? "a master key" : "a passphrase";
    throw new SealError(
      "wrong_key",
      `the master key does not match: file sealed with key id ${parts.keyId} (from ${sealedWith}), ` +
        `but ${given} is set (value of ${label})`,
      parts.keyId,
    );
  }
  const aes = await key.aesKey(parts.kdf);
  if (aes.id !== parts.keyId) {
    throw new SealError(
      "wrong_key",
      `the master key does not match: file sealed with key id ${parts.keyId}, the current key has id ${aes.id} ` +
        `(value of ${label})`,
      parts.keyId,
    );
  }
  let plain: Uint8Array;
  try {
    plain = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: bytes(parts.nonce), additionalData: aad(parts.ref, field) },
        aes.key,
        bytes(parts.ciphertext),
      ),
    );
  } catch {
    throw new SealError(
      "auth",
      `value of ${label} failed authentication: the file was changed or damaged ` +
        "(a sealed value also fails when it is moved to another setting)",
      parts.keyId,
    );
  }
  try {
    return fromUtf8(plain);
  } finally {
    plain.fill(0);
  }
}
