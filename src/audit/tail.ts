/**
 * Reading recent audit records: the last N (for `audit tail` and the read-only audit tool) and following new
 * records as they are written (`audit tail -f`), across rotation.
 * @module
 */
import { join } from "node:path";
import { checkLine } from "./chain.ts";
import { auditLocation, listAuditFiles } from "./files.ts";
import type { AuditRecord } from "./types.ts";

/** A record read back, with whether its HMAC verified (only when a key was given). */
export interface ReadRecord {
  record: AuditRecord;
  /** `true`/`false` when a key was given, `undefined` otherwise. */
  verified?: boolean;
}

/** Options of {@linkcode readRecentAudit}. */
export interface ReadRecentOptions {
  /** At most this many records (newest last). Default 20, capped at 1000. */
  limit?: number;
  /** Keep only records for which this returns true. */
  filter?: (r: AuditRecord) => boolean;
  /** Verify each record's HMAC with this key. */
  key?: Uint8Array;
}

function parse(line: string, key: Uint8Array | undefined): ReadRecord | undefined {
  if (key !== undefined) {
    const check = checkLine(line, key);
    if (check.ok) return { record: check.record, verified: true };
  }
  try {
    const value = JSON.parse(line) as AuditRecord;
    if (typeof value !== "object" || value === null || typeof value.seq !== "number") return undefined;
    return key === undefined ? { record: value } : { record: value, verified: false };
  } catch {
    return undefined; // torn or damaged line: `audit verify` reports it
  }
}

/**
 * The newest records of the log at `path` (directory or active file; oldest first), reading rotated files only as
 * far back as needed.
 */
export async function readRecentAudit(path: string, opts: ReadRecentOptions = {}): Promise<ReadRecord[]> {
  const limit = Math.max(1, Math.min(opts.limit ?? 20, 1000));
  const files = await listAuditFiles(auditLocation(path));
  const out: ReadRecord[] = [];
  for (let i = files.length - 1; i >= 0 && out.length < limit; i--) {
    const text = await Deno.readTextFile((files[i] as { path: string }).path);
    const lines = text.split("\n");
    for (let li = lines.length - 1; li >= 0 && out.length < limit; li--) {
      const line = lines[li] as string;
      if (line.length === 0) continue;
      const rec = parse(line, opts.key);
      if (rec !== undefined && (opts.filter === undefined || opts.filter(rec.record))) out.push(rec);
    }
  }
  return out.reverse();
}

/** Options of {@linkcode followAudit}. */
export interface FollowOptions {
  /** Stops following. */
  signal: AbortSignal;
  /** Poll interval. Default 500 ms. */
  pollMs?: number;
  key?: Uint8Array;
  /** Report records with a greater seq (e.g. the last one already shown); default: only records written from now. */
  afterSeq?: number;
  /** Waits between polls; tests pass a fake. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Records with `seq > after`, oldest first, reading rotated files only as far back as needed; also how many bytes of
 * whole lines the active file had and its inode, so following can go on from there.
 */
async function readSince(
  path: string,
  after: number,
  key: Uint8Array | undefined,
): Promise<{ records: ReadRecord[]; activeBytes: number; activeIno: number | null }> {
  const loc = auditLocation(path);
  const files = await listAuditFiles(loc);
  const out: ReadRecord[] = [];
  let activeBytes = 0;
  let activeIno: number | null = null;
  for (let i = files.length - 1; i >= 0; i--) {
    const f = files[i] as { path: string; name: string };
    let bytes: Uint8Array;
    if (f.name === loc.active) {
      const file = await Deno.open(f.path, { read: true });
      try {
        activeIno = (await file.stat()).ino;
        bytes = await readAll(file);
      } finally {
        file.close();
      }
      activeBytes = bytes.lastIndexOf(0x0a) + 1;
    } else {
      bytes = await Deno.readFile(f.path);
    }
    const text = new TextDecoder().decode(bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1));
    const recs = text.split("\n").filter((l) => l.length > 0).map((l) => parse(l, key))
      .filter((r): r is ReadRecord => r !== undefined);
    out.unshift(...recs.filter((r) => r.record.seq > after));
    if (recs.length > 0 && (recs[0] as ReadRecord).record.seq <= after + 1) break;
  }
  return { records: out, activeBytes, activeIno };
}

async function readAll(file: Deno.FsFile): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await file.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
    total += n;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Calls `onRecord` for every record after `opts.afterSeq` (default: the newest record now), until `signal` aborts.
 * Follows rotation: records that went into rotated files between two polls are read from there, so none is skipped.
 */
export async function followAudit(
  logPath: string,
  onRecord: (r: ReadRecord) => void | Promise<void>,
  opts: FollowOptions,
): Promise<void> {
  const loc = auditLocation(logPath);
  const path = join(loc.dir, loc.active);
  const sleep = opts.sleep ?? defaultSleep;
  const statOf = async () => {
    try {
      const s = await Deno.stat(path);
      return { size: s.size, ino: s.ino };
    } catch {
      return { size: 0, ino: null };
    }
  };
  let lastSeq = 0;
  const emit = async (recs: ReadRecord[]) => {
    for (const r of recs) {
      if (r.record.seq <= lastSeq) continue;
      lastSeq = r.record.seq;
      await onRecord(r);
    }
  };
  let offset = 0;
  let ino: number | null = null;
  const catchUp = async () => {
    const since = await readSince(logPath, lastSeq, opts.key);
    offset = since.activeBytes;
    ino = since.activeIno;
    await emit(since.records);
  };
  if (opts.afterSeq !== undefined) {
    lastSeq = opts.afterSeq;
    await catchUp();
  } else {
    const newest = await readRecentAudit(logPath, { limit: 1 });
    lastSeq = newest[0]?.record.seq ?? 0;
    await catchUp();
  }
  while (!opts.signal.aborted) {
    await sleep(opts.pollMs ?? 500, opts.signal);
    if (opts.signal.aborted) break;
    const now = await statOf();
    if (now.ino !== ino || now.size < offset) {
      await catchUp(); // rotated since the last poll
      continue;
    }
    if (now.size <= offset) continue;
    const chunk = await readRange(path, offset, now.size);
    const end = chunk.lastIndexOf(0x0a) + 1; // whole lines only; a partial line is read again next time
    offset += end;
    const lines = new TextDecoder().decode(chunk.subarray(0, end)).split("\n").filter((l) => l.length > 0);
    await emit(lines.map((l) => parse(l, opts.key)).filter((r): r is ReadRecord => r !== undefined));
  }
}

async function readRange(path: string, from: number, to: number): Promise<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  try {
    await file.seek(from, Deno.SeekMode.Start);
    const buf = new Uint8Array(to - from);
    let read = 0;
    while (read < buf.length) {
      const n = await file.read(buf.subarray(read));
      if (n === null) break;
      read += n;
    }
    return buf.subarray(0, read);
  } finally {
    file.close();
  }
}
