/**
 * `serve --http`: everything the HTTP transport needs, built from the configuration — audit log, rate limits,
 * device tokens, PVE-token mode, the MCP listener and the admin listener — running until SIGINT/SIGTERM.
 * @module
 */
import type { Principal } from "../../core/mod.ts";
import type { McpServer } from "@modelcontextprotocol/server";
import { openAuditLog } from "../../audit/from_config.ts";
import { createAuthenticator } from "../../auth/authenticate.ts";
import { defaultTokensFile, DeviceTokenStore } from "../../auth/device_tokens.ts";
import { type PveTokenCredential, PveTokenVerifier } from "../../auth/pve_token.ts";
import { Registrations } from "../../auth/registration.ts";
import type { Config } from "../../config/schema.ts";
import { createRateLimiter } from "../../guard/rate_limit.ts";
import { log, setupLogging } from "../../log.ts";
import { createPveClient } from "../../pve/client.ts";
import type { PveApi } from "../../pve/types.ts";
import { selectTools } from "../../tools/registry.ts";
import { prepareCall } from "../prepare.ts";
import { startAdminServer } from "../admin.ts";
import { type App, clusterHandle } from "../app.ts";
import { buildApp, latencyOptions, tlsOptions } from "../build_app.ts";
import { buildMcpServer } from "../mcp.ts";
import { type HttpCallLimiter, httpCallLimiter } from "./call_limit.ts";
import { Metrics } from "./metrics.ts";
import { type HttpListenOptions, type HttpServerHandle, listenHttp, type PrincipalServerFactory } from "./server.ts";

const perToken = new WeakMap<PveApi, App>();

/**
 * The app a PVE-token client sees: the default cluster only, every call made with the client's own token so PVE's
 * permissions apply (read and write alike).
 */
export function appForPveToken(app: App, pve: PveApi): App {
  let scoped = perToken.get(pve);
  if (scoped === undefined) {
    const name = app.defaultCluster;
    scoped = { ...app, clusters: new Map([[name, clusterHandle(name, pve, pve)]]) };
    perToken.set(pve, scoped);
  }
  return scoped;
}

/** The server factory for an app: per principal, with the principal's PVE token in PVE-token mode. */
export function appServerFactory(app: App): PrincipalServerFactory {
  return (principal: Principal, auth): McpServer =>
    buildMcpServer(auth.pve === undefined ? app : appForPveToken(app, auth.pve), principal);
}

/** Starts the MCP listener for an app (the lead's `App`); `opts.serverFactory` overrides the default. */
export function startHttpServer(
  app: App,
  opts: Omit<HttpListenOptions, "serverFactory"> & { serverFactory?: PrincipalServerFactory },
): Promise<HttpServerHandle> {
  return listenHttp({ ...opts, serverFactory: opts.serverFactory ?? appServerFactory(app) });
}

/**
 * The HTTP-side rate-limit check of a `tools/call`: the tool's call class from the registry, one token charged to the
 * principal; a refusal is audited and counted like the pipeline's own (the pipeline then never sees the call).
 */
export function callLimitPrecheck(app: App, calls: HttpCallLimiter): NonNullable<HttpListenOptions["callPrecheck"]> {
  return (principal, message) => {
    const params = message.params as { name?: unknown; arguments?: unknown } | undefined;
    const def = app.tools.find((t) => t.name === params?.name);
    if (def === undefined) return { ok: true }; // unknown tool: MCP answers it
    // The same preparation as the pipeline's (parsed, defaults applied), so the call is charged to its real class.
    const call = prepareCall(def, (params?.arguments ?? {}) as Record<string, unknown>);
    if ("invalid" in call) return { ok: true }; // invalid arguments: the pipeline answers them
    const { cls, args, clusterName: cluster } = call;
    const r = calls.precharge(principal.id, cls);
    if (!r.ok) {
      const reason = `Rate limit reached for ${cls} calls: retry in ${r.retryAfterSeconds} s`;
      app.audit.write({
        phase: "rate_limited",
        principal,
        tool: def.name,
        cluster: typeof cluster === "string" ? cluster : app.defaultCluster,
        class: cls,
        args,
        reason,
      }).catch(() => {});
      app.onCall?.(def.name, "rate_limited", 0);
    }
    return r;
  };
}

/** A PVE client for a client's own token, with the default cluster's address and TLS settings. */
function pveTokenConnector(config: Config): (cred: PveTokenCredential) => PveApi & { close(): void } {
  const c = config.clusters[config.defaultCluster];
  if (c === undefined) {
    throw new Error(`Cannot enable PVE-token mode: cluster "${config.defaultCluster}" is not configured`);
  }
  return (cred) =>
    createPveClient({
      host: c.host,
      port: c.port,
      tls: tlsOptions(c),
      auth: { tokenId: cred.tokenId, tokenSecret: cred.secret },
      ...latencyOptions(c),
      retries: 0,
    });
}

/** Options of {@linkcode serveHttp} (tests and embedding; the CLI passes none). */
export interface ServeHttpOptions {
  /** Stops the server like SIGINT does. */
  signal?: AbortSignal;
  /** Called once both listeners are up, with their URLs. */
  onReady?: (urls: { mcp: string; admin: string }) => void;
  /** Leave logging as it is (tests). */
  keepLogging?: boolean;
  /** Runs once both listeners are up, before serving (the CLI drops permissions here). */
  afterStart?: () => Promise<unknown>;
}

/** Runs `serve --http` until SIGINT or SIGTERM (or `opts.signal`). */
export async function serveHttp(config: Config, opts: ServeHttpOptions = {}): Promise<void> {
  if (opts.keepLogging !== true) await setupLogging(config.logging.level);
  const audit = await openAuditLog(config.audit);
  const metrics = new Metrics();
  // A tools/call over the principal's limit is answered 429 + Retry-After before MCP runs (see call_limit.ts).
  const calls = httpCallLimiter(
    createRateLimiter({ ...config.rateLimit, onLimited: () => metrics.rateLimited("principal") }),
  );
  const limiter = calls.limiter;
  const { app, close: closeApp } = await buildApp(config, { ...(audit !== undefined && { audit }), limiter });
  app.onCall = metrics.onCall;
  const h = config.http;
  const devices = new DeviceTokenStore({ path: h.tokensFile ?? defaultTokensFile() });
  const pve = h.pveTokenMode ? new PveTokenVerifier({ connect: pveTokenConnector(config) }) : undefined;
  const authenticator = createAuthenticator({ devices, ...(pve !== undefined && { pve }) });
  const stop = new AbortController();
  opts.signal?.addEventListener("abort", () => stop.abort(), { once: true });
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let mcp: HttpServerHandle | undefined;
  let admin: { url: string; close(): Promise<void> } | undefined;
  try {
    mcp = await startHttpServer(app, {
      host: h.host,
      port: h.port,
      path: h.path,
      allowedHosts: h.allowedHosts,
      allowedOrigins: h.allowedOrigins,
      allowNetworks: h.allowNetworks,
      trustedProxies: h.trustedProxies,
      ...(h.tlsCertFile !== undefined && { tlsCertFile: h.tlsCertFile }),
      ...(h.tlsKeyFile !== undefined && { tlsKeyFile: h.tlsKeyFile }),
      maxBodyBytes: h.maxBodyBytes,
      requestTimeoutMs: h.requestTimeoutMs,
      authenticator,
      ...(audit !== undefined && { audit }),
      metrics,
      callPrecheck: callLimitPrecheck(app, calls),
    });
    const cluster = app.clusters.get(app.defaultCluster);
    admin = await startAdminServer({
      host: h.adminHost,
      port: h.adminPort,
      ...(h.adminToken !== undefined && { adminToken: h.adminToken }),
      metrics,
      devices,
      registrations: new Registrations(devices),
      ...(audit !== undefined && { audit }),
      ready: async (signal) => {
        if (cluster === undefined) return "no cluster configured";
        await cluster.read.request({ method: "GET", path: "/version", signal, timeoutMs: 5_000 });
        return undefined;
      },
    });
    await opts.afterStart?.();
    log("server").info("Serving MCP over HTTP in {mode} mode with {count} tools; stop with Ctrl-C", {
      mode: app.filter.mode,
      count: selectTools(app.tools, app.filter).length,
    });
    opts.onReady?.({ mcp: mcp.url, admin: admin.url });
    await new Promise<void>((resolve) => {
      if (stop.signal.aborted) resolve();
      stop.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    log("server").info("Stopping the HTTP server");
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    await admin?.close();
    await mcp?.close();
    await devices.flush();
    pve?.clear();
    await closeApp();
    await audit?.close();
  }
}
