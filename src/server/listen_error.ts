/**
 * Starting a listener: `Deno.serve` resolved once it listens, and one message for a listener that cannot start
 * (which address, why, and the setting that moves it).
 * @module
 */

/**
 * The error to throw when `Deno.serve` on `host:port` failed; `setting` names the flags that move it. Failures that
 * are not about the address (e.g. a bad TLS certificate) are returned unchanged.
 */
export function listenError(error: unknown, what: string, host: string, port: number, setting: string): unknown {
  const why = error instanceof Deno.errors.AddrInUse
    ? "the address is already in use (another pve-mcp or program listens there); stop it or choose another port"
    : error instanceof Deno.errors.AddrNotAvailable
    ? "the address does not belong to this machine; bind 127.0.0.1, 0.0.0.0 or one of its own addresses"
    : error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable
    ? "permission denied (ports below 1024 need privileges; Deno needs --allow-net for it)"
    : undefined;
  if (why === undefined) return error;
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  return new Error(`Cannot listen on ${where} for the ${what}: ${why} (${setting})`);
}

/** A started listener: the server, its bound address and that address as a URL host (`[::1]` for IPv6). */
export interface Listening {
  server: Deno.HttpServer<Deno.NetAddr>;
  addr: Deno.NetAddr;
  urlHost: string;
}

/**
 * `Deno.serve` on `options.hostname:port` (with `cert`/`key` for TLS), resolved once it listens; `what` and `setting`
 * name the listener in a failure ({@linkcode listenError}); `onError` answers a request whose handler threw.
 */
export async function serveOn(
  what: string,
  setting: string,
  options: { hostname: string; port: number; cert?: string; key?: string },
  onError: (error: unknown) => Response,
  handler: Deno.ServeHandler<Deno.NetAddr>,
): Promise<Listening> {
  const listening = Promise.withResolvers<Deno.NetAddr>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({ ...options, onListen: listening.resolve, onError }, handler);
  } catch (e) {
    throw listenError(e, what, options.hostname, options.port, setting);
  }
  const addr = await listening.promise;
  return { server, addr, urlHost: addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname };
}
