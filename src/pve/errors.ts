/**
 * Maps what PVE (or the network) answered into one {@linkcode PveError} with an actionable message that names the host,
 * method and path. Error bodies are never assumed to be JSON; secrets are redacted from every text we build.
 * @module
 */
import { PveError, type PveErrorKind, type PveMethod } from "./types.ts";

/** What the mapping needs to know about the failed call. */
export interface CallContext {
  host: string;
  method: PveMethod;
  /** Path relative to `/api2/json`, without the query string. */
  path: string;
  /** Which credential the client uses, to tailor the 401 advice. */
  auth: "token" | "ticket";
  /** Token id or user name (not secret), for messages. */
  principal: string;
  /** Removes secret values from a text. */
  redact: (text: string) => string;
}

/** Replaces known secret values (and their URL-encoded forms) with `[redacted]`. */
export class Redactor {
  #secrets = new Set<string>();

  /** Registers a secret; values shorter than 4 characters are ignored (they would mangle ordinary text). */
  add(secret: string | undefined): void {
    if (secret === undefined || secret.length < 4) return;
    this.#secrets.add(secret);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) this.#secrets.add(encoded);
  }

  /** Forgets a secret (e.g. an expired ticket). */
  delete(secret: string | undefined): void {
    if (secret === undefined) return;
    this.#secrets.delete(secret);
    this.#secrets.delete(encodeURIComponent(secret));
  }

  /** The text with every registered secret (plus the per-call `extra` values) replaced. */
  redact(text: string, extra: readonly string[] = []): string {
    let out = text;
    for (const s of [...this.#secrets, ...extra].sort((a, b) => b.length - a.length)) {
      if (s.length >= 4) out = out.split(s).join("[redacted]");
    }
    return out;
  }
}

/** `GET /nodes/pve1/status on pve.example.com:8006` */
export function describeCall(ctx: Pick<CallContext, "method" | "path" | "host">): string {
  return `${ctx.method} ${ctx.path} on ${ctx.host}`;
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]+/g;

/** One line of untrusted server text: control characters collapsed, length capped. */
export function cleanLine(text: string, max = 300): string {
  const line = text.replace(CONTROL, " ").replace(/\s+/g, " ").trim();
  return line.length > max ? line.slice(0, max) + "…" : line;
}

/** PVE's error body, parsed defensively: JSON `{message, errors}`, plain text, or nothing. */
export function parseErrorBody(body: string): { message?: string; errors?: Record<string, string> } {
  const text = body.trim();
  if (text === "") return {};
  try {
    const json: unknown = JSON.parse(text);
    if (json && typeof json === "object" && !Array.isArray(json)) {
      const o = json as Record<string, unknown>;
      const out: { message?: string; errors?: Record<string, string> } = {};
      if (typeof o.message === "string" && o.message.trim() !== "") out.message = o.message;
      if (o.errors && typeof o.errors === "object" && !Array.isArray(o.errors)) {
        const errors: Record<string, string> = {};
        for (const [k, v] of Object.entries(o.errors as Record<string, unknown>)) {
          errors[k] = typeof v === "string" ? v : JSON.stringify(v);
        }
        if (Object.keys(errors).length > 0) out.errors = errors;
      }
      return out;
    }
    return {};
  } catch {
    // Not JSON: new servers send the bare message text; ignore HTML pages.
    return /^\s*</.test(text) ? {} : { message: text };
  }
}

const NOT_FOUND = /does not exist|doesn't exist|no such |not found|unknown (?:vm|ct|guest|user|node|storage)/i;

function quote(s: string): string {
  return `"${s}"`;
}

function permissionAdvice(pveMessage: string, ctx: CallContext): string {
  if (/not available with API token/i.test(pveMessage)) {
    return "this endpoint refuses API tokens and needs a ticket: configure a user and password for it";
  }
  const m = /Permission check failed \((.*)\)/is.exec(pveMessage);
  const inner = m?.[1]?.trim();
  const acl = inner ? /^(\/\S*),\s*([A-Za-z0-9.|]+)$/.exec(inner) : null;
  const who = ctx.auth === "token"
    ? `the user and, with privilege separation, the token ${ctx.principal}`
    : `the user ${ctx.principal}`;
  if (acl) {
    const [, aclPath, privs = ""] = acl;
    const list = privs.split("|").filter(Boolean);
    const need = list.length > 1 ? `one of ${list.join(", ")}` : list[0];
    return `the credential lacks ${need} on ${aclPath}; grant a role with it on ${aclPath} to ${who}`;
  }
  return `check the permissions of ${who} (Datacenter → Permissions)`;
}

/**
 * The error for an HTTP answer with a status outside 2xx. `statusText` is the reason phrase, which carries the message
 * when the body is empty (401s, old servers, 595/596).
 */
export function errorFromStatus(ctx: CallContext, status: number, statusText: string, body: string): PveError {
  const parsed = parseErrorBody(body);
  const pveMessage = cleanLine(ctx.redact(parsed.message ?? statusText ?? ""));
  const errors = parsed.errors
    ? Object.fromEntries(Object.entries(parsed.errors).map(([k, v]) => [k, cleanLine(ctx.redact(v), 200)]))
    : undefined;
  const call = describeCall(ctx);
  const said = pveMessage ? ` (PVE: ${quote(pveMessage)})` : "";
  const statusLine = `${status}${statusText ? " " + cleanLine(ctx.redact(statusText), 100) : ""}`;
  let kind: PveErrorKind;
  let message: string;
  if (status === 401) {
    kind = "auth";
    const csrf = /csrf/i.test(pveMessage) ? "; the CSRF prevention token was refused" : "";
    message = `Authentication failed for ${call}${said}${csrf}: check the token id/secret or user/password` +
      (ctx.auth === "token" ? ` (token ${ctx.principal}: is it expired, deleted or mistyped?)` : "");
  } else if (status === 403) {
    kind = "permission";
    message = `Permission denied for ${call}${said}: ${permissionAdvice(pveMessage, ctx)}`;
  } else if (status === 400) {
    kind = "invalid";
    const list = errors
      ? Object.keys(errors).sort().map((k) => `${k}: ${errors[k]}`).join("; ")
      : pveMessage || "no details";
    message = `Invalid parameters for ${call}: ${list}`;
  } else if (status === 501) {
    kind = "not_implemented";
    message = `PVE does not implement ${call}${said}: check the path and method, or the PVE version is too old for it`;
  } else if (status === 595 || status === 596) {
    kind = "proxy";
    message = status === 595
      ? `Node forwarding failed for ${call} (${statusLine}): the contacted node could not connect to the target ` +
        "node, which is probably offline; skip that node or ask another one"
      : `Node forwarding failed for ${call} (${statusLine}): a TLS or I/O error between the cluster nodes; check ` +
        "the target node's pveproxy and certificates (pvecm updatecerts)";
  } else if (status === 502 || status === 503 || status === 504) {
    kind = "server";
    message = `PVE answered ${statusLine} for ${call}: the server or a proxy in front of it is unavailable or ` +
      "overloaded; try again shortly";
  } else if (status >= 500) {
    kind = NOT_FOUND.test(pveMessage) ? "not_found" : "server";
    message = `${call} failed: ${pveMessage || statusLine}`;
  } else if (status >= 300 && status < 400) {
    kind = "protocol";
    message = `PVE answered ${call} with a redirect (${statusLine}): check the host, port and scheme ` +
      "(the API is HTTPS on port 8006)";
  } else {
    kind = "protocol";
    message = `Unexpected HTTP status ${statusLine} for ${call}${said}: is this a Proxmox VE API endpoint?`;
  }
  return new PveError(kind, message, {
    status,
    method: ctx.method,
    path: ctx.path,
    host: ctx.host,
    ...(errors ? { errors } : {}),
    ...(pveMessage ? { pveMessage } : {}),
  });
}

/** The error for a 2xx answer whose body is not the `{data}` envelope. */
export function errorFromBadBody(ctx: CallContext, status: number, why: string): PveError {
  return new PveError("protocol", `Malformed answer to ${describeCall(ctx)}: ${why}; is this a Proxmox VE API?`, {
    status,
    method: ctx.method,
    path: ctx.path,
    host: ctx.host,
  });
}

/** All messages of an error and its causes, URLs removed (they may carry query parameters). */
export function lowLevelText(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 5 && e !== undefined && e !== null; i++) {
    if (e instanceof Error) {
      parts.push(`${e.message}${"code" in e && typeof e.code === "string" ? ` (${e.code})` : ""}`);
      e = e.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join(": ").replace(/https?:\/\/[^\s)]*/g, "<url>");
}

const TLS_ADVICE = "set the cluster CA file (caFile, e.g. a copy of /etc/pve/pve-root-ca.pem) or pin the server " +
  "certificate's SHA-256 fingerprint (fingerprint, see `pvenode cert info` or ssl_fingerprint in GET /nodes)";

/** Classifies a network-level failure text into a kind and a human reason with advice. */
export function classifyNetworkFailure(text: string): { kind: PveErrorKind; reason: string } {
  if (/CaUsedAsEndEntity|UnknownIssuer|self[- ]signed|unable to get local issuer|BadSignature/i.test(text)) {
    return { kind: "tls", reason: `the server certificate is not signed by a trusted CA; ${TLS_ADVICE}` };
  }
  if (/NotValidForName|not valid for name|hostname|IP address mismatch|ERR_TLS_CERT_ALTNAME/i.test(text)) {
    return {
      kind: "tls",
      reason: "the server certificate does not cover this host name; connect by a name or IP the certificate " +
        "lists, or pin its SHA-256 fingerprint",
    };
  }
  if (/expired|NotValidYet|not valid yet|not valid after|not valid before|CERT_HAS_EXPIRED/i.test(text)) {
    return {
      kind: "tls",
      reason: `the server certificate has expired or is not yet valid; renew it, or ${TLS_ADVICE}`,
    };
  }
  // rustls names an abrupt close "peer closed connection without sending TLS close_notify": a reset, not a TLS fault.
  if (/close_notify|peer closed connection/i.test(text)) {
    return { kind: "connection", reason: "the connection was closed or reset by the server or the network" };
  }
  if (/certificate|peer cert|tls|ssl|handshake|alert/i.test(text)) {
    return { kind: "tls", reason: `the TLS handshake failed (${cleanLine(text, 160)}); ${TLS_ADVICE}` };
  }
  if (/dns error|failed to lookup|Name or service not known|ENOTFOUND|EAI_AGAIN|nodename nor servname/i.test(text)) {
    return { kind: "connection", reason: "the host name does not resolve; check the host setting and DNS" };
  }
  if (/refused|ECONNREFUSED/i.test(text)) {
    return {
      kind: "connection",
      reason: "the connection was refused; check the host and port (8006) and that pveproxy is running",
    };
  }
  if (/unreachable|EHOSTUNREACH|ENETUNREACH|No route/i.test(text)) {
    return { kind: "connection", reason: "the host is unreachable; check the network path and firewall" };
  }
  if (/timed? ?out|ETIMEDOUT/i.test(text)) {
    return { kind: "timeout", reason: "connecting timed out; check the network path and firewall" };
  }
  if (/reset|ECONNRESET|broken pipe|EPIPE|closed|EOF|IncompleteMessage|aborted by peer/i.test(text)) {
    return { kind: "connection", reason: "the connection was closed or reset by the server or the network" };
  }
  if (/blocked/i.test(text)) return { kind: "connection", reason: cleanLine(text, 160) };
  return { kind: "connection", reason: `the request could not be sent (${cleanLine(text, 160)})` };
}

/** Why an attempt ended without an HTTP answer (`connect`: no TCP connection within the connect timeout). */
export type FailureCause = "aborted" | "connect" | "timeout" | "deadline" | "network" | "body";

/**
 * The error for a call that got no (complete) answer: caller abort, no connection, timeout, network or TLS failure,
 * broken body. `timeoutMs` is the attempt's timeout (the deadline for `deadline`), `connectTimeoutMs` the connect
 * timeout (for `connect`).
 */
export function errorFromFailure(
  ctx: CallContext,
  cause: FailureCause,
  err: unknown,
  timeoutMs: number,
  connectTimeoutMs = timeoutMs,
): PveError {
  const call = describeCall(ctx);
  const base = { method: ctx.method, path: ctx.path, host: ctx.host };
  const text = ctx.redact(lowLevelText(err));
  const causeErr = new Error(cleanLine(text, 500));
  if (cause === "aborted") return new PveError("aborted", `${call} was cancelled`, { ...base, cause: causeErr });
  if (cause === "connect") {
    return new PveError(
      "timeout",
      `Cannot reach PVE for ${call}: could not connect to ${ctx.host} within ${formatMs(connectTimeoutMs)}; check ` +
        "that the host is up and the address, port (8006) and firewall are right",
      { ...base, cause: causeErr },
    );
  }
  if (cause === "deadline") {
    return new PveError(
      "timeout",
      `${call} got no answer within the request's deadline of ${formatMs(timeoutMs)}: PVE did not answer in time; ` +
        "check the node's load or raise the deadline (deadlineMs)",
      { ...base, cause: causeErr },
    );
  }
  if (cause === "timeout") {
    return new PveError(
      "timeout",
      `${call} timed out after ${formatMs(timeoutMs)}: PVE did not answer in time; check the node's load or raise ` +
        "the timeout",
      { ...base, cause: causeErr },
    );
  }
  if (cause === "body") {
    return new PveError(
      "protocol",
      `The answer to ${call} was cut off (the body is truncated or the connection dropped while reading it)`,
      { ...base, cause: causeErr },
    );
  }
  const { kind, reason } = classifyNetworkFailure(text);
  const prefix = kind === "tls" ? `TLS verification failed for ${call}` : `Cannot reach PVE for ${call}`;
  return new PveError(kind, `${prefix}: ${reason}`, { ...base, cause: causeErr });
}

/** The error for a failure the pinning/insecure relay reported before any byte reached the server. */
export function errorFromRelay(ctx: CallContext, kind: PveErrorKind, reason: string): PveError {
  const call = describeCall(ctx);
  const prefix = kind === "tls"
    ? `TLS verification failed for ${call}`
    : kind === "timeout"
    ? `Timed out connecting for ${call}`
    : `Cannot reach PVE for ${call}`;
  return new PveError(kind, `${prefix}: ${ctx.redact(cleanLine(reason, 600))}`, {
    method: ctx.method,
    path: ctx.path,
    host: ctx.host,
  });
}

function formatMs(ms: number): string {
  return ms >= 1000 && ms % 100 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** Whether a failed GET may be sent again: network failures, timeouts, broken bodies and 502/503/504. */
export function isRetryable(err: PveError): boolean {
  switch (err.kind) {
    case "connection":
    case "timeout":
    case "protocol":
      return err.details.status === undefined || err.details.status >= 200 && err.details.status < 300;
    case "server":
      return err.details.status === 502 || err.details.status === 503 || err.details.status === 504;
    default:
      return false;
  }
}
