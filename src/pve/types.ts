/**
 * Shared shapes of the Proxmox VE client: what a request is, what comes back, and the one error type.
 * @module
 */

/** HTTP methods the PVE API accepts. */
export type PveMethod = "GET" | "POST" | "PUT" | "DELETE";

/** Parameter values as tools hand them over; the client encodes them for the wire (booleans as 0/1). */
export type PveParamValue = string | number | boolean | readonly (string | number)[] | undefined;

/** One request to the PVE API, relative to `/api2/json`. */
export interface PveRequest {
  method: PveMethod;
  /** Concrete path such as `/nodes/pve1/qemu/100/status/current` (no `/api2/json` prefix). */
  path: string;
  params?: Record<string, PveParamValue>;
  signal?: AbortSignal;
  /** Per-request timeout; the client's default applies when absent. */
  timeoutMs?: number;
}

/** The `{data, total?}` envelope of a successful answer. */
export interface PveResult<T = unknown> {
  data: T;
  total?: number;
}

/** Observer hook for every finished upstream call (audit, metrics, tests). */
export interface PveCallRecord {
  method: PveMethod;
  /** The concrete path that was called. */
  path: string;
  /** HTTP status, or 0 when no response arrived (connect error, timeout). */
  status: number;
  durationMs: number;
  /** Parameter names sent (never values: they may hold secrets). */
  paramNames: string[];
  /** 1 for the first try of a request, 2+ for retries (and the repeat after a re-login). */
  attempt?: number;
  /** Set when the attempt failed. */
  errorKind?: PveErrorKind;
}

/** Anything that can answer PVE requests: the real client, or a test double in unit tests only. */
export interface PveApi {
  request<T = unknown>(req: PveRequest): Promise<PveResult<T>>;
  /** Host label for messages, e.g. `pve.example.com:8006`. */
  readonly host: string;
}

/** Kinds of failure, so callers branch without parsing messages. */
export type PveErrorKind =
  | "auth" // 401
  | "permission" // 403
  | "invalid" // 400
  | "not_found" // 500 whose message says the object does not exist; a guest PVE confirms is absent
  | "not_visible" // a guest exists (PVE's /cluster/nextid says so) but this token may not see it (no VM.Audit)
  | "server" // other 5xx
  | "not_implemented" // 501
  | "proxy" // 595/596: forwarding to another node failed
  | "timeout"
  | "connection" // connect refused, reset, DNS
  | "tls" // certificate verification / pin mismatch
  | "protocol" // malformed body
  | "aborted";

/** The one error type the PVE client throws. Its message is actionable and never contains a secret. */
export class PveError extends Error {
  override readonly name = "PveError";
  constructor(
    readonly kind: PveErrorKind,
    message: string,
    readonly details: {
      status?: number;
      method?: PveMethod;
      path?: string;
      host?: string;
      /** Per-parameter messages from PVE's `errors` map (400). */
      errors?: Record<string, string>;
      /** PVE's own message text, trimmed. */
      pveMessage?: string;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }
}
