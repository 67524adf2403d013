/**
 * Verification of an audit log: every line's HMAC, consecutive `seq`, and each `prevHash` equal to the hash of the
 * line before it, across rotated files. The chain must start at a file start: the genesis record, or the first record
 * of a file whose rotated predecessor is gone (both carry `fileStart`, v2), so records cut off the head of a log are
 * reported. Logs written before v2 have no such mark and are reported as unanchored. Names the first broken or
 * missing record; a torn last line (crash while writing) is tolerated and reported.
 * @module
 */
import { basename } from "node:path";
import { checkLine, hashLine } from "./chain.ts";
import { auditLocation, isRotatedName, listAuditFiles } from "./files.ts";
import { GENESIS_HASH } from "./types.ts";

const HMAC_END = /,"hmac":"[0-9a-f]{64}"\}/;

/** Where the chain first breaks. */
export interface AuditBreak {
  file: string;
  /** 1-based line number within the file. */
  line: number;
  /** Sequence number of the broken or first missing record, when known. */
  seq?: number;
  message: string;
}

/** Outcome of {@linkcode verifyAudit}. */
export interface AuditVerifyResult {
  ok: boolean;
  /** Files checked, in chain order. */
  files: string[];
  /** Whole records that verified (up to the break, if any). */
  records: number;
  firstSeq?: number;
  lastSeq?: number;
  /** True when the first record is not seq 1: it starts a file whose rotated predecessors are gone. */
  startsLate: boolean;
  /**
   * True when the log begins with v1 records (written before file starts were marked): records removed from its head
   * cannot be detected.
   */
  unanchored?: boolean;
  /** A last line without newline at the end of the newest file (crash mid-write); not an error. */
  tornTail?: { file: string; bytes: number };
  error?: AuditBreak;
}

/**
 * Verifies the log at `path`: a log directory or active file (then all its files, rotated ones first, in chain
 * order), or one rotated file on its own. Never throws for a damaged log; throws only when `path` cannot be read.
 */
export async function verifyAudit(path: string, key: Uint8Array): Promise<AuditVerifyResult> {
  const info = await Deno.stat(path);
  const single = info.isFile && isRotatedName(basename(path));
  const loc = info.isDirectory ? { dir: path, active: "audit.jsonl" } : auditLocation(path);
  const files = single ? [path] : (await listAuditFiles(loc)).map((f) => f.path);
  const result: AuditVerifyResult = { ok: true, files, records: 0, startsLate: false };
  let prev: { seq: number; hash: string } | undefined;
  const decoder = new TextDecoder();

  for (let fi = 0; fi < files.length; fi++) {
    const file = files[fi] as string;
    const bytes = await Deno.readFile(file);
    const text = decoder.decode(bytes);
    const lines = text.split("\n");
    const endsClean = text.length === 0 || text.endsWith("\n");
    const tail = lines.pop() ?? ""; // "" when the file ends with a newline
    if (!endsClean) {
      // A torn record is a strict prefix of a line, so it cannot end in a whole HMAC member. Anything else without a
      // newline (a whole record, or a record whose newline was altered) is checked like any other line.
      if (fi === files.length - 1 && !HMAC_END.test(tail)) {
        result.tornTail = { file, bytes: new TextEncoder().encode(tail).length };
      } else {
        lines.push(tail);
      }
    }
    for (let li = 0; li < lines.length; li++) {
      const line = lines[li] as string;
      const where = { file, line: li + 1 };
      const expectedSeq = prev === undefined ? undefined : prev.seq + 1;
      const fail = (message: string, seq?: number): AuditVerifyResult => {
        result.ok = false;
        result.error = { ...where, ...(seq !== undefined && { seq }), message };
        return result;
      };
      if (line.length === 0) return fail("an empty line where a record should be", expectedSeq);
      const check = checkLine(line, key);
      if (!check.ok) return fail(check.reason, expectedSeq ?? check.seq);
      const { record } = check;
      if (prev === undefined) {
        if (record.seq === 1 && record.prevHash !== GENESIS_HASH) {
          return fail("the first record does not start a chain (prevHash is not the genesis hash)", 1);
        }
        if (record.v === 1) result.unanchored = true;
        else if (record.fileStart !== true) {
          return fail(
            `the log starts in the middle of a file: record ${record.seq} is not the first record of its file, so ` +
              "the records before it were removed",
            record.seq,
          );
        }
        if (record.seq !== 1) result.startsLate = true;
        result.firstSeq = record.seq;
      } else {
        if (record.seq > prev.seq + 1) {
          const missing = record.seq - prev.seq - 1;
          return fail(
            `record ${prev.seq + 1}${missing > 1 ? `..${record.seq - 1}` : ""} is missing (found ${record.seq} next)`,
            prev.seq + 1,
          );
        }
        if (record.seq !== prev.seq + 1) {
          return fail(`record ${record.seq} is out of order (expected ${prev.seq + 1})`, record.seq);
        }
        if (record.prevHash !== prev.hash) {
          return fail(
            `record ${record.seq} does not follow record ${prev.seq} (prevHash mismatch: a record was altered, ` +
              "removed or inserted)",
            record.seq,
          );
        }
      }
      prev = { seq: record.seq, hash: hashLine(line) };
      result.records++;
      result.lastSeq = record.seq;
    }
  }
  return result;
}

/** One-paragraph human summary of a verification result (for the CLI). */
export function formatVerifyResult(r: AuditVerifyResult): string {
  const parts: string[] = [];
  if (r.ok) {
    parts.push(
      r.records === 0
        ? `Audit log OK: no records in ${r.files.length} file(s).`
        : `Audit log OK: ${r.records} record(s), seq ${r.firstSeq}..${r.lastSeq}, in ${r.files.length} file(s).`,
    );
  } else if (r.error !== undefined) {
    const e = r.error;
    parts.push(
      `Audit log BROKEN at ${basename(e.file)} line ${e.line}${e.seq !== undefined ? ` (seq ${e.seq})` : ""}: ` +
        `${e.message}. ${r.records} record(s) before it verified.`,
    );
  }
  if (r.startsLate) parts.push(`Note: the chain starts at seq ${r.firstSeq}; older records were rotated out.`);
  if (r.unanchored) {
    parts.push(
      "Note: the log begins with records written before pve-mcp marked file starts (format v1): records removed from " +
        "its beginning cannot be detected. Newer files are checked fully.",
    );
  }
  if (r.tornTail !== undefined) {
    parts.push(
      `Note: ${basename(r.tornTail.file)} ends in a torn record (${r.tornTail.bytes} bytes, a crash while writing); ` +
        "it is ignored and will be cut off when the server next opens the log.",
    );
  }
  return parts.join("\n");
}
