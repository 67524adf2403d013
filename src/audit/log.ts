/**
 * The audit log writer: hash-chained, HMAC'd JSON lines with write-before-act (`intent` records are fsync'd before
 * the call proceeds), size-based rotation that keeps the chain across files, and recovery of a torn last line after
 * a crash.
 * @module
 */
import { type AuditEvent } from "../core/mod.ts";
import { join } from "node:path";
import { log } from "../log.ts";
import { checkLine, encodeRecord, hashLine } from "./chain.ts";
import { auditLocation, listAuditFiles, rotatedName } from "./files.ts";
import { redactArguments, scrubText } from "./redact.ts";
import { type AuditEntry, type AuditRecord, AuditWriteError, type AuditWriter, GENESIS_HASH } from "./types.ts";

/** Options of {@linkcode createAuditLog}. */
export interface AuditLogOptions {
  /**
   * The log: a directory (created 0700 when absent; the active file is `audit.jsonl` inside it) or the active file's
   * path ending in `.jsonl`.
   */
  path: string;
  /** HMAC key, see `resolveAuditKey`. Keep it outside the log directory. */
  key: Uint8Array;
  /** Rotate before the active file would exceed this many bytes. Default 10 MiB. */
  maxBytes?: number;
  /** Keep at most this many rotated files (oldest deleted). Default: keep all. */
  maxFiles?: number;
  /** When true, a failed write of a read-only call's record also rejects (the call fails). Default false. */
  failReadsOnError?: boolean;
  /** fsync after `intent` records only (default) or after every record. */
  fsync?: "intent" | "always";
  now?: () => number;
}

/** The writer returned by {@linkcode createAuditLog}. */
export interface AuditLog extends AuditWriter {
  /** Directory holding the log's files. */
  readonly dir: string;
  /** Path of the active file. */
  readonly activePath: string;
  /** Sequence number and hash of the last record written (0 and the genesis hash for an empty log). */
  head(): { seq: number; hash: string };
  /** Waits for pending writes, releases the lock and closes the file. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
const encoder = new TextEncoder();

/**
 * Opens (or creates) the audit log at `opts.path`, taking an exclusive lock so two processes never interleave
 * records. Recovers the chain head from the newest record; a torn last line (crash mid-write) is cut off and a
 * `recovered` record notes how many bytes were dropped. Refuses to open when the newest record does not verify with
 * the key (altered log, or another key).
 */
export async function createAuditLog(opts: AuditLogOptions): Promise<AuditLog> {
  const loc = auditLocation(opts.path);
  const dir = loc.dir;
  const now = opts.now ?? Date.now;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const fsyncAll = opts.fsync === "always";
  const activePath = join(dir, loc.active);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });

  let file = await openActive(activePath);
  let size = (await file.stat()).size;
  let head = { seq: 0, hash: GENESIS_HASH };
  let broken: string | undefined;
  let nextRotation = 1;
  let queue: Promise<void> = Promise.resolve();
  let closed = false;

  const files = await listAuditFiles(loc);
  for (const f of files) if (f.name !== loc.active) nextRotation = Math.max(nextRotation, f.index + 1);

  // Recover the head: the active file's last whole line, else the newest rotated file's.
  let torn = 0;
  if (size > 0) {
    const bytes = await Deno.readFile(activePath);
    const lastNl = bytes.lastIndexOf(0x0a);
    if (lastNl !== bytes.length - 1) {
      const tail = new TextDecoder().decode(bytes.subarray(lastNl + 1));
      if (checkLine(tail, opts.key).ok) {
        // A whole record whose newline never reached the disk: complete it.
        await file.write(encoder.encode("\n"));
        size = bytes.length + 1;
        head = headFrom(bytes, activePath, opts.key);
      } else {
        torn = bytes.length - (lastNl + 1);
        await file.truncate(lastNl + 1);
        size = lastNl + 1;
      }
      await file.syncData();
    }
    if (size > 0 && head.seq === 0) {
      head = headFrom(bytes.subarray(0, Math.min(size, bytes.length)), activePath, opts.key);
    }
  }
  if (head.seq === 0) {
    const rotated = files.filter((f) => f.name !== loc.active);
    const newest = rotated[rotated.length - 1];
    if (newest !== undefined) head = headFrom(await Deno.readFile(newest.path), newest.path, opts.key);
  }

  async function writeLine(body: Omit<AuditRecord, "hmac">, sync: boolean): Promise<void> {
    if (broken !== undefined) throw new AuditWriteError(broken);
    let { line, hash } = encodeRecord(body, opts.key);
    if (size > 0 && size + encoder.encode(line).length + 1 > maxBytes) await rotate();
    // The first record of a file is marked, so a file whose head was cut off no longer passes verification.
    if (size === 0) ({ line, hash } = encodeRecord({ ...body, fileStart: true }, opts.key));
    const bytes = encoder.encode(`${line}\n`);
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      if (sync) await file.syncData();
    } catch (err) {
      // Cut off a partial line so the next record does not glue onto it.
      try {
        await file.truncate(size);
      } catch {
        broken = `Cannot write to audit log ${activePath}: an earlier write failed and the file could not be repaired`;
      }
      throw new AuditWriteError(`Cannot write to audit log ${activePath}: ${(err as Error).message}`, { cause: err });
    }
    size += bytes.length;
    head = { seq: body.seq, hash };
  }

  async function rotate(): Promise<void> {
    const target = join(dir, rotatedName(loc.active, nextRotation));
    try {
      await Deno.rename(activePath, target);
    } catch (err) {
      log("audit").warning("Cannot rotate audit log {path}: {error}; writing on in the same file", {
        path: activePath,
        error: (err as Error).message,
      });
      return;
    }
    nextRotation++;
    const old = file;
    file = await openActive(activePath);
    size = 0;
    old.close();
    if (opts.maxFiles !== undefined) {
      const rotated = (await listAuditFiles(loc)).filter((f) => f.name !== loc.active);
      for (const stale of rotated.slice(0, Math.max(0, rotated.length - opts.maxFiles))) await Deno.remove(stale.path);
    }
  }

  function enqueue(task: () => Promise<void>): Promise<void> {
    const run = queue.then(task);
    queue = run.catch(() => {});
    return run;
  }

  if (torn > 0) {
    await enqueue(() =>
      writeLine({
        v: 2,
        seq: head.seq + 1,
        time: new Date(now()).toISOString(),
        phase: "recovered",
        principal: "pve-mcp",
        transport: "internal",
        decision: "allowed",
        reason: `dropped ${torn} bytes of a torn record at the end of ${loc.active} (crash while writing)`,
        prevHash: head.hash,
      }, true)
    );
    log("audit").warning("Audit log {path} ended in a torn record; dropped {bytes} bytes and noted it in the log", {
      path: activePath,
      bytes: torn,
    });
  }

  return {
    dir,
    activePath,
    head: () => ({ ...head }),
    write(event: AuditEvent | AuditEntry): Promise<void> {
      const entry = toEntry(event);
      const change = entry.class === "write" || entry.class === "destructive" ||
        (entry.class === undefined && entry.phase === "intent");
      const required = entry.phase !== "auth" && (change || opts.failReadsOnError === true);
      if (closed) {
        const err = new AuditWriteError(`Cannot write to audit log ${activePath}: it is closed`);
        return required ? Promise.reject(err) : Promise.resolve();
      }
      const sync = fsyncAll || (entry.phase === "intent" && change);
      const run = enqueue(() => writeLine(toRecord(entry, head, now), sync));
      if (required) return run;
      return run.catch((err) => {
        log("audit").error("Audit record for {tool} was not written: {error}", {
          tool: entry.tool ?? entry.phase,
          error: (err as Error).message,
        });
      });
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await queue;
      try {
        file.close();
      } catch {
        // already closed by a failed rotation
      }
    },
  };
}

async function openActive(path: string): Promise<Deno.FsFile> {
  const file = await Deno.open(path, { read: true, append: true, create: true, mode: 0o600 });
  if (!(await file.tryLock(true))) {
    file.close();
    throw new Error(
      `Cannot open audit log ${path}: another pve-mcp process holds its lock; give each server its own audit.path`,
    );
  }
  return file;
}

function headFrom(bytes: Uint8Array, path: string, key: Uint8Array): { seq: number; hash: string } {
  const text = new TextDecoder().decode(bytes);
  const lines = text.split("\n").filter((l) => l.length > 0);
  const last = lines[lines.length - 1];
  if (last === undefined) return { seq: 0, hash: GENESIS_HASH };
  const check = checkLine(last, key);
  if (!check.ok) {
    throw new Error(
      `Cannot continue audit log ${path}: its last record does not verify (${check.reason}); ` +
        "run `pve-mcp audit verify`, then move the log aside or configure the right key",
    );
  }
  return { seq: check.record.seq, hash: hashLine(last) };
}

/** Maps a call-pipeline event (principal object, `denied`/`rate_limited` phases) to an entry; entries pass through. */
export function toEntry(event: AuditEvent | AuditEntry): AuditEntry {
  if (typeof event.principal === "string") return event as AuditEntry;
  const e = event as AuditEvent;
  const p = e.principal;
  return {
    phase: e.phase === "denied" || e.phase === "rate_limited" ? "call" : e.phase,
    principal: p.id,
    transport: p.transport,
    ...(p.client !== undefined && { client: p.client }),
    tool: e.tool,
    cluster: e.cluster,
    class: e.class,
    arguments: e.args,
    decision: e.phase === "denied" ? "denied" : e.phase === "rate_limited" ? "rate_limited" : "allowed",
    ...(e.reason !== undefined && { reason: e.reason }),
    ...(e.outcome !== undefined && { result: e.outcome }),
    ...(e.errorKind !== undefined && { errorKind: e.errorKind }),
    ...(e.durationMs !== undefined && { durationMs: e.durationMs }),
    ...(e.pveCalls !== undefined && { pveCalls: e.pveCalls }),
    ...(e.upids !== undefined && { upids: e.upids }),
  };
}

function toRecord(event: AuditEntry, head: { seq: number; hash: string }, now: () => number) {
  const body: Omit<AuditRecord, "hmac"> = {
    v: 2,
    seq: head.seq + 1,
    time: new Date(now()).toISOString(),
    phase: event.phase,
    ...(event.callId !== undefined && { callId: scrubText(event.callId) }),
    principal: scrubText(event.principal),
    transport: event.transport,
    ...(event.client !== undefined && {
      client: { name: scrubText(String(event.client.name)), version: scrubText(String(event.client.version)) },
    }),
    ...(event.tool !== undefined && { tool: scrubText(event.tool) }),
    ...(event.cluster !== undefined && { cluster: scrubText(event.cluster) }),
    ...(event.class !== undefined && { class: event.class }),
    ...(event.arguments !== undefined &&
      { args: redactArguments(event.arguments, event.tool === undefined ? {} : { tool: event.tool }) }),
    decision: event.decision,
    ...(event.reason !== undefined && { reason: scrubText(event.reason) }),
    ...(event.result !== undefined && { result: event.result }),
    ...(event.errorKind !== undefined && { errorKind: scrubText(event.errorKind) }),
    ...(event.durationMs !== undefined && { durationMs: Math.round(event.durationMs) }),
    ...(event.pveCalls !== undefined && {
      pveCalls: event.pveCalls.slice(0, 50).map((c) => ({
        method: c.method,
        path: scrubText(c.path),
        status: c.status,
      })),
    }),
    ...(event.upids !== undefined && { upids: event.upids.slice(0, 50).map(scrubText) }),
    ...(event.remote !== undefined && { remote: scrubText(event.remote) }),
    prevHash: head.hash,
  };
  return body;
}
