/**
 * The low-level pieces under the PVE client: host validation, the TCP connect check that enforces the connect
 * timeout, the size-capped body reader, and the attempt count in error messages.
 * @module
 */
import { PveError } from "./types.ts";

/**
 * Opens and closes one TCP connection; settles early when `signal` aborts. The signal is not handed to
 * `Deno.connect`: an abort racing the connect's completion can leave the socket open, so the connection is always
 * closed when it opens, however late.
 */
export function tcpConnect(hostname: string, port: number, signal: AbortSignal): Promise<void> {
  const opened = Deno.connect({ hostname, port }).then((conn) => conn.close());
  const aborted = new Promise<void>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  return Promise.race([opened, aborted]);
}
/** Thrown by {@linkcode readBody} when an answer exceeds its limit. */
export class BodyTooLarge extends Error {}

/** Reads a response body as text, refusing more than `max` bytes (declared or streamed). */
export async function readBody(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => {});
    throw new BodyTooLarge();
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(all);
}

/** Refuses a host that is not a bare host name or IP address, or a port outside 1–65535. */
export function validateHost(host: string, port: number): void {
  const ok = host !== "" && !/[\s/?#@]|:\/\//.test(host) &&
    (host.includes(":") ? /^[0-9A-Fa-f:.]+$/.test(host) : /^[A-Za-z0-9.\-_]+$/.test(host));
  if (!ok) {
    throw new PveError(
      "invalid",
      `Invalid PVE host ${JSON.stringify(host.slice(0, 100))}: give a host name or IP address without scheme, ` +
        "port or path (e.g. pve1.example.com)",
    );
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new PveError("invalid", `Invalid PVE port ${port} for ${host}: expected 1–65535 (PVE uses 8006)`);
  }
}

/** The same error, its message completed with how many attempts were made and how long they took. */
export function withAttempts(e: PveError, attempts: number, elapsedMs: number): PveError {
  const secs = elapsedMs >= 10_000 ? Math.round(elapsedMs / 1000) : Math.round(elapsedMs / 100) / 10;
  return new PveError(e.kind, `${e.message} (${attempts} attempts in ${secs} s)`, e.details);
}
