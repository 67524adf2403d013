/**
 * Fernet tokens (AES-128-CBC + HMAC-SHA256, https://github.com/fernet/spec) with Web Crypto: only to read the
 * values of the existing Python server during `config migrate` (and to build test fixtures).
 * @module
 */
import { bytes, fromBase64, toBase64Url } from "./encoding.ts";

const VERSION = 0x80;

/** A token that is not Fernet or does not verify with the key. */
export class FernetError extends Error {
  override readonly name = "FernetError";
}

async function keys(key: Uint8Array) {
  if (key.length !== 32) throw new FernetError("a Fernet key has 32 bytes");
  const signing = await crypto.subtle.importKey(
    "raw",
    bytes(key.slice(0, 16)),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
      "verify",
    ],
  );
  const encryption = await crypto.subtle.importKey("raw", bytes(key.slice(16)), { name: "AES-CBC" }, false, [
    "encrypt",
    "decrypt",
  ]);
  return { signing, encryption };
}

/** Verifies and decrypts a token (its base64url text or raw bytes) with a 32-byte Fernet key. */
export async function fernetDecrypt(token: string | Uint8Array, key: Uint8Array): Promise<Uint8Array> {
  const data = typeof token === "string" ? fromBase64(token) : token;
  if (!data || data.length < 1 + 8 + 16 + 16 + 32 || data[0] !== VERSION || (data.length - 57) % 16 !== 0) {
    throw new FernetError("not a Fernet token");
  }
  const { signing, encryption } = await keys(key);
  const body = data.slice(0, data.length - 32);
  const mac = data.slice(data.length - 32);
  if (!(await crypto.subtle.verify("HMAC", signing, bytes(mac), bytes(body)))) {
    throw new FernetError("the Fernet token does not verify with this key");
  }
  const iv = data.slice(9, 25);
  const ciphertext = data.slice(25, data.length - 32);
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt({ name: "AES-CBC", iv: bytes(iv) }, encryption, bytes(ciphertext)),
    );
  } catch {
    throw new FernetError("the Fernet token's padding is damaged");
  }
}

/** Makes a Fernet token (base64url text); for tests and fixtures. */
export async function fernetEncrypt(
  plaintext: Uint8Array,
  key: Uint8Array,
  opts: { iv?: Uint8Array; timeSeconds?: number } = {},
): Promise<string> {
  const { signing, encryption } = await keys(key);
  const iv = opts.iv ?? crypto.getRandomValues(new Uint8Array(16));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-CBC", iv: bytes(iv) }, encryption, bytes(plaintext)),
  );
  const body = new Uint8Array(25 + ct.length);
  body[0] = VERSION;
  new DataView(body.buffer).setBigUint64(1, BigInt(opts.timeSeconds ?? Math.floor(Date.now() / 1000)));
  body.set(iv, 9);
  body.set(ct, 25);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", signing, body));
  const token = new Uint8Array(body.length + 32);
  token.set(body);
  token.set(mac, body.length);
  return toBase64Url(token).padEnd(Math.ceil(token.length / 3) * 4, "=");
}
