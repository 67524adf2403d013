/**
 * Shapes of the audit log: the normalised entry ({@linkcode AuditEntry}) that the HTTP guards write and that the call
 * pipeline's events (`AuditEvent` of src/server/app.ts) are mapped to, and what lands on disk ({@linkcode AuditRecord}).
 * @module
 */
import type { AuditEvent } from "../core/mod.ts";

/**
 * Where in a call's life an event is written.
 * - `intent`: before a change is sent to PVE (write-before-act; always fsync'd).
 * - `result`: after the call finished (ok or error), for calls that wrote an intent.
 * - `call`: a single record for a call without an intent (reads, denials, rate-limited calls).
 * - `auth`: an HTTP authentication decision.
 */
export type AuditPhase = "intent" | "result" | "call" | "auth";

/** Decision the perimeter or the policy took. */
export type AuditDecision = "allowed" | "denied" | "rate_limited";

/** One upstream PVE call as recorded: never parameter values. */
export interface AuditPveCall {
  method: string;
  path: string;
  status: number;
}

/** A normalised audit entry (HTTP guards write these directly). Arguments are redacted by the log. */
export interface AuditEntry {
  phase: AuditPhase;
  /** Correlates an `intent` with its `result`. */
  callId?: string;
  /** Principal id (device token name, `pve:USER@REALM!ID`, `stdio`, ...). Never a secret. */
  principal: string;
  transport: "stdio" | "http";
  client?: { name: string; version: string };
  tool?: string;
  cluster?: string;
  /** Call class of the tool call. */
  class?: "read" | "write" | "destructive";
  /** Raw tool arguments; the sink removes secret-looking values (keeps `secret://NAME` references). */
  arguments?: Record<string, unknown>;
  decision: AuditDecision;
  /** Why a call was denied or rate limited, or why authentication failed. */
  reason?: string;
  result?: "ok" | "error";
  /** Error kind such as `permission`, `timeout`, `invalid` (never the error message). */
  errorKind?: string;
  durationMs?: number;
  pveCalls?: AuditPveCall[];
  upids?: string[];
  /** Remote address for HTTP events. */
  remote?: string;
}

/**
 * One line of the log, as written: an {@linkcode AuditEntry} (its `arguments` redacted as `args`) with the chain
 * fields. Field order is fixed by the writer.
 */
export interface AuditRecord extends Omit<AuditEntry, "phase" | "transport" | "arguments"> {
  /** Format version: 2 since the first record of every file is marked ({@linkcode AuditRecord.fileStart}). */
  v: 1 | 2;
  seq: number;
  /** ISO-8601 time. */
  time: string;
  phase: AuditPhase | "recovered";
  transport: AuditEntry["transport"] | "internal";
  /** The entry's `arguments`, redacted. */
  args?: Record<string, unknown>;
  /** SHA-256 (hex) of the previous record's full line; 64 zeros for the first record of a chain. */
  prevHash: string;
  /**
   * Set on the first record written to a file (v2): the start of a chain (seq 1, genesis `prevHash`) or the first
   * record after a rotation. A v2 log whose first record lacks it has lost its head.
   */
  fileStart?: true;
  /** HMAC-SHA256 (hex) over the line without this field, keyed by the audit key (kept apart from the log). */
  hmac: string;
}

/**
 * Something that takes audit entries and pipeline events. `write` resolves once the record is written (and fsync'd
 * for the intent of a change); it rejects with {@linkcode AuditWriteError} only for a required record: an intent or
 * result of a `write`/`destructive` call, an `auth` entry never, a read's record only with `failReadsOnError`.
 * Callers may therefore treat any rejection as "fail the call without contacting PVE".
 */
export interface AuditWriter {
  write(event: AuditEvent | AuditEntry): Promise<void>;
}

/** Thrown by {@linkcode AuditSink.write} when a required record could not be written. */
export class AuditWriteError extends Error {
  override readonly name = "AuditWriteError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Hash value that precedes the first record of a chain. */
export const GENESIS_HASH = "0".repeat(64);
