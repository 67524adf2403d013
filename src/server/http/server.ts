/**
 * The Streamable HTTP listener: `Deno.serve` (optionally TLS) in front of the SDK's web-standard MCP handler, with
 * the guards in this order: per-address pre-auth bucket → network allowlist (X-Forwarded-For only from trusted
 * proxies) → Host and Origin (403, before the body is read) → authentication (401 + WWW-Authenticate) →
 * MCP-Protocol-Version (400) → body size and time limits → MCP. One server instance per request (stateless).
 * @module
 */
import { type Principal } from "../../core/mod.ts";
import { CLIENT_INFO_META_KEY, createMcpHandler, type McpServer } from "@modelcontextprotocol/server";
import type { AuthInfo } from "@modelcontextprotocol/server";
import type { Authenticator } from "../../auth/authenticate.ts";
import type { AuditWriter } from "../../audit/types.ts";
import { createKeyedLimiter, type KeyedLimiter, type TakeResult } from "../../guard/rate_limit.ts";
import { serveOn } from "../listen_error.ts";
import { log } from "../../log.ts";
import type { PveApi } from "../../pve/types.ts";
import { authGuard } from "./auth_guard.ts";
import { runInCallScope } from "./call_limit.ts";
import { readBody } from "./body.ts";
import { clientAddress, NetworkList, parseNetwork } from "./cidr.ts";
import { AuditSampler, type Guard, type HttpRequestContext, jsonRpcError, runGuards } from "./guard.ts";
import { hostOriginGuard } from "./host_origin.ts";
import type { Metrics } from "./metrics.ts";
import { networkGuard } from "./network.ts";
import { preAuthLimitGuard } from "./pre_auth_limit.ts";
import { protocolVersionGuard } from "./protocol_version.ts";

/** Builds the MCP server for one request of an authenticated principal. */
export type PrincipalServerFactory = (
  principal: Principal,
  auth: { label: string; pve?: PveApi },
) => McpServer | Promise<McpServer>;

/** Options of {@linkcode listenHttp}. Field names follow the `http` configuration section. */
export interface HttpListenOptions {
  host: string;
  port: number;
  /** URL path of the MCP endpoint, e.g. `/mcp`. */
  path: string;
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
  allowNetworks: readonly string[];
  trustedProxies: readonly string[];
  /** PEM files for HTTPS; both or neither. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  maxBodyBytes: number;
  /** Time allowed to receive a request body. */
  requestTimeoutMs: number;
  authenticator: Authenticator;
  serverFactory: PrincipalServerFactory;
  audit?: AuditWriter;
  metrics?: Metrics;
  /**
   * Checks a `tools/call` before the MCP handler runs (the per-principal rate limit); a refusal is answered `429`
   * with `Retry-After`. Runs inside the request's charge scope (see call_limit.ts).
   */
  callPrecheck?: (
    principal: Principal,
    message: { method?: unknown; params?: unknown },
  ) => TakeResult | Promise<TakeResult>;
  /**
   * Loopback-only test mode (the MCP conformance suite cannot send credentials): requests without an
   * `Authorization` header are served as this principal. Refused unless the listener binds a loopback address and
   * `allowNetworks` holds only loopback networks. Never for production.
   */
  anonymousPrincipal?: Principal;
  /** Per-address bucket before authentication. Default 300/min, burst 60, a failed authentication costs 5. */
  preAuth?: { perMinute?: number; burst?: number; failureCost?: number };
  now?: () => number;
}

/** A running listener. */
export interface HttpServerHandle {
  /** Base URL of the MCP endpoint, e.g. `http://127.0.0.1:8080/mcp`. */
  url: string;
  hostname: string;
  port: number;
  /** Stops accepting, ends in-flight exchanges, resolves when the listener is closed. */
  close(): Promise<void>;
  /** Resolves when the listener has stopped. */
  finished: Promise<void>;
}

const LOOPBACK = new NetworkList(["127.0.0.0/8", "::1/128"]);
const CORS_HEADERS = {
  "access-control-allow-methods": "POST, GET, DELETE, OPTIONS",
  "access-control-allow-headers":
    "authorization, content-type, accept, mcp-protocol-version, mcp-session-id, last-event-id, mcp-method, mcp-name",
  "access-control-expose-headers": "mcp-session-id, mcp-protocol-version, www-authenticate, retry-after",
  "access-control-max-age": "600",
};

type ClientInfo = { name: string; version: string };

function clientInfoOf(body: unknown): ClientInfo | undefined {
  const msg = (Array.isArray(body) ? body[0] : body) as { params?: Record<string, unknown> } | undefined;
  const params = msg?.params;
  if (params === undefined || typeof params !== "object") return undefined;
  const meta = params._meta as Record<string, unknown> | undefined;
  const info = (meta?.[CLIENT_INFO_META_KEY] ?? params.clientInfo) as Partial<ClientInfo> | undefined;
  if (typeof info?.name !== "string") return undefined;
  return { name: info.name.slice(0, 100), version: String(info.version ?? "").slice(0, 50) };
}

/** Test mode is for loopback only: refuse anything else loudly. */
function checkLoopbackOnly(opts: HttpListenOptions): void {
  const wide = opts.allowNetworks.filter((text) => {
    const n = parseNetwork(text);
    const loopback = n.bytes.length === 4 ? n.bytes[0] === 127 && n.prefix >= 8 : n.prefix === 128 &&
      LOOPBACK.contains(text.split("/")[0] as string);
    return !loopback;
  });
  if (!LOOPBACK.contains(opts.host) || wide.length > 0) {
    throw new Error(
      `Cannot start the unauthenticated test mode on ${opts.host} (allowNetworks ${opts.allowNetworks.join(", ")}): ` +
        "it serves loopback only; bind 127.0.0.1 and allow only 127.0.0.0/8 and ::1",
    );
  }
  log("http").warning("TEST MODE: requests without credentials are served as {id}; never use this in production", {
    id: opts.anonymousPrincipal?.id,
  });
}

/** Starts the listener. The guards are built here from the options; each is unit-tested on its own. */
export async function listenHttp(opts: HttpListenOptions): Promise<HttpServerHandle> {
  const now = opts.now ?? Date.now;
  if (opts.anonymousPrincipal !== undefined) checkLoopbackOnly(opts);
  const trusted = new NetworkList(opts.trustedProxies);
  const allow = new NetworkList(opts.allowNetworks);
  if (allow.size === 0) {
    log("http").warning("http.allowNetworks is empty: every request will be refused (403)");
  }
  const preAuth: KeyedLimiter = createKeyedLimiter({
    perMinute: opts.preAuth?.perMinute ?? 300,
    burst: opts.preAuth?.burst ?? 60,
    now,
  });
  const sampler = new AuditSampler(opts.audit, now);
  const preGuards: Guard[] = [
    preAuthLimitGuard({ limiter: preAuth, sampler, onLimited: () => opts.metrics?.rateLimited("pre_auth") }),
    networkGuard({ allow, sampler }),
    hostOriginGuard({ allowedHosts: opts.allowedHosts, allowedOrigins: opts.allowedOrigins, sampler }),
  ];
  const anonymous = opts.anonymousPrincipal;
  const anonymousGuard: Guard = (req, ctx) => {
    if (anonymous === undefined || req.headers.get("authorization") !== null) return undefined;
    if (!LOOPBACK.contains(ctx.peer)) return jsonRpcError(403, "Forbidden: test mode serves loopback clients only");
    ctx.principal = anonymous;
    ctx.auth = { label: anonymous.id };
    return undefined;
  };
  const authenticate = authGuard({
    authenticator: opts.authenticator,
    ...(opts.audit !== undefined && { audit: opts.audit }),
    preAuth,
    failureCost: opts.preAuth?.failureCost ?? 5,
    ...(opts.metrics !== undefined && { onFailure: opts.metrics.authFailure }),
  });
  const postGuards: Guard[] = [
    anonymousGuard,
    (req, ctx) => ctx.principal !== undefined ? undefined : authenticate(req, ctx),
    protocolVersionGuard(),
  ];

  const clients = new Map<string, ClientInfo>();
  const mcp = createMcpHandler(async (ctx) => {
    const extra = ctx.authInfo?.extra as { principal?: Principal; pve?: PveApi; label?: string } | undefined;
    if (extra?.principal === undefined) throw new Error("Refusing to serve MCP without an authenticated principal");
    return await opts.serverFactory(extra.principal, {
      label: extra.label ?? extra.principal.id,
      ...(extra.pve !== undefined && { pve: extra.pve }),
    });
  }, {
    legacy: "stateless",
    maxRequestBodySize: opts.maxBodyBytes,
    onerror: (err) => log("http").debug("MCP request refused or failed: {error}", { error: err.message }),
  });

  async function serveMcp(req: Request, ctx: HttpRequestContext, signal: AbortSignal): Promise<Response> {
    // The SDK sees our own signal (aborted when the exchange ends or the client goes away), not Deno's request.signal.
    let forward = new Request(req.url, { method: req.method, headers: req.headers, signal });
    let parsedBody: unknown;
    if (req.method === "POST") {
      const body = await readBody(req, opts.maxBodyBytes, opts.requestTimeoutMs);
      if (!body.ok) return jsonRpcError(body.status, body.message, {}, body.status === 400 ? -32700 : -32000);
      try {
        parsedBody = JSON.parse(new TextDecoder().decode(body.bytes));
      } catch {
        parsedBody = undefined; // the SDK answers the parse error
      }
      forward = new Request(req.url, { method: "POST", headers: req.headers, body: body.bytes, signal });
    }
    let principal = ctx.principal as Principal;
    const key = `${principal.id}\0${ctx.client}`;
    const seen = clientInfoOf(parsedBody);
    if (seen !== undefined) {
      if (clients.size > 10_000) clients.clear();
      clients.set(key, seen);
    }
    const client = seen ?? clients.get(key);
    if (client !== undefined) principal = { ...principal, client };
    const authInfo: AuthInfo = {
      token: "", // never handed on: handlers get the principal, not the credential
      clientId: principal.id,
      scopes: [],
      extra: {
        principal,
        label: ctx.auth?.label ?? principal.id,
        ...(ctx.auth?.pve !== undefined && { pve: ctx.auth.pve }),
      },
    };
    return await runInCallScope(async () => {
      const msg = parsedBody as { method?: unknown; id?: unknown } | undefined;
      if (opts.callPrecheck !== undefined && msg?.method === "tools/call") {
        const pre = await opts.callPrecheck(principal, msg);
        if (!pre.ok) {
          return jsonRpcError(
            429,
            `Rate limit reached for ${principal.id}: retry in ${pre.retryAfterSeconds} s`,
            {
              "retry-after": String(pre.retryAfterSeconds),
            },
            -32000,
            typeof msg.id === "string" || typeof msg.id === "number" ? msg.id : null,
          );
        }
      }
      return await mcp.fetch(forward, { authInfo, ...(parsedBody !== undefined && { parsedBody }) });
    });
  }

  async function handle(req: Request, peer: string, signal: AbortSignal): Promise<Response> {
    const ctx: HttpRequestContext = {
      peer,
      client: clientAddress(peer, req.headers.get("x-forwarded-for"), trusted),
    };
    const pre = await runGuards(preGuards, req, ctx);
    if (pre !== undefined) return pre;
    const url = new URL(req.url);
    if (url.pathname !== opts.path) return jsonRpcError(404, `Not Found: the MCP endpoint is ${opts.path}`);
    if (req.method === "OPTIONS") return new Response(null, { status: 204 });
    const post = await runGuards(postGuards, req, ctx);
    if (post !== undefined) return post;
    return await serveMcp(req, ctx, signal);
  }

  function withCors(req: Request, res: Response): Response {
    const origin = req.headers.get("origin");
    if (origin === null || origin === "" || res.status === 403) return res;
    const headers = new Headers(res.headers);
    headers.set("access-control-allow-origin", origin);
    headers.append("vary", "Origin");
    for (const [k, v] of Object.entries(CORS_HEADERS)) headers.set(k, v);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  }

  const tls = opts.tlsCertFile !== undefined && opts.tlsKeyFile !== undefined
    ? { cert: await Deno.readTextFile(opts.tlsCertFile), key: await Deno.readTextFile(opts.tlsKeyFile) }
    : undefined;
  const { server, addr, urlHost } = await serveOn(
    "MCP endpoint",
    "--http-host / --http-port",
    { hostname: opts.host, port: opts.port, ...(tls ?? {}) },
    (err) => {
      log("http").error("HTTP request failed: {error}", { error: err instanceof Error ? err.message : String(err) });
      return jsonRpcError(500, "Internal Server Error");
    },
    async (req, info) => {
      const peer = info.remoteAddr.hostname;
      const exchange = new AbortController();
      info.completed.then(() => exchange.abort(), () => exchange.abort());
      const res = withCors(req, await handle(req, peer, exchange.signal));
      opts.metrics?.httpResponse(res.status);
      return res;
    },
  );
  const url = `${tls ? "https" : "http"}://${urlHost}:${addr.port}${opts.path}`;
  if (!LOOPBACK.contains(addr.hostname) && tls === undefined) {
    log("http").warning(
      "Serving plain HTTP on {host}: tokens cross the network unencrypted; set http.tlsCertFile/tlsKeyFile or put a TLS reverse proxy in front",
      { host: addr.hostname },
    );
  }
  log("http").info("MCP over Streamable HTTP at {url}", { url });
  return {
    url,
    hostname: addr.hostname,
    port: addr.port,
    finished: server.finished,
    close: async () => {
      await mcp.close();
      await server.shutdown();
    },
  };
}
