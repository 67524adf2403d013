/**
 * The shared vocabulary of one tool call: annotations, progress, change plans, the guests a call looks up, audit
 * events and the hooks (audit sink, rate limiter, call policy) the pipeline calls.
 * @module
 */
import type { CallClass } from "./modes.ts";
import type { Principal } from "./principal.ts";
import type { Effect } from "./effect.ts";

/** MCP tool annotations; all four are required because the protocol's defaults are pessimistic. */
export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** Progress report while a tool waits for something (PVE task). */
export interface ProgressUpdate {
  message: string;
  progress?: number;
  total?: number;
}

/** What a change will do: shown to the human who confirms it, and returned by a dry run. */
export interface ChangePlan {
  /** E.g. `stop VM 105`. */
  action: string;
  /** E.g. `qemu 105 "db1" on pve2`. */
  target: string;
  /** Current state, e.g. `running, 4 snapshots`. */
  current: string;
  /** What will happen, e.g. `hard power-off: unsaved data in the guest is lost`. */
  effect: string;
}

/** Where a guest lives, as `/cluster/resources` reports it. */
export interface GuestRef {
  vmid: number;
  type: "qemu" | "lxc";
  node: string;
  name: string;
  status: string;
  template: boolean;
  pool?: string;
  tags: string[];
}

/** Finds guests by vmid (a cached view of the cluster); rejects with a PVE error when it cannot. */
export interface GuestLookup {
  resolve(vmid: number, signal?: AbortSignal): Promise<GuestRef>;
}

/** One upstream PVE call as recorded: never parameter values. */
export interface PveCallRecord {
  method: string;
  path: string;
  status: number;
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
  pveCalls?: PveCallRecord[];
  upids?: string[];
}

/** Reads recent audit records (wired by the server when `audit.path` is set). */
export type AuditReader = (
  limit: number,
  filter: (r: AuditRow) => boolean,
) => Promise<{ record: AuditRow; verified?: boolean }[]>;

/** The record fields this tool shows. */
export interface AuditRow {
  seq: number;
  time: string;
  phase: string;
  principal: string;
  tool?: string;
  class?: string;
  decision: string;
  reason?: string;
  result?: string;
  errorKind?: string;
  durationMs?: number;
  args?: Record<string, unknown>;
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

/** What a policy check may look at. */
export interface PolicyContext {
  principal: Principal;
  cluster: { name: string; guests: GuestLookup };
  signal: AbortSignal;
}

/** Per-call policy beyond the tool filter (guest selectors, protection, confirmation). */
export interface CallPolicy {
  /**
   * A reason to refuse, or undefined to go on. Decides on the call's effect alone (`tool` names the tool in
   * messages): no policy rule may depend on which tool it is.
   */
  check(tool: string, effect: Effect, ctx: PolicyContext): Promise<string | undefined>;
}

/** An audit sink that drops events (tests and the demo without an audit path). */
export const NO_AUDIT: AuditSink = { write: () => Promise.resolve() };
