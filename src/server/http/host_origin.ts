/**
 * Guard 3: `Host` and `Origin` validation against DNS rebinding and cross-site requests, before the body is read.
 * Hosts are compared port-agnostically. Origins may be listed as hostnames (`app.example.com`, any scheme and port)
 * or as full origins (`https://app.example.com:8443`, exact). A request without `Origin` (non-browser client)
 * passes; the literal `null` origin never does.
 * @module
 */
import { validateHostHeader, validateOriginHeader } from "@modelcontextprotocol/server";
import { type AuditSampler, type Guard, jsonRpcError } from "./guard.ts";

/** Options of {@linkcode hostOriginGuard}. */
export interface HostOriginOptions {
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
  sampler?: AuditSampler;
  /** The answer to a refused request (default: a JSON-RPC error naming the setting to change). */
  refuse?: (what: "host" | "origin") => Response;
}

const REFUSE_MCP = (what: "host" | "origin") =>
  jsonRpcError(
    403,
    what === "host"
      ? "Forbidden: Host header not allowed (http.allowedHosts)"
      : "Forbidden: Origin not allowed (http.allowedOrigins)",
  );

/** Whether an `Origin` value is allowed by the list (hostnames, or exact origins with scheme). */
export function originAllowed(origin: string, allowed: readonly string[]): boolean {
  const exact = allowed.filter((a) => a.includes("://") && !a.endsWith("://*"));
  let normalized: string | undefined;
  try {
    const u = new URL(origin);
    normalized = u.origin === "null" ? undefined : u.origin;
  } catch {
    normalized = undefined;
  }
  if (normalized !== undefined && exact.some((e) => safeOrigin(e) === normalized)) return true;
  const hostnames = allowed.filter((a) => !a.includes("://") || a.endsWith("://*"));
  return hostnames.length > 0 && validateOriginHeader(origin, [...hostnames]).ok;
}

function safeOrigin(text: string): string | undefined {
  try {
    return new URL(text).origin;
  } catch {
    return undefined;
  }
}

/** Answers 403 for a `Host` outside `allowedHosts` or an `Origin` outside `allowedOrigins`. */
export function hostOriginGuard(opts: HostOriginOptions): Guard {
  const hosts = [...opts.allowedHosts];
  const refuse = opts.refuse ?? REFUSE_MCP;
  return (req, ctx) => {
    // HTTP/2 carries the host in :authority, which Deno puts into the URL rather than a Host header.
    const host = validateHostHeader(req.headers.get("host") ?? new URL(req.url).host, hosts);
    if (!host.ok) {
      opts.sampler?.refuse(ctx.client, "Host header not allowed");
      return refuse("host");
    }
    const origin = req.headers.get("origin");
    if (origin !== null && origin !== "" && !originAllowed(origin, opts.allowedOrigins)) {
      opts.sampler?.refuse(ctx.client, "Origin not allowed");
      return refuse("origin");
    }
    return undefined;
  };
}
