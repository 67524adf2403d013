/**
 * Credentials of the PVE client: a stateless API token header, or a ticket session (`POST /access/ticket`, cookie,
 * CSRF header on writes) that logs in once for all concurrent callers and logs in again before the 2 h lifetime ends.
 * @module
 */
import { PveError, type PveMethod } from "./types.ts";
import type { Redactor } from "./errors.ts";

/** API token credential (preferred): `user@realm!tokenname` and its secret (a UUID). */
export interface PveTokenAuth {
  tokenId: string;
  tokenSecret: string;
}

/** User + password credential (ticket login). `realm` is appended when `user` has none (`root` + `pam`). */
export interface PvePasswordAuth {
  user: string;
  password: string;
  realm?: string;
}

/** Either credential. */
export type PveAuthOptions = PveTokenAuth | PvePasswordAuth;

/** Headers to send with one request, and which login they came from (for invalidation after a 401). */
export interface AuthHeaders {
  headers: Record<string, string>;
  generation: number;
}

/** What the client asks of a credential. */
export interface Authenticator {
  readonly kind: "token" | "ticket";
  /** Token id or user id (not secret), for messages. */
  readonly principal: string;
  /** Headers for a request (logs in first when needed; concurrent callers share one login). */
  headers(method: PveMethod, signal?: AbortSignal): Promise<AuthHeaders>;
  /** Called after a 401: drops the session the headers came from. Returns whether logging in again may help. */
  invalidate(generation: number): boolean;
}

const TOKEN_ID = /^[^\s:/@!]+@[A-Za-z][A-Za-z0-9.\-_]*![A-Za-z][A-Za-z0-9.\-_]*$/;
const PRINTABLE = /^[\x21-\x7e]+$/;

/** Stateless `Authorization: PVEAPIToken=<id>=<secret>`. */
export class TokenAuthenticator implements Authenticator {
  readonly kind = "token";
  readonly principal: string;
  readonly #header: string;

  constructor(auth: PveTokenAuth, redactor: Redactor) {
    // Never echo the values: a pasted "id=secret" would put the secret into the message.
    if (!TOKEN_ID.test(auth.tokenId)) {
      throw new PveError(
        "auth",
        "Invalid API token id: expected user@realm!tokenname (e.g. monitor@pve!mcp); the secret goes into the " +
          "token secret setting",
      );
    }
    if (!PRINTABLE.test(auth.tokenSecret)) {
      throw new PveError(
        "auth",
        `Invalid API token secret for ${auth.tokenId}: it must be non-empty printable ASCII without spaces (a UUID)`,
      );
    }
    redactor.add(auth.tokenSecret);
    this.principal = auth.tokenId;
    this.#header = `PVEAPIToken=${auth.tokenId}=${auth.tokenSecret}`;
  }

  headers(): Promise<AuthHeaders> {
    return Promise.resolve({ headers: { authorization: this.#header }, generation: 0 });
  }

  invalidate(): boolean {
    return false;
  }
}

/** The data of a successful `POST /access/ticket`. */
interface TicketData {
  ticket: string;
  CSRFPreventionToken: string;
  username?: string;
  NeedTFA?: number;
}

/** Sends `POST /access/ticket` with the given form fields, without authentication; resolves to the `data`. */
export type LoginCall = (params: Record<string, string>) => Promise<unknown>;

interface Session {
  ticket: string;
  csrf: string;
  obtainedAt: number;
  generation: number;
}

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Options of {@linkcode TicketAuthenticator}. */
export interface TicketOptions {
  host: string;
  login: LoginCall;
  now: () => number;
  redactor: Redactor;
  /** Log in again once the ticket is this old (default 1 h, like Proxmox's apiclient; tickets live 2 h). */
  renewAfterMs?: number;
}

/** Ticket session: cookie `PVEAuthCookie`, `CSRFPreventionToken` on non-GET requests. */
export class TicketAuthenticator implements Authenticator {
  readonly kind = "ticket";
  readonly principal: string;
  readonly #params: Record<string, string>;
  readonly #opts: TicketOptions;
  readonly #renewAfterMs: number;
  #session: Session | undefined;
  #pending: Promise<Session> | undefined;
  #generation = 0;

  constructor(auth: PvePasswordAuth, opts: TicketOptions) {
    if (auth.user.trim() === "" || /[\s:/]/.test(auth.user)) {
      throw new PveError("auth", "Invalid PVE user name: expected user@realm (e.g. root@pam), without spaces");
    }
    if (auth.password === "") throw new PveError("auth", `The password for PVE user ${auth.user} is empty`);
    const hasRealm = auth.user.includes("@");
    this.principal = hasRealm || !auth.realm ? auth.user : `${auth.user}@${auth.realm}`;
    this.#params = { username: this.principal, password: auth.password };
    this.#opts = opts;
    this.#renewAfterMs = opts.renewAfterMs ?? 3600_000;
    opts.redactor.add(auth.password);
  }

  async headers(method: PveMethod, signal?: AbortSignal): Promise<AuthHeaders> {
    const s = await abortable(this.#current(), signal);
    const headers: Record<string, string> = { cookie: `PVEAuthCookie=${encodeURIComponent(s.ticket)}` };
    if (method !== "GET") headers.csrfpreventiontoken = s.csrf;
    return { headers, generation: s.generation };
  }

  invalidate(generation: number): boolean {
    if (this.#session?.generation === generation) this.#session = undefined;
    return true;
  }

  #current(): Promise<Session> {
    const s = this.#session;
    if (s && this.#opts.now() - s.obtainedAt < this.#renewAfterMs) return Promise.resolve(s);
    this.#pending ??= this.#login().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #login(): Promise<Session> {
    const { host, redactor } = this.#opts;
    let data: unknown;
    try {
      data = await this.#opts.login(this.#params);
    } catch (e) {
      if (e instanceof PveError && e.kind === "auth") {
        throw new PveError(
          "auth",
          `Login to ${host} as ${this.principal} failed (PVE: "${
            e.details.pveMessage ?? "authentication failure"
          }"): ` +
            "check the user name, realm and password (PVE answers the same for unknown users)",
          e.details,
        );
      }
      throw e;
    }
    const d = (data ?? {}) as Partial<TicketData>;
    if (d.NeedTFA) {
      throw new PveError(
        "auth",
        `Login to ${host} as ${this.principal} needs a second factor (TFA), which this client does not support: ` +
          "use an API token instead",
      );
    }
    if (typeof d.ticket !== "string" || typeof d.CSRFPreventionToken !== "string") {
      throw new PveError(
        "protocol",
        `Login to ${host} as ${this.principal} returned no ticket: is this a Proxmox VE API?`,
      );
    }
    const previous = this.#session;
    if (previous) {
      redactor.delete(previous.ticket);
      redactor.delete(previous.csrf);
    }
    redactor.add(d.ticket);
    redactor.add(d.CSRFPreventionToken);
    this.#session = {
      ticket: d.ticket,
      csrf: d.CSRFPreventionToken,
      obtainedAt: this.#opts.now(),
      generation: ++this.#generation,
    };
    return this.#session;
  }
}
