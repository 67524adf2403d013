/**
 * The simulator's HTTPS transport on `node:https`: HTTP/1.1 like pveproxy, reason phrases carrying PVE's messages,
 * `Connection: close` after errors, optional gzip, and real connection resets for fault injection.
 *
 * Why not `Deno.serve`: over TLS it delays every response larger than ~1 KB by ~40 ms (Nagle + delayed ACK; there
 * is no TCP_NODELAY switch), which would swamp every latency figure; it also cannot set reason phrases or reset a
 * connection before the status line.
 * @module
 */
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { gzipSync } from "node:zlib";
import type { SimHttpRequest, SimHttpResponse } from "./server.ts";

/** Request bodies above this get 501 like PVE (`$limit_max_post`). */
export const BODY_LIMIT = 512 * 1024;

/** Options of {@linkcode listen}. */
export interface ListenOptions {
  hostname: string;
  port: number;
  certPem: string;
  keyPem: string;
  /** Gzip bodies over 1 KiB when the client accepts it (PVE does; off by default to save CPU). */
  gzip: boolean;
  handler: (req: SimHttpRequest) => Promise<SimHttpResponse>;
}

/** A listening transport. */
export interface Listening {
  port: number;
  close(): Promise<void>;
}

function toHeaders(raw: IncomingMessage["headers"]): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) h.append(k, item);
  }
  return h;
}

function write(req: IncomingMessage, res: ServerResponse, out: SimHttpResponse, gzip: boolean): void {
  const headers: Record<string, string> = { ...out.headers };
  let body: Uint8Array = Buffer.from(out.body, "utf8");
  if (out.abort === "reset") {
    req.socket.destroy();
    return;
  }
  if (gzip && body.length > 1024 && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) {
    body = gzipSync(body);
    headers["content-encoding"] = "gzip";
  }
  headers["content-length"] = String(body.length);
  if (out.status >= 400) headers["connection"] = "close"; // PVE closes the connection after an error
  res.writeHead(out.status, out.reason, headers);
  if (out.abort === "truncated") {
    res.write(body.subarray(0, Math.max(1, Math.floor(body.length / 2))), () => req.socket.destroy());
    return;
  }
  res.end(req.method === "HEAD" ? undefined : body);
}

/** Starts the HTTPS listener. */
export function listen(opts: ListenOptions): Promise<Listening> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ cert: opts.certPem, key: opts.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => {
      if (tooLarge) {
        write(req, res, { status: 501, reason: "for data too large", headers: {}, body: "" }, false);
        return;
      }
      const simReq: SimHttpRequest = {
        method: req.method ?? "GET",
        url: req.url ?? "/",
        headers: toHeaders(req.headers),
        body: Buffer.concat(chunks).toString("utf8"),
      };
      opts.handler(simReq).then(
        (out) => write(req, res, out, opts.gzip),
        (e) => {
          const msg = e instanceof Error ? e.message : String(e);
          write(req, res, { status: 500, reason: "simulator error", headers: {}, body: msg }, false);
        },
      );
    });
  });
  server.on("connection", (s: Socket) => {
    s.setNoDelay(true);
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("secureConnection", (s: Socket) => s.setNoDelay?.(true));
  server.on("tlsClientError", () => {}); // clients that distrust the certificate are expected in tests
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.hostname, () => {
      server.off("error", reject);
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const s of sockets) s.destroy();
            server.closeAllConnections?.();
          }),
      });
    });
  });
}
