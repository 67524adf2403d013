/**
 * A loopback relay that lets `fetch` (through a `Deno.HttpClient`) talk to PVE over a TLS connection whose server
 * certificate WE check: by SHA-256 fingerprint of the leaf (pinning, hostname not checked, like Proxmox's own client)
 * or not at all (explicit insecure mode).
 *
 * Why: `Deno.createHttpClient` can only verify against CA certificates (plus the host name); it has no hook to check a
 * fingerprint and no switch to skip verification. `node:tls` in Deno can (`rejectUnauthorized: false` + the peer's DER),
 * so each connection the HttpClient opens to the relay (its `proxy: {transport: "tcp"}`) gets its own upstream TLS
 * connection, opened and checked BEFORE a single byte of the request is forwarded. A mismatch closes the upstream
 * connection untouched and answers the local side with a marked 502, so the auth header never leaves the process.
 *
 * The HttpClient writes proxy-style absolute-form request lines (`GET http://host:8006/api2/... HTTP/1.1`); pveproxy
 * would pass such a URI on verbatim when it forwards to another node, so the relay rewrites each request line to
 * origin form (`GET /api2/... HTTP/1.1`). Request framing is Content-Length only (the client never streams bodies).
 *
 * Only this process may use the relay: each relay makes a random secret at start, the HttpClient sends it in the
 * {@linkcode RELAY_AUTH_HEADER} of every request, and the relay compares it (SHA-256 digests, constant time) and strips
 * it before forwarding. A connection whose first request lacks it is answered 403 and closed before any upstream
 * connection is opened; a later request without it closes the connection. Another local process cannot borrow the
 * relay to reach PVE through the pinned connection.
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import * as net from "node:net";
import * as tls from "node:tls";
import { randomBase64Url } from "../crypto/encoding.ts";
import type { PveErrorKind } from "./types.ts";

/** Response header marking an answer the relay made up itself (no byte reached the server on that connection). */
export const RELAY_ERROR_HEADER = "x-pve-mcp-relay-error";

/** Request header carrying the relay's per-start secret (checked and removed by the relay). */
export const RELAY_AUTH_HEADER = "x-pve-mcp-relay-auth";

/** Checks the value of {@linkcode RELAY_AUTH_HEADER} (absent: `undefined`). */
export type RelayAuthCheck = (value: string | undefined) => boolean;

/** Decides on the server's leaf certificate (DER); returns a reason to refuse it, or `undefined` to accept. */
export type LeafCheck = (leafDer: Uint8Array | undefined) => string | undefined;

/** Options of {@linkcode TlsRelay}. */
export interface TlsRelayOptions {
  host: string;
  port: number;
  check: LeafCheck;
  /** Time allowed for TCP connect + TLS handshake upstream. */
  connectTimeoutMs: number;
}

const MAX_HEAD = 64 * 1024;
const CRLFCRLF = [13, 10, 13, 10];

function indexOfHeadEnd(buf: Uint8Array): number {
  outer: for (let i = 0; i + 3 < buf.length; i++) {
    for (let j = 0; j < 4; j++) if (buf[i + j] !== CRLFCRLF[j]) continue outer;
    return i;
  }
  return -1;
}

function binaryString(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Rewrites one HTTP/1.1 request head: absolute-form target → origin form, proxy-only headers and the relay secret
 * dropped. Returns the new head and the body length, or throws with a reason (also when `authorize` refuses the
 * relay secret the head carries).
 */
export function rewriteRequestHead(head: string, authorize: RelayAuthCheck): { head: string; bodyLength: number } {
  const lines = head.split("\r\n");
  const m = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(lines[0] ?? "");
  if (!m) throw new Error("malformed request line");
  let target = m[2]!;
  const abs = /^https?:\/\/[^/?#]*/i.exec(target);
  if (abs) {
    target = target.slice(abs[0].length);
    if (!target.startsWith("/")) target = "/" + target;
  }
  let bodyLength = 0;
  let secret: string | undefined;
  let secrets = 0;
  const kept: string[] = [`${m[1]} ${target} ${m[3]}`];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = (colon > 0 ? line.slice(0, colon) : line).trim().toLowerCase();
    const value = colon > 0 ? line.slice(colon + 1).trim() : "";
    if (name === RELAY_AUTH_HEADER) {
      secret = value;
      secrets++;
      continue;
    }
    if (name === "proxy-connection" || name === "proxy-authorization") continue;
    if (name === "transfer-encoding" && value.toLowerCase() !== "identity") {
      throw new Error("chunked request bodies are not supported");
    }
    if (name === "content-length") {
      if (!/^\d{1,10}$/.test(value)) throw new Error("bad content-length");
      bodyLength = Number(value);
    }
    kept.push(line);
  }
  if (secrets !== 1 || !authorize(secret)) throw new Error("request without the relay secret");
  return { head: kept.join("\r\n"), bodyLength };
}

/** Streams requests from the local side to the upstream, rewriting each request head. */
class RequestRewriter {
  #buf: Uint8Array = new Uint8Array(0);
  #bodyLeft = 0;

  constructor(readonly write: (bytes: Uint8Array) => boolean, readonly authorize: RelayAuthCheck) {}

  /** Feeds bytes; returns false when the upstream asked to wait (backpressure). Throws on a malformed request. */
  push(chunk: Uint8Array): boolean {
    let ok = true;
    this.#buf = concat(this.#buf, chunk);
    while (this.#buf.length > 0) {
      if (this.#bodyLeft > 0) {
        const n = Math.min(this.#bodyLeft, this.#buf.length);
        ok = this.write(this.#buf.subarray(0, n)) && ok;
        this.#bodyLeft -= n;
        this.#buf = this.#buf.subarray(n);
        continue;
      }
      const end = indexOfHeadEnd(this.#buf);
      if (end < 0) {
        if (this.#buf.length > MAX_HEAD) throw new Error("request head too large");
        break;
      }
      const { head, bodyLength } = rewriteRequestHead(binaryString(this.#buf.subarray(0, end)), this.authorize);
      ok = this.write(Uint8Array.from(head + "\r\n\r\n", (c) => c.charCodeAt(0))) && ok;
      this.#bodyLeft = bodyLength;
      this.#buf = this.#buf.subarray(end + 4);
    }
    return ok;
  }
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function failureKind(err: unknown): { kind: PveErrorKind; text: string } {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === "string" ? e.code : "";
  const text = `${typeof e?.message === "string" ? e.message : String(err)}${code ? ` (${code})` : ""}`;
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ECONNRESET|EPIPE/.test(code)) {
    return { kind: "connection", text };
  }
  if (/ETIMEDOUT/.test(code)) return { kind: "timeout", text };
  if (/tls|ssl|certificate|handshake|alert/i.test(text)) return { kind: "tls", text };
  return { kind: "connection", text };
}

/** The loopback relay. Start it with {@linkcode TlsRelay.start}; {@linkcode TlsRelay.close} drops everything. */
export class TlsRelay {
  readonly #opts: TlsRelayOptions;
  #server: net.Server | undefined;
  #port: Promise<number> | undefined;
  readonly #sockets = new Set<net.Socket>();
  #closed = false;
  readonly #secret = randomBase64Url(32);
  readonly #secretDigest = sha256(this.#secret);

  constructor(opts: TlsRelayOptions) {
    this.#opts = opts;
  }

  /** The header every request to this relay must carry (name, value); only this process knows the value. */
  get authHeader(): [string, string] {
    return [RELAY_AUTH_HEADER, this.#secret];
  }

  readonly #authorize: RelayAuthCheck = (value) =>
    value !== undefined && timingSafeEqual(sha256(value), this.#secretDigest);

  /** Listens on 127.0.0.1 (ephemeral port) once; resolves to the port. */
  start(): Promise<number> {
    if (this.#closed) return Promise.reject(new Error("the TLS relay is closed"));
    this.#port ??= new Promise<number>((resolve, reject) => {
      const server = net.createServer({ pauseOnConnect: true }, (local) => this.#accept(local));
      this.#server = server;
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.unref(); // never keep the process alive on its own
        const addr = server.address();
        if (addr && typeof addr === "object") resolve(addr.port);
        else reject(new Error("the TLS relay has no address"));
      });
    });
    return this.#port;
  }

  /** Stops listening and destroys every open connection. */
  close(): void {
    this.#closed = true;
    this.#server?.close();
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  #track<T extends net.Socket>(s: T): T {
    // Like the server: pooled idle connections must not keep the process alive (in-flight fetches hold it anyway).
    s.unref();
    this.#sockets.add(s);
    s.once("close", () => this.#sockets.delete(s));
    return s;
  }

  #accept(local: net.Socket): void {
    if (this.#closed) {
      local.destroy();
      return;
    }
    this.#track(local);
    local.on("error", () => local.destroy());
    // Nothing goes upstream (not even a TCP connection) until the first request head proves it comes from us.
    let first: Uint8Array = new Uint8Array(0);
    const giveUp = setTimeout(() => local.destroy(), this.#opts.connectTimeoutMs);
    Deno.unrefTimer(giveUp);
    const onData = (chunk: Uint8Array) => {
      first = concat(first, chunk);
      const end = indexOfHeadEnd(first);
      if (end < 0) {
        if (first.length > MAX_HEAD) local.destroy();
        return;
      }
      clearTimeout(giveUp);
      local.off("data", onData);
      local.pause();
      try {
        rewriteRequestHead(binaryString(first.subarray(0, end)), this.#authorize);
      } catch (e) {
        local.on("data", () => {});
        local.resume();
        const body = `refused by the relay: ${(e as Error).message}`;
        local.end(
          `HTTP/1.1 403 Forbidden\r\n${RELAY_ERROR_HEADER}: connection\r\ncontent-type: text/plain; charset=utf-8\r\n` +
            `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
        );
        return;
      }
      this.#connect(local, first);
    };
    local.once("close", () => clearTimeout(giveUp));
    local.on("data", onData);
    local.resume();
  }

  #connect(local: net.Socket, first: Uint8Array): void {
    const { host, port, check, connectTimeoutMs } = this.#opts;
    const upstream = this.#track(
      tls.connect({
        host,
        port,
        ...(net.isIP(host) ? {} : { servername: host }),
        rejectUnauthorized: false, // the check below decides
        ALPNProtocols: ["http/1.1"],
      }),
    );
    let state: "connecting" | "open" | "failed" = "connecting";
    let drainTimer: ReturnType<typeof setTimeout> | undefined;

    const fail = (kind: PveErrorKind, reason: string) => {
      if (state !== "connecting") return;
      state = "failed";
      clearTimeout(timer);
      upstream.destroy();
      const body = new TextEncoder().encode(reason);
      const head = `HTTP/1.1 502 Bad Gateway\r\n${RELAY_ERROR_HEADER}: ${kind}\r\n` +
        `content-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`;
      // Read (and drop) the pending request so closing does not turn into a reset before the answer is read.
      local.on("data", () => {});
      local.resume();
      local.end(concat(new TextEncoder().encode(head), body));
      drainTimer = setTimeout(() => local.destroy(), 2000);
    };
    const timer = setTimeout(
      () => fail("timeout", `no TLS connection to ${host}:${port} within ${connectTimeoutMs} ms`),
      connectTimeoutMs,
    );
    local.once("close", () => {
      clearTimeout(timer);
      clearTimeout(drainTimer);
      upstream.destroy();
    });

    upstream.once("secureConnect", () => {
      if (state !== "connecting") return;
      clearTimeout(timer);
      const peer = upstream.getPeerCertificate();
      const raw = peer && (peer as { raw?: Uint8Array }).raw;
      let refusal: string | undefined;
      try {
        refusal = check(raw && raw.length > 0 ? new Uint8Array(raw) : undefined);
      } catch (e) {
        refusal = `certificate check failed: ${e instanceof Error ? e.message : String(e)}`;
      }
      if (refusal !== undefined) {
        fail("tls", refusal);
        return;
      }
      state = "open";
      this.#pipe(local, upstream, first);
    });
    upstream.on("error", (err) => {
      if (state === "connecting") {
        const { kind, text } = failureKind(err);
        fail(kind, `cannot open a TLS connection to ${host}:${port}: ${text}`);
      } else {
        local.destroy();
      }
    });
  }

  #pipe(local: net.Socket, upstream: tls.TLSSocket, first: Uint8Array): void {
    const rewriter = new RequestRewriter((bytes) => upstream.write(bytes), this.#authorize);
    const push = (chunk: Uint8Array) => {
      try {
        if (!rewriter.push(chunk)) local.pause();
      } catch {
        local.destroy();
        upstream.destroy();
      }
    };
    push(first);
    local.on("data", push);
    upstream.on("drain", () => local.resume());
    local.on("end", () => upstream.end());
    upstream.on("data", (chunk: Uint8Array) => {
      if (!local.write(chunk)) upstream.pause();
    });
    local.on("drain", () => upstream.resume());
    upstream.on("end", () => local.end());
    upstream.on("close", () => local.end());
    local.resume();
  }
}
