/**
 * Base64 helpers (standard and URL-safe), strict about the alphabet so a damaged value is reported, not guessed.
 * @module
 */
import { Buffer } from "node:buffer";

/** Bytes → URL-safe base64 without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

/** `n` random bytes as URL-safe base64 without padding (tokens, ids, nonces). */
export function randomBase64Url(n: number): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(n)));
}

/** Bytes → standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

/**
 * Standard or URL-safe base64 (padding optional) → bytes; undefined when the text is not base64.
 * Whitespace around the text is ignored.
 */
export function fromBase64(text: string): Uint8Array | undefined {
  const t = text.trim();
  if (t === "" || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) return undefined;
  const body = t.replace(/=+$/, "");
  if (body.length % 4 === 1) return undefined;
  return new Uint8Array(Buffer.from(body.replaceAll("-", "+").replaceAll("_", "/"), "base64"));
}

/** Strict URL-safe base64 without padding → bytes; undefined for any other text (signed values must be exact). */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  return bytes(Buffer.from(text, "base64url"));
}

/** UTF-8 text → bytes. */
export const utf8 = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text);

/** Bytes → UTF-8 text (fatal on invalid sequences). */
export const fromUtf8 = (bytes: Uint8Array): string => new TextDecoder("utf-8", { fatal: true }).decode(bytes);

/** Copies into a fresh ArrayBuffer-backed array (what Web Crypto's types want). */
export function bytes(data: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(data.length);
  out.set(data);
  return out;
}

/**
 * One SHA-256 certificate fingerprint in PVE's form (upper-case hex pairs joined by `:`), from `AA:BB:…`, 64 hex
 * digits, or either with a `sha256:` prefix (`:`, `-` and whitespace between digits are ignored); undefined when the
 * text is not 32 bytes of hex.
 */
export function canonicalFingerprint(text: string): string | undefined {
  const hex = text.trim().replace(/^sha256[:=\s]*/i, "").replace(/[:\s-]/g, "");
  return /^[0-9A-Fa-f]{64}$/.test(hex) ? hex.toUpperCase().match(/../g)!.join(":") : undefined;
}
