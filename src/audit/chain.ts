/**
 * The byte format of one audit line and its chain: `{...record,"hmac":"<64 hex>"}`, where the HMAC covers the line
 * with the `hmac` member removed (exact bytes, no re-serialisation) and `prevHash` is the SHA-256 of the previous line.
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { AuditRecord } from "./types.ts";

const HMAC_PREFIX = ',"hmac":"';
const HMAC_SUFFIX_LEN = HMAC_PREFIX.length + 64 + 2; // ,"hmac":" + hex + "}

/** SHA-256 (hex) of a line's UTF-8 bytes, without the trailing newline. */
export function hashLine(line: string): string {
  return createHash("sha256").update(line, "utf8").digest("hex");
}

function mac(key: Uint8Array, body: string): string {
  return createHmac("sha256", key).update(body, "utf8").digest("hex");
}

/** Serialises a record (without `hmac`) into its line (no newline) and the line's hash. */
export function encodeRecord(body: Omit<AuditRecord, "hmac">, key: Uint8Array): { line: string; hash: string } {
  const json = JSON.stringify(body);
  const line = `${json.slice(0, -1)}${HMAC_PREFIX}${mac(key, json)}"}`;
  return { line, hash: hashLine(line) };
}

/** Outcome of checking one line on its own (HMAC and shape; the chain is checked by the caller). */
export type LineCheck =
  | { ok: true; record: AuditRecord; hash: string }
  | { ok: false; reason: string; seq?: number };

/** Checks one line's HMAC and shape. Does not look at `seq` or `prevHash` continuity. */
export function checkLine(line: string, key: Uint8Array): LineCheck {
  const seq = guessSeq(line);
  const at = line.length - HMAC_SUFFIX_LEN;
  if (at < 1 || line.slice(at, at + HMAC_PREFIX.length) !== HMAC_PREFIX || !line.endsWith('"}')) {
    return { ok: false, reason: "the line has no HMAC member at its end", ...seqPart(seq) };
  }
  const given = line.slice(at + HMAC_PREFIX.length, line.length - 2);
  if (!/^[0-9a-f]{64}$/.test(given)) return { ok: false, reason: "the HMAC is not 64 hex digits", ...seqPart(seq) };
  const body = `${line.slice(0, at)}}`;
  const expected = mac(key, body);
  if (!timingSafeEqual(Buffer.from(given, "hex"), Buffer.from(expected, "hex"))) {
    return { ok: false, reason: "the HMAC does not match (record altered, or a different key)", ...seqPart(seq) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { ok: false, reason: "the line is not valid JSON", ...seqPart(seq) };
  }
  const r = parsed as Partial<AuditRecord>;
  if (
    typeof parsed !== "object" || parsed === null || (r.v !== 1 && r.v !== 2) || typeof r.seq !== "number" ||
    !Number.isSafeInteger(r.seq) || typeof r.prevHash !== "string" || !/^[0-9a-f]{64}$/.test(r.prevHash)
  ) {
    return { ok: false, reason: "the record lacks v, seq or prevHash", ...seqPart(seq) };
  }
  return { ok: true, record: parsed as AuditRecord, hash: hashLine(line) };
}

function seqPart(seq: number | undefined): { seq?: number } {
  return seq === undefined ? {} : { seq };
}

/** Best-effort `seq` of a damaged line, for messages. */
function guessSeq(line: string): number | undefined {
  const m = /^\{"v":[12],"seq":(\d{1,15}),/.exec(line);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}
