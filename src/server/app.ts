/**
 * The application object every transport shares: clusters and their clients, tools, policy hooks, audit, limits.
 * @module
 */
import type { PveApi } from "../pve/types.ts";
import type { SecretStore } from "../secrets/store.ts";
import { GuestResolver } from "../pve/guests.ts";
import type { ToolDef, ToolFilter } from "../tools/registry.ts";
import type { AuditReader, AuditSink, CallPolicy, RateLimiter } from "../core/mod.ts";

/** One configured cluster with its read and write credentials. */
export interface ClusterHandle {
  name: string;
  read: PveApi;
  write: PveApi;
  guests: GuestResolver;
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
  /** True when the operator lets PVE fetch URLs on loopback, link-local and metadata addresses. */
  allowInternalUrls?: boolean;
  /** Destructive calls from clients without elicitation: refused (default) or run unconfirmed. */
  confirmWithoutElicitation?: "refuse" | "allow";
  /** Called after every tool call (metrics). */
  onCall?: (tool: string, outcome: string, durationMs: number) => void;
}

/** A cluster handle from its two clients. */
export function clusterHandle(name: string, read: PveApi, write: PveApi = read): ClusterHandle {
  return { name, read, write, guests: new GuestResolver(read) };
}
