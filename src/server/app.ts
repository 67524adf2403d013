/**
 * The application object every transport shares: clusters and their clients, tools, policy hooks, audit, limits.
 * @module
 */
import type { PveApi } from "../pve/types.ts";
import type { SecretStore } from "../secrets/store.ts";
import type { AuditReader } from "../tools/audit.ts";
import { GuestResolver } from "../pve/guests.ts";
import type { CallClass, Principal, ToolDef, ToolFilter } from "../tools/registry.ts";

/** One configured cluster with its read and write credentials. */
export interface ClusterHandle {
  name: string;
  read: PveApi;
  write: PveApi;
  guests: GuestResolver;
}

/** One audit event; the perimeter's audit log turns it into a hash-chained record. */
export interface AuditEvent {
  phase: "intent" | "result" | "denied" | "rate_limited";
  principal: Principal;
  tool: string;
  cluster: string;
  class: CallClass;
  args: Record<string, unknown>;
  reason?: string;
  outcome?: "ok" | "error";
  errorKind?: string;
  durationMs?: number;
  pveCalls?: { method: string; path: string; status: number }[];
  upids?: string[];
}

/** Where audit events go. `write` resolves once the event is durable (write-before-act for changes). */
export interface AuditSink {
  write(event: AuditEvent): Promise<void>;
}

/** Token buckets per principal and class. */
export interface RateLimiter {
  take(principal: string, cls: CallClass): { ok: true } | { ok: false; retryAfterSeconds: number };
}

/** Per-call policy beyond the tool filter (guest selectors, protection, confirmation). */
export interface CallPolicy {
  /** A reason to refuse, or undefined to go on. */
  check(def: ToolDef, args: Record<string, unknown>, cls: CallClass, ctx: PolicyContext): Promise<string | undefined>;
}

/** What a policy check may look at. */
export interface PolicyContext {
  principal: Principal;
  cluster: ClusterHandle;
  signal: AbortSignal;
}

/** Everything a server instance needs. */
export interface App {
  name: string;
  version: string;
  clusters: Map<string, ClusterHandle>;
  defaultCluster: string;
  tools: readonly ToolDef[];
  filter: ToolFilter;
  policy: CallPolicy;
  audit: AuditSink;
  limiter: RateLimiter;
  /** The secret store tools resolve `secret://NAME` from and put created secrets in (absent: not configured). */
  secrets?: SecretStore;
  /** Reads recent audit records (`audit_recent`), when an audit log is configured. */
  auditReader?: AuditReader;
  maxTaskWaitMs: number;
  /** Destructive calls from clients without elicitation: refused (default) or run unconfirmed. */
  confirmWithoutElicitation?: "refuse" | "allow";
  /** Called after every tool call (metrics). */
  onCall?: (tool: string, outcome: string, durationMs: number) => void;
}

/** A cluster handle from its two clients. */
export function clusterHandle(name: string, read: PveApi, write: PveApi = read): ClusterHandle {
  return { name, read, write, guests: new GuestResolver(read) };
}

/** An audit sink that drops events (tests and the demo without an audit path). */
export const NO_AUDIT: AuditSink = { write: () => Promise.resolve() };

/** A limiter that never limits (tests). */
export const NO_LIMIT: RateLimiter = { take: () => ({ ok: true }) };

/** A policy that allows every call the tool filter allowed. */
export const ALLOW_ALL: CallPolicy = { check: () => Promise.resolve(undefined) };
