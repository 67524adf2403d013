/**
 * Sinks for tests and for setups without an audit path: one that keeps events in memory, one that drops them.
 * @module
 */
import { type AuditEvent } from "../core/mod.ts";
import { toEntry } from "./log.ts";
import { type AuditEntry, AuditWriteError, type AuditWriter } from "./types.ts";

/**
 * An {@linkcode AuditWriter} that keeps every event, normalised, in `entries`; `failNext` makes writes reject (to
 * test callers).
 */
export class MemoryAuditSink implements AuditWriter {
  readonly entries: AuditEntry[] = [];
  /** When > 0, that many following writes reject with {@linkcode AuditWriteError}. */
  failNext = 0;

  /** Stores a normalised copy of the event, or rejects while `failNext` > 0. */
  write(event: AuditEvent | AuditEntry): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new AuditWriteError("Cannot write to audit log (memory): failure injected by a test"));
    }
    this.entries.push(structuredClone(toEntry(event)));
    return Promise.resolve();
  }
}

/** An {@linkcode AuditWriter} that accepts and drops every event. */
export const noopAuditSink: AuditWriter = { write: () => Promise.resolve() };
