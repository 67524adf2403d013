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
import type { AuditEntry, AuditWriter } from "../audit/types.ts";
import type { DeviceTokenStore } from "../auth/device_tokens.ts";
import { parseDuration } from "../auth/duration.ts";
import type { Registrations } from "../auth/registration.ts";
import { createKeyedLimiter } from "../guard/rate_limit.ts";
import { serveOn } from "./listen_error.ts";
import { log } from "../log.ts";
import { dispatch, error, json, readJson, type Route } from "./http/routes.ts";
import { hostOriginGuard } from "./http/host_origin.ts";
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

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

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

  const registrations = opts.registrations;
  const devices = opts.devices;
  /** An admin action: audited as `tool` with the reason the action returns. */
  const adminAction = (tool: string, client: string, reason: string) =>
    audit({ principal: "admin", tool, decision: "allowed", reason, remote: client });

  const routes: Route[] = [
    {
      method: "GET",
      path: "/healthz",
      access: "public",
      handle: () => new Response("ok\n", { headers: { "cache-control": "no-store" } }),
    },
    {
      method: "GET",
      path: "/readyz",
      access: "public",
      handle: async () => {
        const reason = await readiness();
        return reason === undefined ? json(200, { ready: true }) : json(503, { ready: false, reason });
      },
    },
    {
      method: "GET",
      path: "/metrics",
      access: "metrics",
      handle: () =>
        new Response(opts.metrics.render(), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" },
        }),
    },
  ];
  if (registrations !== undefined) {
    // Device registration: no admin token (the device has nothing yet), rate limited per address.
    routes.push(
      {
        method: "POST",
        path: "/register",
        access: "public",
        limit: registerLimit,
        handle: async (req, _params, client) => {
          const body = await readJson(req);
          if (body instanceof Response) return body;
          const name = typeof body.name === "string" ? body.name : "";
          const mode = body.mode;
          if (mode !== undefined && !(MODES as readonly unknown[]).includes(mode)) {
            return error(400, `Invalid mode: use ${MODES.join(", ")}`);
          }
          try {
            const ticket = await registrations.request({
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
        },
      },
      {
        method: "POST",
        path: "/register/:id",
        access: "public",
        limit: pollLimit,
        handle: async (req, { id }, client) => {
          const body = await readJson(req);
          if (body instanceof Response) return body;
          const secret = typeof body.pollSecret === "string" ? body.pollSecret : "";
          const outcome = await registrations.fetch(id!, secret);
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
        },
      },
    );
  }
  if (devices !== undefined) {
    const revoke = async (id: string, client: string) => {
      const t = await devices.revoke(id);
      adminAction("tokens.revoke", client, `revoked token ${t.name}`);
      return json(200, t);
    };
    routes.push(
      { method: "GET", path: "/tokens", access: "admin", handle: async () => json(200, await devices.list()) },
      { method: "DELETE", path: "/tokens/:id", access: "admin", handle: (_r, { id }, client) => revoke(id!, client) },
      { method: "POST", path: "/tokens/:id/revoke", access: "admin", handle: (_r, { id }, c) => revoke(id!, c) },
    );
    if (registrations !== undefined) {
      routes.push(
        {
          method: "GET",
          path: "/requests",
          access: "admin",
          handle: async () => json(200, await registrations.list()),
        },
        {
          method: "DELETE",
          path: "/requests",
          access: "admin",
          handle: async (_req, _params, client) => {
            const removed = await registrations.purge();
            adminAction("requests.purge", client, `removed ${removed} registration requests`);
            return json(200, { removed });
          },
        },
        {
          method: "POST",
          path: "/requests/:id/deny",
          access: "admin",
          handle: async (_req, { id }, client) => {
            const r = await registrations.deny(id!);
            adminAction("requests.deny", client, `denied ${r.name}`);
            return json(200, r);
          },
        },
        {
          method: "POST",
          path: "/requests/:id/approve",
          access: "admin",
          handle: async (req, { id }, client) => {
            const body = await readJson(req);
            if (body instanceof Response) return body;
            const caps = capsFrom(body);
            if (caps instanceof Response) return caps;
            const t = await registrations.approve(id!, caps);
            adminAction("requests.approve", client, `approved ${t.name} (${t.mode})`);
            return json(200, t);
          },
        },
      );
    }
  }

  /** Whether the caller may use a route; the refusal otherwise. */
  function checkAccess(route: Route, req: Request, client: string): Response | undefined {
    if (route.access === "admin") return requireAdmin(req, client);
    if (route.access === "metrics" && tokenDigest !== undefined && !authorized(req)) {
      opts.metrics.authFailure("admin token");
      return error(401, "Unauthorized: /metrics needs the admin token", {
        "www-authenticate": 'Bearer realm="pve-mcp-admin"',
      });
    }
    return undefined;
  }

  // The shared Host/Origin guard: local names or the bind address only, and no browsers at all (no Origin allowed).
  const hostOrigin = hostOriginGuard({
    allowedHosts: hosts,
    allowedOrigins: [],
    refuse: (what) =>
      error(
        403,
        what === "host" ? "Forbidden: Host header not allowed" : "Forbidden: the admin API does not serve browsers",
      ),
  });

  const { server, addr, urlHost } = await serveOn(
    "admin listener",
    "--admin-host / --admin-port",
    { hostname: opts.host, port: opts.port },
    (e) => {
      log("admin").error("Admin request failed: {error}", { error: e instanceof Error ? e.message : String(e) });
      return error(500, "Internal Server Error");
    },
    async (req, info) => {
      const client = info.remoteAddr.hostname;
      return await hostOrigin(req, { peer: client, client }) ?? await dispatch(routes, req, client, checkAccess);
    },
  );
  const url = `http://${urlHost}:${addr.port}`;
  log("admin").info("Admin listener at {url}{note}", {
    url,
    note: tokenDigest === undefined ? " (management off: no admin token)" : "",
  });
  return { url, port: addr.port, close: () => server.shutdown() };
}
