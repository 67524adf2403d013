/**
 * The Proxmox VE API client: one `Deno.HttpClient` per cluster connection (connections reused), TLS verified by
 * default (CA file, fingerprint pin, or an explicit insecure opt-in), token or ticket auth, form encoding, the `{data}`
 * envelope, typed errors, and an interactive latency budget: a short connect timeout, a per-attempt timeout, GET-only
 * retries with jittered exponential backoff, and a deadline over all attempts of one request.
 * @module
 */
import { log } from "../log.ts";
import {
  type Authenticator,
  type PveAuthOptions,
  type PvePasswordAuth,
  type PveTokenAuth,
  TicketAuthenticator,
  TokenAuthenticator,
} from "./auth.ts";
import { encodeParams, encodePath, paramNames, sensitiveValues } from "./encode.ts";
import {
  type CallContext,
  errorFromBadBody,
  errorFromFailure,
  errorFromRelay,
  errorFromStatus,
  type FailureCause,
  isRetryable,
  Redactor,
} from "./errors.ts";
import { createTransport, type PveTlsOptions, type PveTransport, type TlsMode, urlHost } from "./tls.ts";
import { RELAY_ERROR_HEADER } from "./tls_relay.ts";
import {
  type PveApi,
  type PveCallRecord,
  PveError,
  type PveErrorKind,
  type PveMethod,
  type PveRequest,
  type PveResult,
} from "./types.ts";
import { abortableSleep } from "./sleep.ts";
import { BodyTooLarge, readBody, tcpConnect, validateHost, withAttempts } from "./wire.ts";

export type { PveAuthOptions, PvePasswordAuth, PveTlsOptions, PveTokenAuth, TlsMode };

/** Options of {@linkcode createPveClient}. */
export interface PveClientOptions {
  /** Host name or IP of a cluster node (no scheme, no port). */
  host: string;
  /** API port; default 8006. */
  port?: number;
  /** TLS verification; default: verify against the trusted roots. */
  tls?: PveTlsOptions;
  auth: PveAuthOptions;
  /** Per-attempt timeout; default 20 000 ms. A request's own `timeoutMs` wins (and widens the deadline to match). */
  timeoutMs?: number;
  /** Time allowed to open the TCP connection (plus the TLS handshake when pinned or insecure); default 5 000 ms. */
  connectTimeoutMs?: number;
  /** Longest time one request may take over all its attempts and the waits between them; default 25 000 ms. */
  deadlineMs?: number;
  /** Extra attempts for GET on network errors, timeouts and 502/503/504; default 1. Writes are never retried. */
  retries?: number;
  /**
   * Opens (and closes) a TCP connection to the API: how the connect timeout is enforced in `verify` mode, where
   * `fetch` has no connect timeout of its own. Run beside the first request and every retry. Default `Deno.connect`.
   */
  connect?: (host: string, port: number, signal: AbortSignal) => Promise<void>;
  /** Backoff before retry n: min(maxMs, baseMs·2^(n-1)) scaled by a random factor in [0.5, 1). */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Log in again once a ticket is this old; default 1 h (tickets live 2 h). */
  ticketRenewAfterMs?: number;
  /** Largest answer accepted; default 64 MiB. */
  maxResponseBytes?: number;
  /** Clock (ms since epoch) for ticket age; default `Date.now`. */
  now?: () => number;
  /** Waits between retries; default a timer that rejects when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Random source for jitter; default `Math.random`. */
  random?: () => number;
  /** Observer called after every attempt (also failed ones). Must not throw; errors are ignored. */
  onCall?: (rec: PveCallRecord) => void;
  /** User-Agent header; default `pve-mcp`. */
  userAgent?: string;
}

const METHODS: ReadonlySet<string> = new Set(["GET", "POST", "PUT", "DELETE"]);
/** A connection counts as open (no connect check needed) this long after the last answer. */
const WARM_MS = 30_000;

const LOGIN_PATH = "/access/ticket";

/** A Proxmox VE API client. Create it with {@linkcode createPveClient}; call {@linkcode PveClient.close} when done. */
export class PveClient implements PveApi {
  /** `host:port` label used in messages. */
  readonly host: string;
  /** The TLS verification mode in effect. */
  readonly tlsMode: TlsMode;
  readonly #transport: PveTransport;
  readonly #auth: Authenticator;
  readonly #redactor = new Redactor();
  readonly #closer = new AbortController();
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #deadlineMs: number;
  readonly #retries: number;
  readonly #connect: ((host: string, port: number, signal: AbortSignal) => Promise<void>) | undefined;
  readonly #rawHost: string;
  readonly #port: number;
  /** `performance.now()` of the last answer (any HTTP status); the pool then likely holds an open connection. */
  #lastAnswerAt = -Infinity;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #maxBytes: number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #random: () => number;
  readonly #onCall: ((rec: PveCallRecord) => void) | undefined;
  readonly #userAgent: string;

  constructor(opts: PveClientOptions) {
    const port = opts.port ?? 8006;
    validateHost(opts.host, port);
    this.host = `${urlHost(opts.host)}:${port}`;
    this.#rawHost = opts.host;
    this.#port = port;
    this.#timeoutMs = opts.timeoutMs ?? 20_000;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
    this.#deadlineMs = opts.deadlineMs ?? 25_000;
    this.#retries = Math.max(0, Math.floor(opts.retries ?? 1));
    this.#baseMs = opts.backoff?.baseMs ?? 250;
    this.#maxMs = opts.backoff?.maxMs ?? 5_000;
    this.#maxBytes = opts.maxResponseBytes ?? 64 * 1024 * 1024;
    this.#sleep = opts.sleep ?? abortableSleep;
    this.#random = opts.random ?? Math.random;
    this.#onCall = opts.onCall;
    this.#userAgent = opts.userAgent ?? "pve-mcp";
    const now = opts.now ?? Date.now;
    this.#auth = "tokenId" in opts.auth
      ? new TokenAuthenticator(opts.auth, this.#redactor)
      : new TicketAuthenticator(opts.auth, {
        host: this.host,
        now,
        redactor: this.#redactor,
        login: (params) => this.#login(params),
        ...(opts.ticketRenewAfterMs !== undefined ? { renewAfterMs: opts.ticketRenewAfterMs } : {}),
      });
    this.#transport = createTransport(opts.host, port, opts.tls ?? {}, this.#connectTimeoutMs);
    this.tlsMode = this.#transport.mode;
    // Pinned and insecure modes connect through the relay, which enforces the connect timeout itself.
    this.#connect = this.tlsMode === "verify" ? opts.connect ?? tcpConnect : undefined;
  }

  /**
   * Sends one request and returns the `{data, total}` envelope. Throws {@linkcode PveError} on every failure.
   * `req.path` is relative to `/api2/json`; values in it should be percent-encoded (see `pvePath`).
   */
  async request<T = unknown>(req: PveRequest): Promise<PveResult<T>> {
    if (!METHODS.has(req.method)) {
      throw new PveError(
        "invalid",
        `Unsupported HTTP method ${JSON.stringify(req.method)}: PVE accepts GET, POST, PUT, DELETE`,
      );
    }
    const path = encodePath(req.path);
    const ctx = this.#context(req.method, req.path, req.params);
    if (this.#closer.signal.aborted) throw new PveError("aborted", `The PVE client for ${this.host} is closed`, {});
    const maxAttempts = req.method === "GET" ? this.#retries + 1 : 1;
    const started = performance.now();
    const deadline = started + Math.max(this.#deadlineMs, req.timeoutMs ?? 0);
    let relogged = false;
    for (let attempt = 1;; attempt++) {
      let auth;
      try {
        auth = await this.#auth.headers(req.method, req.signal);
      } catch (e) {
        if (e instanceof PveError) throw e;
        throw errorFromFailure(ctx, req.signal?.aborted ? "aborted" : "network", e, this.#timeoutMs);
      }
      try {
        const own = req.timeoutMs ?? this.#timeoutMs;
        const left = Math.round(deadline - performance.now());
        const cut = left < own ? { deadlineMs: Math.round(deadline - started) } : undefined;
        return await this.#attempt<T>(ctx, path, req, auth.headers, attempt, Math.max(1, Math.min(own, left)), cut);
      } catch (e) {
        if (!(e instanceof PveError)) throw e;
        if (e.kind === "auth" && e.details.status === 401 && !relogged && this.#auth.invalidate(auth.generation)) {
          // The request was refused before PVE ran it, so sending it again (even a write) after a new login is safe.
          relogged = true;
          log("pve").info("Ticket refused by {host}; logging in again", { host: this.host });
          attempt--;
          continue;
        }
        const delay = Math.min(this.#maxMs, this.#baseMs * 2 ** (attempt - 1)) * (0.5 + this.#random() / 2);
        const outOfTime = performance.now() + delay >= deadline;
        if (attempt >= maxAttempts || outOfTime || !isRetryable(e) || req.signal?.aborted) {
          throw attempt > 1 ? withAttempts(e, attempt, performance.now() - started) : e;
        }
        log("pve").info("Retrying {method} {path} on {host} in {delay} ms after {kind} (attempt {attempt} of {max})", {
          method: req.method,
          path: req.path,
          host: this.host,
          delay: Math.round(delay),
          kind: e.kind,
          attempt: attempt + 1,
          max: maxAttempts,
        });
        try {
          await this.#sleep(delay, AbortSignal.any([this.#closer.signal, ...(req.signal ? [req.signal] : [])]));
        } catch (err) {
          throw errorFromFailure(ctx, "aborted", err, this.#timeoutMs);
        }
      }
    }
  }

  /** Closes the HttpClient (and the TLS relay); in-flight requests fail with kind `aborted`. Idempotent. */
  close(): void {
    if (this.#closer.signal.aborted) return;
    this.#closer.abort(new PveError("aborted", `The PVE client for ${this.host} was closed`));
    this.#transport.close();
  }

  /** How this client authenticates: `token` (API token) or `ticket` (password login); pve_api checks `allowtoken`. */
  get authKind(): "token" | "ticket" {
    return this.#auth.kind;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #context(method: PveMethod, rawPath: string, params: PveRequest["params"]): CallContext {
    const extra = sensitiveValues(params, rawPath);
    return {
      host: this.host,
      method,
      path: rawPath.split("?")[0]!,
      auth: this.#auth.kind,
      principal: this.#auth.principal,
      redact: (text) => this.#redactor.redact(text, extra),
    };
  }

  #login(params: Record<string, string>): Promise<unknown> {
    const ctx = this.#context("POST", LOGIN_PATH, params);
    return this.#attempt(ctx, LOGIN_PATH, { method: "POST", path: LOGIN_PATH, params }, {}, 1).then((r) => r.data);
  }

  async #attempt<T>(
    ctx: CallContext,
    path: string,
    req: PveRequest,
    authHeaders: Record<string, string>,
    attempt: number,
    timeoutMs = req.timeoutMs ?? this.#timeoutMs,
    cut?: { deadlineMs: number },
  ): Promise<PveResult<T>> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new DOMException("timed out", "TimeoutError")), timeoutMs);
    const noConnection = new AbortController();
    const stopCheck = new AbortController();
    const signal = AbortSignal.any([
      timeout.signal,
      noConnection.signal,
      this.#closer.signal,
      ...(req.signal ? [req.signal] : []),
    ]);
    const why = (fallback: FailureCause): FailureCause =>
      req.signal?.aborted || this.#closer.signal.aborted
        ? "aborted"
        : noConnection.signal.aborted
        ? "connect"
        : timeout.signal.aborted
        ? cut ? "deadline" : "timeout"
        : fallback;
    const failure = (fallback: FailureCause, e: unknown): PveError => {
      const cause = why(fallback);
      const limitMs = cause === "deadline" && cut ? cut.deadlineMs : timeoutMs;
      return errorFromFailure(ctx, cause, e, limitMs, this.#connectTimeoutMs);
    };
    const started = performance.now();
    if (this.#connect && (attempt > 1 || started - this.#lastAnswerAt > WARM_MS)) {
      this.#checkConnect(this.#connect, noConnection, AbortSignal.any([stopCheck.signal, signal]));
    }
    let status = 0;
    let errorKind: PveErrorKind | undefined;
    try {
      const { client, origin, headers: transportHeaders } = await this.#transport.ready();
      const form = encodeParams(req.params);
      const hasBody = req.method === "POST" || req.method === "PUT";
      const query = !hasBody && [...form.keys()].length > 0 ? `?${form}` : "";
      const headers = new Headers({
        accept: "application/json",
        "user-agent": this.#userAgent,
        ...transportHeaders,
        ...authHeaders,
      });
      if (hasBody) headers.set("content-type", "application/x-www-form-urlencoded");
      let res: Response;
      try {
        res = await fetch(`${origin}/api2/json${path}${query}`, {
          method: req.method,
          headers,
          ...(hasBody ? { body: form.toString() } : {}),
          signal,
          client,
          redirect: "manual",
        });
      } catch (e) {
        throw failure("network", e);
      }
      stopCheck.abort();
      const relayKind = this.tlsMode !== "verify" ? res.headers.get(RELAY_ERROR_HEADER) : null;
      if (!relayKind) this.#lastAnswerAt = performance.now();
      let text: string;
      try {
        text = await readBody(res, this.#maxBytes);
      } catch (e) {
        if (e instanceof BodyTooLarge) {
          status = res.status;
          throw errorFromBadBody(ctx, res.status, `the answer is larger than ${this.#maxBytes} bytes`);
        }
        throw failure("body", e);
      }
      if (relayKind) throw errorFromRelay(ctx, relayKind as PveErrorKind, text);
      status = res.status;
      if (status < 200 || status >= 300) throw errorFromStatus(ctx, status, res.statusText, text);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw errorFromBadBody(ctx, status, text.trim() === "" ? "the body is empty" : "the body is not JSON");
      }
      if (!json || typeof json !== "object" || Array.isArray(json) || !("data" in json)) {
        throw errorFromBadBody(ctx, status, 'the body has no "data" member');
      }
      const env = json as { data: T; total?: unknown };
      const total = typeof env.total === "number"
        ? env.total
        : typeof env.total === "string" && /^\d+$/.test(env.total)
        ? Number(env.total)
        : undefined;
      return total === undefined ? { data: env.data } : { data: env.data, total };
    } catch (e) {
      const err = e instanceof PveError ? e : failure("network", e);
      errorKind = err.kind;
      throw err;
    } finally {
      clearTimeout(timer);
      stopCheck.abort();
      if (this.#onCall) {
        try {
          this.#onCall({
            method: req.method,
            path: ctx.path,
            status,
            durationMs: performance.now() - started,
            paramNames: paramNames(req.params),
            attempt,
            ...(errorKind ? { errorKind } : {}),
          });
        } catch {
          // An observer must not break the call.
        }
      }
    }
  }

  /**
   * Opens a TCP connection beside the request; when none opens within the connect timeout, aborts the request through
   * `noConnection`. Other failures (refused, unreachable) are left to the request, which meets them itself.
   */
  #checkConnect(
    connect: (host: string, port: number, signal: AbortSignal) => Promise<void>,
    noConnection: AbortController,
    stop: AbortSignal,
  ): void {
    const check = new AbortController();
    const timer = setTimeout(() => {
      noConnection.abort();
      check.abort();
    }, this.#connectTimeoutMs);
    const onStop = () => {
      clearTimeout(timer);
      check.abort();
    };
    stop.addEventListener("abort", onStop, { once: true });
    connect(this.#rawHost, this.#port, check.signal).catch(() => {}).finally(() => {
      clearTimeout(timer);
      stop.removeEventListener("abort", onStop);
    });
  }
}

/**
 * Creates a client for one PVE endpoint. Synchronous: reads a CA file if given, validates settings (throws
 * {@linkcode PveError} with the problem; secrets are never echoed), logs a warning in insecure mode; the network is
 * first touched by the first request.
 */
export function createPveClient(opts: PveClientOptions): PveClient {
  return new PveClient(opts);
}
