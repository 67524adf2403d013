/**
 * The simulator's request pipeline, in PVE's order: format and method → body → faults → authentication → route (501)
 * → API-token refusal → CSRF → permissions (403) → parameter verification (400) → node forwarding (595) → handler.
 * Answers use PVE's envelope, headers and reason phrases; every request is recorded. Transport-free: src/sim/http.ts
 * feeds it requests and writes its answers.
 * @module
 */
import { checkRequest, matchPath } from "../pve/contract.ts";
import type { PveMethod } from "../pve/types.ts";
import { checkPermission, type SimPrincipal } from "./auth.ts";
import type { FaultRegistry, SimFault } from "./faults.ts";
import type { PrincipalDb } from "./principals.ts";
import { type RouteTable, type SimContext, type SimCore, SimError } from "./router.ts";

/** Pre-serialised `data` (a handler returns it to skip JSON.stringify, e.g. a cached large list). */
export class RawJson {
  constructor(readonly json: string) {}
}

/** One recorded request. */
export interface SimRequestRecord {
  /** Simulator clock, ms. */
  time: number;
  method: string;
  /** Decoded concrete path without `/api2/json`. */
  path: string;
  /** Matched template, when the path is an API endpoint. */
  template?: string;
  /** Query + body parameters (secret-looking values redacted). */
  params: Record<string, unknown>;
  /** User or token id, when authenticated. */
  authId?: string;
  authKind?: "token" | "ticket";
  status: number;
  /** The fault applied, if any (`reset`, `truncated`, `malformed`, `status`, `latency`, `expiredTicket`). */
  fault?: string;
}

/** A request as the transport hands it over. */
export interface SimHttpRequest {
  method: string;
  /** Path and query, e.g. `/api2/json/nodes?x=1`. */
  url: string;
  headers: Headers;
  /** The body (already size-checked by the transport); empty when none. */
  body: string;
}

/** An answer for the transport to write. */
export interface SimHttpResponse {
  status: number;
  /** Reason phrase (PVE puts the first line of its message there). */
  reason: string;
  headers: Record<string, string>;
  body: string;
  /** Break the connection instead of answering normally (`reset`: at once; `truncated`: after half the body). */
  abort?: "reset" | "truncated";
}

/** Everything the pipeline needs. */
export interface PipelineDeps {
  core: SimCore;
  routes: RouteTable;
  faults: FaultRegistry;
  principals: PrincipalDb;
  requests: SimRequestRecord[];
  maxRecords: number;
  /** Called with every finished record (see `Simulator.onRequest`). */
  observers: ReadonlySet<(r: SimRequestRecord) => void>;
  authFailureDelayMs: number;
  /** Aborted on close so pending latency waits end. */
  closed: AbortSignal;
}

const UNAUTHENTICATED = new Set([
  "GET /access/domains",
  "GET /access/ticket",
  "POST /access/ticket",
  "POST /access/vncticket",
  "POST /access/openid/login",
  "POST /access/openid/auth-url",
]);
const SECRET_PARAM = /password|secret|^otp$|^tfa-challenge$|^ticket$/i;
const REASONS: Record<number, string> = {
  200: "OK",
  400: "Parameter verification failed.",
  401: "Unauthorized",
  403: "Forbidden",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  506: "Variant Also Negotiates",
  595: "Connection refused",
  596: "Broken pipe",
};

/** First line of a message, safe for a status line. */
function reasonOf(status: number, message?: string): string {
  const line = (message ?? "").split("\n")[0]?.replace(/[^\x20-\x7e]/g, "").slice(0, 200);
  return line || REASONS[status] || "Error";
}

function headers(kind: "json" | "text" | "none"): Record<string, string> {
  const h: Record<string, string> = {
    "server": "pve-api-daemon/3.0",
    "cache-control": "max-age=0",
    "pragma": "no-cache",
    "expires": new Date().toUTCString(),
  };
  if (kind === "json") h["content-type"] = "application/json;charset=UTF-8";
  if (kind === "text") h["content-type"] = "text/plain;charset=UTF-8";
  return h;
}

const nl = (msg: string) => (msg.endsWith("\n") ? msg : `${msg}\n`);
const json = (status: number, body: string, reason = REASONS[status] ?? "OK"): SimHttpResponse => ({
  status,
  reason,
  headers: headers("json"),
  body,
});
/** PVE's JSON error: `{data: null, message, errors?}` with the message's first line as reason phrase. */
const errorJson = (status: number, message: string, errors?: Record<string, string>): SimHttpResponse =>
  json(
    status,
    JSON.stringify(errors ? { data: null, errors, message: nl(message) } : { data: null, message: nl(message) }),
    reasonOf(status, message),
  );
/** Errors raised before the API handler: no JSON body, text only in the reason phrase. */
const bare = (status: number, message?: string): SimHttpResponse => ({
  status,
  reason: reasonOf(status, message),
  headers: headers("none"),
  body: "",
});
const text = (status: number, message: string): SimHttpResponse => ({
  status,
  reason: reasonOf(status, message),
  headers: headers("text"),
  body: message,
});

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

function collect(target: Record<string, unknown>, entries: Iterable<[string, string]>): void {
  for (const [k, v] of entries) {
    const prev = target[k];
    target[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
}

function decodePath(raw: string): string {
  return raw.split("/").map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  }).join("/");
}

type Parsed = { ok: true; params: Record<string, unknown> } | { ok: false; res: SimHttpResponse };

function parseBody(req: SimHttpRequest, method: string): Parsed {
  if (method === "GET" || method === "DELETE") {
    return req.body.length > 0
      ? { ok: false, res: text(501, `Unexpected content for method '${method}'`) }
      : { ok: true, params: {} };
  }
  if (req.body.trim() === "") return { ok: true, params: {} };
  const type = (req.headers.get("content-type") ?? "application/x-www-form-urlencoded").split(";")[0]?.trim();
  if (type === "application/x-www-form-urlencoded") {
    const params: Record<string, unknown> = {};
    collect(params, new URLSearchParams(req.body));
    return { ok: true, params };
  }
  if (type === "application/json") {
    try {
      const parsed = JSON.parse(req.body);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return { ok: true, params: parsed };
    } catch { /* answered below */ }
    return {
      ok: false,
      res: errorJson(400, "Parameter verification failed.", { _root: "malformed JSON request body" }),
    };
  }
  return { ok: false, res: text(506, `unsupported content type '${type}'`) };
}

/** The pool an ACL path's object belongs to (`/vms/<vmid>` → its guest's pool). */
function poolOf(core: SimCore, aclPath: string): string | undefined {
  const m = /^\/vms\/(\d+)$/.exec(aclPath);
  return m ? core.state.guests.get(Number(m[1]))?.pool : undefined;
}

/** Builds the request handler. */
export function createHandler(deps: PipelineDeps): (req: SimHttpRequest) => Promise<SimHttpResponse> {
  const { core, routes, faults, principals } = deps;

  function record(r: SimRequestRecord): void {
    const list = deps.requests;
    list.push(r);
    if (list.length > deps.maxRecords * 2) list.splice(0, list.length - deps.maxRecords);
    for (const observe of deps.observers) observe(r);
  }

  return async function handle(req: SimHttpRequest): Promise<SimHttpResponse> {
    core.tasks.tick();
    const url = new URL(req.url, "https://sim.invalid");
    const method = req.method.toUpperCase();
    const rec: SimRequestRecord = { time: core.now(), method, path: url.pathname, params: {}, status: 0 };
    const finish = (res: SimHttpResponse, fault?: string): SimHttpResponse => {
      rec.status = res.status;
      if (fault) rec.fault = fault;
      record(rec);
      return res;
    };

    const m = /^\/api2\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!m) return finish(text(501, "no such uri"));
    const rawPath = m[2] ?? "/";
    rec.path = decodePath(rawPath);
    if (m[1] !== "json") return finish(text(501, `the simulator only speaks /api2/json, not '${m[1]}'`));
    if (!["GET", "POST", "PUT", "DELETE"].includes(method)) {
      return finish(text(501, `method '${method}' not available`));
    }

    const body = parseBody(req, method);
    if (!body.ok) return finish(body.res);
    const query: Record<string, unknown> = {};
    collect(query, url.searchParams);
    const params: Record<string, unknown> = { ...body.params, ...query }; // query wins over body
    delete params._dc;
    for (const [k, v] of Object.entries(params)) rec.params[k] = SECRET_PARAM.test(k) ? "[redacted]" : v;

    const match = matchPath(rawPath);
    if (match) rec.template = match.template;
    let fault: SimFault | undefined;
    if (!faults.empty) {
      const ticketRequest = principals.carriesTicket(req.headers);
      fault = faults.take(method, rec.path, match?.template, (f) => !f.expiredTicket || ticketRequest);
    }
    if (fault?.latencyMs) await sleep(fault.latencyMs, deps.closed);
    if (fault?.status !== undefined) {
      const s = fault.status;
      if (s === 500) return finish(errorJson(500, fault.message ?? "simulated internal error"), "status");
      if (s === 595 || s === 596) return finish(bare(s, fault.message), "status");
      return finish(text(s, fault.message ?? REASONS[s] ?? "error"), "status");
    }

    // Authentication: 401 without a body (PVE also waits ~3 s; here only when asked to).
    const key = `${method} ${match?.template ?? rec.path}`;
    let principal: SimPrincipal = { id: "", userid: "", acl: [] };
    let kind: "token" | "ticket" | undefined;
    const nowS = Math.floor(core.now() / 1000);
    if (!UNAUTHENTICATED.has(key)) {
      const auth = principals.authenticate(req.headers, nowS, fault?.expiredTicket === true);
      if (!auth.ok) {
        if (deps.authFailureDelayMs > 0) await sleep(deps.authFailureDelayMs, deps.closed);
        return finish(bare(401, auth.reason), fault?.expiredTicket ? "expiredTicket" : undefined);
      }
      principal = auth.principal;
      kind = auth.kind;
      rec.authId = principal.id;
      rec.authKind = auth.kind;
      if (auth.kind === "ticket" && method !== "GET") {
        if (auth.csrf === undefined || !principals.tickets.verifyCsrf(auth.csrf, principal.userid, nowS)) {
          return finish(bare(401, "Permission denied - invalid csrf token"));
        }
      }
    }

    const endpoint = match?.methods.get(method);
    if (!match || !endpoint) return finish(errorJson(501, `Method '${method} ${rec.path}' not implemented`));
    if (kind === "token" && !endpoint.allowToken) {
      return finish(
        errorJson(403, `Permission check failed (URI '${rec.path}' not available with API token, need proper ticket.)`),
      );
    }

    const check = checkRequest(method, rawPath, params);
    const all = { ...params, ...match.pathParams };
    if (!UNAUTHENTICATED.has(key)) {
      const denied = checkPermission(endpoint.permission, principal, all, (p) => poolOf(core, p));
      if (denied !== undefined) return finish(errorJson(403, `Permission check failed (${denied})`));
    }
    if (Object.keys(check.errors).length) return finish(errorJson(400, "Parameter verification failed.", check.errors));

    if (endpoint.proxyTo !== undefined) {
      const target = String(all[endpoint.proxyTo] ?? "");
      const node = core.state.nodes.get(target);
      if (!node) {
        return finish(errorJson(
          500,
          `hostname lookup '${target}' failed - failed to get address info for: ${target}: Name or service not known`,
        ));
      }
      if (!node.online) return finish(bare(595, "No route to host")); // forwarding to an unreachable node
    }

    const handler = routes.get(method, endpoint.path);
    if (!handler) {
      return finish(errorJson(
        501,
        `Method '${method} ${rec.path}' not implemented (the simulator has no handler for ${method} ${endpoint.path})`,
      ));
    }

    const ctx: SimContext = {
      method: method as PveMethod,
      path: rec.path,
      endpoint,
      params: all,
      principal,
      sim: core,
    };
    let out: string;
    try {
      const data = await handler(ctx);
      const dataJson = data instanceof RawJson ? data.json : JSON.stringify(data ?? null);
      out = ctx.total === undefined ? `{"data":${dataJson}}` : `{"data":${dataJson},"total":${ctx.total}}`;
    } catch (e) {
      if (e instanceof SimError) return finish(errorJson(e.status, e.message, e.errors));
      return finish(errorJson(500, e instanceof Error ? e.message : String(e)));
    }

    if (fault?.reset) return finish({ ...json(200, out), abort: "reset" }, "reset");
    if (fault?.truncated) return finish({ ...json(200, out), abort: "truncated" }, "truncated");
    if (fault?.malformed) return finish(json(200, out.slice(0, Math.max(1, out.length - 2)) + ",]"), "malformed");
    return finish(json(200, out), fault?.latencyMs ? "latency" : undefined);
  };
}
