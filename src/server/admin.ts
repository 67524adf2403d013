/**
 * The admin listener (default 127.0.0.1:8081), apart from the MCP endpoint: liveness and readiness probes,
 * Prometheus metrics, device registration (devices ask and poll; the operator approves or denies), and token
 * management. Management needs the admin token (`Authorization: Bearer …`); without one configured it is off.
 * Browsers are refused (any `Origin` → 403) and the `Host` must be a local name or the bind address.
 * @module
 */
import { type Mode, MODES, TOOLSETS } from "../core/mod.ts";
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import { validateHostHeader } from "@modelcontextprotocol/server";
import type { AuditEntry, AuditWriter } from "../audit/types.ts";
import type { DeviceTokenStore } from "../auth/device_tokens.ts";
import { parseDuration } from "../auth/duration.ts";
import type { Registrations } from "../auth/registration.ts";
import { createKeyedLimiter } from "../guard/rate_limit.ts";
import { listenError } from "./listen_error.ts";
import { log } from "../log.ts";
import type { Metrics } from "./http/metrics.ts";

/** Options of {@linkcode startAdminServer}. */
export interface AdminOptions {
  host: string;
  port: number;
  /** Bearer token for /metrics (when set) and management. Without it, management endpoints answer 403. */
  adminToken?: string;
  metrics: Metrics;
  devices?: DeviceTokenStore;
  registrations?: Registrations;
  audit?: AuditWriter;
  /** Readiness: undefined when ready, else the reason (e.g. PVE unreachable). Errors count as not ready. */
  ready: (signal: AbortSignal) => Promise<string | undefined>;
  /** Extra names the `Host` header may carry (besides localhost, 127.0.0.1, [::1] and the bind address). */
  allowedHosts?: readonly string[];
  /** Registration requests per address per minute. Default 10. */
  registerPerMinute?: number;
  now?: () => number;
}

/** A running admin listener. */
export interface AdminHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(`${JSON.stringify(body, null, 2)}\n`, {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

function error(status: number, message: string, headers: Record<string, string> = {}): Response {
  return json(status, { error: message }, headers);
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

async function readJson(req: Request, max = 16_384): Promise<Record<string, unknown> | Response> {
  const text = await req.text().catch(() => "");
  if (text.length > max) return error(413, `Request body too large: the limit is ${max} bytes`);
  if (text.trim() === "") return {};
  try {
    const v = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? v : error(400, "Expected a JSON object");
  } catch {
    return error(400, "Request body is not valid JSON");
  }
}

/** Starts the admin listener. */
export async function startAdminServer(opts: AdminOptions): Promise<AdminHandle> {
  const now = opts.now ?? Date.now;
  const tokenDigest = opts.adminToken === undefined ? undefined : digest(opts.adminToken);
  const hosts = ["localhost", "127.0.0.1", "[::1]", ...(opts.allowedHosts ?? [])];
  if (!["0.0.0.0", "::"].includes(opts.host)) hosts.push(opts.host.includes(":") ? `[${opts.host}]` : opts.host);
  const registerLimit = createKeyedLimiter({ perMinute: opts.registerPerMinute ?? 10, now });
  const pollLimit = createKeyedLimiter({ perMinute: 120, now });
  let readyCache: { at: number; reason: string | undefined } | undefined;

  const audit = (entry: Omit<AuditEntry, "phase" | "transport">) =>
    opts.audit?.write({ phase: "auth", transport: "http", ...entry }).catch(() => {});

  function authorized(req: Request): boolean {
    if (tokenDigest === undefined) return false;
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "");
    return m?.[1] !== undefined && timingSafeEqual(Buffer.from(digest(m[1])), Buffer.from(tokenDigest));
  }

  function requireAdmin(req: Request, client: string): Response | undefined {
    if (tokenDigest === undefined) {
      return error(403, "Forbidden: the admin API is off; set http.adminToken (PROXMOX_MCP_ADMIN_TOKEN) to use it");
    }
    if (authorized(req)) return undefined;
    opts.metrics.authFailure("admin token");
    audit({ principal: "admin", decision: "denied", reason: "bad or missing admin token", remote: client });
    return error(401, "Unauthorized: send the admin token as `Authorization: Bearer <token>`", {
      "www-authenticate": 'Bearer realm="pve-mcp-admin"',
    });
  }

  async function readiness(): Promise<string | undefined> {
    const t = now();
    if (readyCache !== undefined && t - readyCache.at < 2_000) return readyCache.reason;
    let reason: string | undefined;
    try {
      reason = await opts.ready(AbortSignal.timeout(5_000));
    } catch (e) {
      reason = e instanceof Error ? e.message : String(e);
    }
    readyCache = { at: t, reason };
    return reason;
  }

  function capsFrom(
    body: Record<string, unknown>,
  ): { mode?: Mode; toolsets?: string[]; expiresInMs?: number } | Response {
    const out: { mode?: Mode; toolsets?: string[]; expiresInMs?: number } = {};
    if (body.mode !== undefined) {
      if (!(MODES as readonly unknown[]).includes(body.mode)) {
        return error(400, `Invalid mode: use ${MODES.join(", ")}`);
      }
      out.mode = body.mode as Mode;
    }
    if (body.toolsets !== undefined) {
      const ts = body.toolsets;
      if (!Array.isArray(ts) || ts.some((t) => !(TOOLSETS as readonly unknown[]).includes(t))) {
        return error(400, `Invalid toolsets: known toolsets are ${TOOLSETS.join(", ")}`);
      }
      out.toolsets = ts as string[];
    }
    if (body.expires !== undefined) {
      try {
        out.expiresInMs = parseDuration(String(body.expires));
      } catch (e) {
        return error(400, (e as Error).message);
      }
    }
    return out;
  }

  async function route(req: Request, client: string): Promise<Response> {
    const url = new URL(req.url);
    const parts = url.pathname.split("/").filter((p) => p.length > 0).map(decodeURIComponent);
    const [first, second, third] = parts;
    const method = req.method;

    if (method === "GET" && url.pathname === "/healthz") {
      return new Response("ok\n", { headers: { "cache-control": "no-store" } });
    }
    if (method === "GET" && url.pathname === "/readyz") {
      const reason = await readiness();
      return reason === undefined ? json(200, { ready: true }) : json(503, { ready: false, reason });
    }
    if (method === "GET" && url.pathname === "/metrics") {
      if (tokenDigest !== undefined && !authorized(req)) {
        opts.metrics.authFailure("admin token");
        return error(401, "Unauthorized: /metrics needs the admin token", {
          "www-authenticate": 'Bearer realm="pve-mcp-admin"',
        });
      }
      return new Response(opts.metrics.render(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" },
      });
    }

    // Device registration: no admin token (the device has nothing yet), rate limited per address.
    if (first === "register" && opts.registrations !== undefined) {
      const limited = (second === undefined ? registerLimit : pollLimit).take(client);
      if (!limited.ok) {
        return error(429, `Too many registration requests: retry in ${limited.retryAfterSeconds} s`, {
          "retry-after": String(limited.retryAfterSeconds),
        });
      }
      const body = await readJson(req);
      if (body instanceof Response) return body;
      if (method === "POST" && second === undefined) {
        const name = typeof body.name === "string" ? body.name : "";
        const mode = body.mode;
        if (mode !== undefined && !(MODES as readonly unknown[]).includes(mode)) {
          return error(400, `Invalid mode: use ${MODES.join(", ")}`);
        }
        try {
          const ticket = await opts.registrations.request({
            name,
            remote: client,
            ...(mode !== undefined && { mode: mode as Mode }),
          });
          audit({
            principal: `device:${name}`,
            decision: "allowed",
            reason: `registration requested (code ${ticket.code})`,
            remote: client,
          });
          return json(202, { ...ticket, poll: `/register/${ticket.id}` });
        } catch (e) {
          return error(400, (e as Error).message);
        }
      }
      if (method === "POST" && second !== undefined && third === undefined) {
        const secret = typeof body.pollSecret === "string" ? body.pollSecret : "";
        const outcome = await opts.registrations.fetch(second, secret);
        switch (outcome.status) {
          case "pending":
            return json(202, { status: "pending" }, { "retry-after": "5" });
          case "approved":
            audit({
              principal: "device",
              decision: "allowed",
              reason: "registered device fetched its token",
              remote: client,
            });
            return json(200, outcome);
          case "denied":
            return json(403, { status: "denied" });
          case "fetched":
            return json(410, {
              status: "fetched",
              error: "The token was already fetched; ask the operator for a new one",
            });
          default:
            return json(404, { status: "unknown", error: "No such request (expired, or wrong poll secret)" });
        }
      }
      return error(405, "Method not allowed: POST /register {name}, then POST /register/{id} {pollSecret}");
    }

    if ((first === "tokens" || first === "requests") && opts.devices !== undefined) {
      const denied = requireAdmin(req, client);
      if (denied !== undefined) return denied;
      try {
        if (first === "tokens" && method === "GET" && second === undefined) return json(200, await opts.devices.list());
        if (
          first === "tokens" && second !== undefined &&
          (method === "DELETE" || (method === "POST" && third === "revoke"))
        ) {
          const t = await opts.devices.revoke(second);
          audit({
            principal: "admin",
            tool: "tokens.revoke",
            decision: "allowed",
            reason: `revoked token ${t.name}`,
            remote: client,
          });
          return json(200, t);
        }
        if (first === "requests" && opts.registrations !== undefined) {
          if (method === "GET" && second === undefined) return json(200, await opts.registrations.list());
          if (method === "DELETE" && second === undefined) {
            const removed = await opts.registrations.purge();
            audit({
              principal: "admin",
              tool: "requests.purge",
              decision: "allowed",
              reason: `removed ${removed} registration requests`,
              remote: client,
            });
            return json(200, { removed });
          }
          if (method === "POST" && second !== undefined && (third === "approve" || third === "deny")) {
            if (third === "deny") {
              const r = await opts.registrations.deny(second);
              audit({
                principal: "admin",
                tool: "requests.deny",
                decision: "allowed",
                reason: `denied ${r.name}`,
                remote: client,
              });
              return json(200, r);
            }
            const body = await readJson(req);
            if (body instanceof Response) return body;
            const caps = capsFrom(body);
            if (caps instanceof Response) return caps;
            const t = await opts.registrations.approve(second, caps);
            audit({
              principal: "admin",
              tool: "requests.approve",
              decision: "allowed",
              reason: `approved ${t.name} (${t.mode})`,
              remote: client,
            });
            return json(200, t);
          }
        }
      } catch (e) {
        return error(409, (e as Error).message);
      }
      return error(405, "Method not allowed");
    }
    return error(404, "Not Found: /healthz, /readyz, /metrics, /register, /requests, /tokens");
  }

  let resolveListening: (addr: Deno.NetAddr) => void = () => {};
  const listening = new Promise<Deno.NetAddr>((r) => (resolveListening = r));
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: opts.host,
      port: opts.port,
      onListen: (addr) => resolveListening(addr),
      onError: (e) => {
        log("admin").error("Admin request failed: {error}", { error: e instanceof Error ? e.message : String(e) });
        return error(500, "Internal Server Error");
      },
    }, async (req, info) => {
      const client = (info.remoteAddr as Deno.NetAddr).hostname;
      if (!validateHostHeader(req.headers.get("host") ?? new URL(req.url).host, hosts).ok) {
        return error(403, "Forbidden: Host header not allowed");
      }
      if (req.headers.get("origin") !== null) return error(403, "Forbidden: the admin API does not serve browsers");
      return await route(req, client);
    });
  } catch (e) {
    throw listenError(e, "admin listener", opts.host, opts.port, "--admin-host / --admin-port");
  }
  const addr = await listening;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const url = `http://${host}:${addr.port}`;
  log("admin").info("Admin listener at {url}{note}", {
    url,
    note: tokenDigest === undefined ? " (management off: no admin token)" : "",
  });
  return { url, port: addr.port, close: () => server.shutdown() };
}
