/**
 * Master keys: a random 256-bit key (base64, usually in a 0600 key file) or a passphrase stretched with
 * PBKDF2-SHA256 (600,000 iterations) and a per-file salt. Each AES key has a short id, stored beside sealed values,
 * so a wrong key is named as such.
 * @module
 */
import { bytes, fromBase64, toBase64, toBase64Url, utf8 } from "./encoding.ts";

/** Length of a master key in bytes (AES-256). */
export const KEY_BYTES = 32;
/** PBKDF2-SHA256 iterations for new passphrase-derived keys (OWASP 2023 minimum for SHA-256). */
export const PBKDF2_ITERATIONS = 600_000;
/**
 * Most PBKDF2 iterations a sealed value may ask for. The count is stored in the value, so an edited value could
 * otherwise stall start-up for hours; ten million (about 17 times the default) leaves room for stronger settings.
 */
export const PBKDF2_MAX_ITERATIONS = 10_000_000;
/** Salt length for passphrase-derived keys. */
export const SALT_BYTES = 16;
/** Shortest passphrase accepted. */
export const MIN_PASSPHRASE_CHARS = 12;

/** The problem with a master key or key file; the message names the setting, never the key. */
export class KeyError extends Error {
  override readonly name = "KeyError";
}

/** An AES-256-GCM key ready to seal and open values. */
export interface AesKey {
  /** 8 hex digits derived from the key (SHA-256 over a label and the key). */
  id: string;
  key: CryptoKey;
}

/** Where a passphrase-derived key came from (stored in each sealed value). */
export interface KdfParams {
  iterations: number;
  salt: Uint8Array;
}

/** What was learned about the key's source. */
export interface KeyInfo {
  /** For messages: `PROXMOX_MCP_MASTER_KEY_FILE (/etc/pve-mcp/master.key)`. */
  source: string;
  /** The key file, when there is one. */
  file?: string;
  /** When the key was made (from the key file's header, else its modification time). */
  createdAt?: Date;
}

/** A master key: either a raw key with a fixed id, or a passphrase whose AES key depends on the salt. */
export class MasterKey {
  readonly #raw?: AesKey;
  readonly #passphrase?: string;
  readonly #derived = new Map<string, Promise<AesKey>>();

  private constructor(readonly kind: "key" | "passphrase", readonly info: KeyInfo, raw?: AesKey, passphrase?: string) {
    if (raw !== undefined) this.#raw = raw;
    if (passphrase !== undefined) this.#passphrase = passphrase;
  }

  /** A raw 256-bit key. */
  static async fromBytes(raw: Uint8Array, info: KeyInfo): Promise<MasterKey> {
    if (raw.length !== KEY_BYTES) {
      throw new KeyError(`${info.source}: expected ${KEY_BYTES} bytes of key, got ${raw.length}`);
    }
    return new MasterKey("key", info, await importAesKey(raw));
  }

  /** A passphrase; the AES key of each file is derived with that file's salt. */
  static fromPassphrase(passphrase: string, info: KeyInfo): MasterKey {
    if ([...passphrase].length < MIN_PASSPHRASE_CHARS) {
      throw new KeyError(
        `${info.source}: the passphrase is too short; use at least ${MIN_PASSPHRASE_CHARS} characters ` +
          "(or a random key from `pve-mcp config generate-key`)",
      );
    }
    return new MasterKey("passphrase", info, undefined, passphrase);
  }

  /** Key id of a raw key (undefined for passphrases, whose id depends on the salt). */
  get id(): string | undefined {
    return this.#raw?.id;
  }

  /** The AES key for a value: the raw key, or the passphrase derived with the value's salt and iterations. */
  aesKey(kdf?: KdfParams): Promise<AesKey> {
    if (this.#raw) return Promise.resolve(this.#raw);
    if (!kdf) throw new KeyError("a passphrase-derived key needs the salt stored with the sealed value");
    const cacheKey = `${kdf.iterations}.${toBase64Url(kdf.salt)}`;
    let derived = this.#derived.get(cacheKey);
    if (!derived) {
      derived = deriveKey(this.#passphrase!, kdf);
      this.#derived.set(cacheKey, derived);
    }
    return derived;
  }

  /** Fresh KDF parameters for sealing a file (undefined for raw keys). */
  newKdfParams(): KdfParams | undefined {
    if (this.#raw) return undefined;
    return { iterations: PBKDF2_ITERATIONS, salt: crypto.getRandomValues(new Uint8Array(SALT_BYTES)) };
  }
}

/** Computes the short id of an AES key from its bytes. */
export async function keyIdOf(raw: Uint8Array): Promise<string> {
  const label = utf8("pve-mcp key id v1\0");
  const data = new Uint8Array(label.length + raw.length);
  data.set(label);
  data.set(raw, label.length);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  data.fill(0);
  return [...digest.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function importAesKey(raw: Uint8Array): Promise<AesKey> {
  const copy = bytes(raw);
  const key = await crypto.subtle.importKey("raw", copy, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  const id = await keyIdOf(copy);
  copy.fill(0);
  return { id, key };
}

async function deriveKey(passphrase: string, kdf: KdfParams): Promise<AesKey> {
  const base = await crypto.subtle.importKey("raw", utf8(passphrase.normalize("NFC")), "PBKDF2", false, ["deriveBits"]);
  const bits = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt: bytes(kdf.salt), iterations: kdf.iterations },
      base,
      KEY_BYTES * 8,
    ),
  );
  return await importAesKey(bits);
}

/** 32 fresh random bytes. */
export function generateKeyBytes(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(KEY_BYTES));
}

/** The text of a key file: comment header (id, created) and the key in base64 on its own line. */
export async function formatKeyFile(raw: Uint8Array, createdAt: Date): Promise<string> {
  return [
    "# pve-mcp master key (AES-256). Keep it apart from the files it seals, mode 0600, and back it up offline.",
    `# id: ${await keyIdOf(raw)}`,
    `# created: ${createdAt.toISOString()}`,
    toBase64(raw),
    "",
  ].join("\n");
}

/**
 * Parses a key file or key setting: base64 (standard or URL-safe) of 32 bytes, optionally after `#` comment lines
 * (`# created: ISO-8601` is read). `source` names the setting in errors.
 */
export function parseKeyText(text: string, source: string): { raw: Uint8Array; createdAt?: Date } {
  let createdAt: Date | undefined;
  const body: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === "") continue;
    if (t.startsWith("#")) {
      const m = /^#\s*created:\s*(\S+)/i.exec(t);
      const d = m ? new Date(m[1]!) : undefined;
      if (d && !Number.isNaN(d.getTime())) createdAt = d;
      continue;
    }
    body.push(t);
  }
  const raw = body.length === 1 ? fromBase64(body[0]!) : undefined;
  if (raw === undefined || raw.length !== KEY_BYTES) {
    throw new KeyError(
      `${source}: not a master key; expected ${KEY_BYTES} random bytes in base64 ` +
        "(make one with `pve-mcp config generate-key`)",
    );
  }
  return createdAt === undefined ? { raw } : { raw, createdAt };
}
