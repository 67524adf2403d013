/**
 * Test helpers: a tiny fake PVE over HTTPS (Deno.serve) and a raw TLS server for byte-level faults
 * (reason phrases, truncated bodies, resets, and counting what a client sent).
 * @module
 */
import { generateCertificate, type SimCertificate } from "../../src/sim/cert.ts";
import { PveError } from "../../src/pve/types.ts";

/** Awaits a promise that must reject with a PveError and returns that error. */
export async function caught(p: Promise<unknown>): Promise<PveError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PveError) return e;
    throw new Error(`expected a PveError, got ${e instanceof Error ? e.stack : String(e)}`);
  }
  throw new Error("expected the promise to reject with a PveError, but it resolved");
}

let mainCert: Promise<SimCertificate> | undefined;
let otherCert: Promise<SimCertificate> | undefined;

/** The certificate the fake servers use (CA + leaf for localhost/127.0.0.1), made once per test file. */
export function testCert(): Promise<SimCertificate> {
  mainCert ??= generateCertificate();
  return mainCert;
}

/** An unrelated certificate (other CA, other key). */
export function otherTestCert(): Promise<SimCertificate> {
  otherCert ??= generateCertificate({ commonName: "other.invalid" });
  return otherCert;
}

/** One request the fake saw; `path` is decoded and relative to /api2/json. */
export interface SeenRequest {
  method: string;
  path: string;
  rawPath: string;
  query: URLSearchParams;
  headers: Headers;
  body: string;
  form: URLSearchParams;
  remotePort: number;
  signal: AbortSignal;
}

/** A running fake PVE. */
export interface FakePve {
  host: string;
  port: number;
  cert: SimCertificate;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/** `{"data": …}` answer. */
export function ok(data: unknown, extra: Record<string, unknown> = {}): Response {
  return Response.json({ data, ...extra });
}

/** PVE-style error answer with a JSON body. */
export function pveError(status: number, message: string, errors?: Record<string, string>): Response {
  return Response.json({ data: null, message: message + "\n", ...(errors ? { errors } : {}) }, { status });
}

/** Starts a fake PVE on 127.0.0.1 (ephemeral port) answering with `handler`. */
export async function startFakePve(
  handler: (req: SeenRequest) => Response | Promise<Response>,
  opts: { cert?: SimCertificate; hostname?: string } = {},
): Promise<FakePve> {
  const cert = opts.cert ?? await testCert();
  const seen: SeenRequest[] = [];
  const hostname = opts.hostname ?? "127.0.0.1";
  const server = Deno.serve(
    { hostname, port: 0, cert: cert.certPem, key: cert.keyPem, onListen() {} },
    async (req, info) => {
      const url = new URL(req.url);
      const body = await req.text();
      const s: SeenRequest = {
        method: req.method,
        path: decodeURIComponent(url.pathname.replace(/^\/api2\/json/, "")),
        rawPath: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
        form: new URLSearchParams(body),
        remotePort: info.remoteAddr.port,
        get signal() {
          return req.signal; // read lazily: only "never answers" handlers need it
        },
      };
      seen.push(s);
      return await handler(s);
    },
  );
  return { host: hostname, port: server.addr.port, cert, seen, close: () => server.shutdown() };
}

/** Resolves when the request's connection goes away (for "never answers" handlers). */
export function untilAborted(req: SeenRequest): Promise<Response> {
  return new Promise((resolve) => {
    const done = () => resolve(new Response("late", { status: 200 }));
    if (req.signal.aborted) done();
    else req.signal.addEventListener("abort", done, { once: true });
  });
}

/** What a raw server does with one request: write these bytes (then close), or close/hang without answering. */
export type RawAction = string | Uint8Array | { close: true } | { hang: true };

/** A raw TLS server; `received` counts the bytes each connection sent after the handshake. */
export interface RawServer {
  host: string;
  port: number;
  cert: SimCertificate;
  requests: string[];
  received: number[];
  close(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function requestComplete(buf: Uint8Array): string | undefined {
  const text = dec.decode(buf);
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
  return text.length >= end + 4 + len ? text : undefined;
}

/** Starts a raw TLS server on 127.0.0.1 that answers each connection's first request with `respond`. */
export async function startRawTlsServer(
  respond: (request: string) => RawAction,
  opts: { cert?: SimCertificate } = {},
): Promise<RawServer> {
  const cert = opts.cert ?? await testCert();
  const listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: cert.certPem, key: cert.keyPem });
  const requests: string[] = [];
  const received: number[] = [];
  const conns = new Set<Deno.Conn>();
  const tasks: Promise<void>[] = [];
  const serveConn = async (conn: Deno.TlsConn) => {
    conns.add(conn);
    const index = received.push(0) - 1;
    let buf = new Uint8Array(0);
    const chunk = new Uint8Array(16384);
    try {
      for (;;) {
        const n = await conn.read(chunk);
        if (n === null) break;
        received[index]! += n;
        const next = new Uint8Array(buf.length + n);
        next.set(buf);
        next.set(chunk.subarray(0, n), buf.length);
        buf = next;
        const req = requestComplete(buf);
        if (req === undefined) continue;
        requests.push(req);
        const action = respond(req);
        if (typeof action === "string" || action instanceof Uint8Array) {
          await conn.write(typeof action === "string" ? enc.encode(action) : action);
          break;
        }
        if ("close" in action) break;
        // hang: keep reading until the client goes away
      }
    } catch {
      // handshake failure or reset: fine for these tests
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  };
  const acceptLoop = (async () => {
    try {
      for await (const conn of listener) tasks.push(serveConn(conn));
    } catch { /* listener closed */ }
  })();
  return {
    host: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
    cert,
    requests,
    received,
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      await acceptLoop;
      await Promise.all(tasks);
    },
  };
}

/** A raw HTTP/1.1 response. */
export function rawResponse(status: string, body = "", headers: Record<string, string> = {}): string {
  const h = Object.entries({ "content-length": String(enc.encode(body).length), connection: "close", ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`).join("");
  return `HTTP/1.1 ${status}\r\n${h}\r\n${body}`;
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Records sleeps instead of waiting. */
export function fakeSleep(): { sleep: (ms: number, signal?: AbortSignal) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    sleep(ms, signal) {
      delays.push(ms);
      return signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve();
    },
  };
}

/** A TCP listener that accepts connections and never sends a byte (a hung pveproxy). */
export function silentListener(): { port: number; close: () => void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) held.push(conn);
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: () => {
      listener.close();
      for (const c of held) c.close();
    },
  };
}
