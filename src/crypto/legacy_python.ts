/**
 * Values sealed by the existing Python Proxmox MCP server (`enc:SALT:TOKEN`, or `enc:TOKEN` from older versions),
 * read only to re-seal them in our format (`config migrate`).
 *
 * That server's scheme (ProxmoxMCP `utils/encryption.py`): the master key is URL-safe base64 of 32 random bytes;
 * the Fernet key is PBKDF2-HMAC-SHA256 over those bytes with 100,000 iterations, 32 bytes out, and a salt of 16
 * random bytes per value (`enc:SALT:TOKEN`) or the fixed salt `proxmox_mcp_salt` (`enc:TOKEN`). SALT and TOKEN are
 * URL-safe base64; TOKEN encodes the Fernet token's own base64 text once more.
 * @module
 */
import { bytes, fromBase64, fromUtf8, toBase64Url, utf8 } from "./encoding.ts";
import { fernetDecrypt, fernetEncrypt, FernetError } from "./fernet.ts";

/** Iterations the Python server uses. */
export const LEGACY_ITERATIONS = 100_000;
/** Salt of values without one (`enc:TOKEN`). */
export const LEGACY_STATIC_SALT = "proxmox_mcp_salt";

/** A legacy value that cannot be opened; the message never contains the value. */
export class LegacyError extends Error {
  override readonly name = "LegacyError";
}

/** Bytes of the Python server's master key (its `PROXMOX_MCP_MASTER_KEY`). */
export function legacyKeyBytes(masterKey: string): Uint8Array {
  const raw = fromBase64(masterKey.trim());
  if (!raw || raw.length === 0) throw new LegacyError("the legacy master key is not base64");
  return raw;
}

async function fernetKey(master: Uint8Array, salt: Uint8Array): Promise<Uint8Array> {
  const base = await crypto.subtle.importKey("raw", bytes(master), "PBKDF2", false, ["deriveBits"]);
  return new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt: bytes(salt), iterations: LEGACY_ITERATIONS },
      base,
      256,
    ),
  );
}

function tokenBytes(text: string): Uint8Array | undefined {
  const outer = fromBase64(text);
  if (!outer) return undefined;
  if (outer[0] === 0x80) return outer; // a token stored without the second encoding
  try {
    return fromBase64(fromUtf8(outer));
  } catch {
    return undefined;
  }
}

/** Opens one `enc:` value of the Python server with its master key. */
export async function openLegacyValue(value: string, masterKey: string): Promise<string> {
  if (!value.startsWith("enc:")) throw new LegacyError("not an enc: value");
  const parts = value.slice(4).split(":");
  let salt: Uint8Array | undefined;
  let token: Uint8Array | undefined;
  if (parts.length === 2) {
    salt = fromBase64(parts[0]!);
    token = tokenBytes(parts[1]!);
  } else if (parts.length === 1) {
    salt = utf8(LEGACY_STATIC_SALT);
    token = tokenBytes(parts[0]!);
  }
  if (!salt || !token) throw new LegacyError("not a value of the Python server's format (enc:SALT:TOKEN)");
  const key = await fernetKey(legacyKeyBytes(masterKey), salt);
  try {
    return fromUtf8(await fernetDecrypt(token, key));
  } catch (error) {
    if (error instanceof FernetError && error.message.includes("does not verify")) {
      throw new LegacyError("the legacy master key does not open this value (wrong key, or the value was changed)");
    }
    throw new LegacyError(error instanceof Error ? error.message : "the value cannot be opened");
  } finally {
    key.fill(0);
  }
}

/** Seals a value the way the Python server does (for tests and fixtures). */
export async function sealLegacyValue(plaintext: string, masterKey: string, withSalt = true): Promise<string> {
  const salt = withSalt ? crypto.getRandomValues(new Uint8Array(16)) : utf8(LEGACY_STATIC_SALT);
  const key = await fernetKey(legacyKeyBytes(masterKey), salt);
  const token = await fernetEncrypt(utf8(plaintext), key);
  const wrapped = toBase64Url(utf8(token)).padEnd(Math.ceil(token.length / 3) * 4, "=");
  return withSalt ? `enc:${toBase64Url(salt).padEnd(24, "=")}:${wrapped}` : `enc:${wrapped}`;
}
