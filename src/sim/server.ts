/**
 * The simulator's HTTP pipeline, in PVE's order: format and method → body → faults → authentication → route (501)
 * → API-token refusal → CSRF → permissions (403) → parameter verification (400) → node forwarding (595) → handler.
 * Answers use PVE's envelope and headers; every request is recorded.
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

/** Everything the pipeline needs. */
export interface PipelineDeps {
  core: SimCore;
  routes: RouteTable;
  faults: FaultRegistry;
  principals: PrincipalDb;
  requests: SimRequestRecord[];
  maxRecords: number;
  authFailureDelayMs: number;
  /** Resolves on close so pending latency waits end. */
  closed: AbortSignal;
}

const BODY_LIMIT = 512 * 1024;
const UNAUTHENTICATED = new Set([
  "GET /access/domains",
  "GET /access/ticket",
  "POST /access/ticket",
  "POST /access/vncticket",
  "POST /access/openid/login",
  "POST /access/openid/auth-url",
]);
const SECRET_PARAM = /password|secret|^otp$|^tfa-challenge$|^ticket$/i;
const REASONS: Record<number, string> = { 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout" };
const encoder = new TextEncoder();

function baseHeaders(json: boolean): Headers {
  const h = new Headers({ "server": "pve-api-daemon/3.0", "cache-control": "max-age=0", "pragma": "no-cache" });
  h.set("expires", new Date().toUTCString());
  if (json) h.set("content-type", "application/json;charset=UTF-8");
  return h;
}

const jsonResponse = (status: number, body: string) => new Response(body, { status, headers: baseHeaders(true) });
const emptyResponse = (status: number) => new Response(null, { status, headers: baseHeaders(false) });
const textResponse = (status: number, text: string) => {
  const h = baseHeaders(false);
  h.set("content-type", "text/plain;charset=UTF-8");
  return new Response(text, { status, headers: h });
};
const nl = (msg: string) => (msg.endsWith("\n") ? msg : `${msg}\n`);
const errorJson = (status: number, message: string, errors?: Record<string, string>) =>
  jsonResponse(
    status,
    JSON.stringify(errors ? { data: null, errors, message: nl(message) } : { data: null, message: nl(message) }),
  );

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

/** A body that ends half-way (truncated) or at once (reset) by erroring the stream. */
function brokenBody(bytes: Uint8Array, why: string): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(ctl) {
      if (bytes.length) ctl.enqueue(bytes);
    },
    pull(ctl) {
      // Deno's HTTP server prints the reason to stderr and aborts the response.
      ctl.error(`pve-mcp simulator: injected ${why}`);
    },
  });
}

async function readBody(req: Request, method: string): Promise<Record<string, unknown> | Response> {
  const length = Number(req.headers.get("content-length") ?? "0");
  if (method === "GET" || method === "DELETE") {
    if (length > 0) return textResponse(501, `Unexpected content for method '${method}'`);
    return {};
  }
  if (length > BODY_LIMIT) return textResponse(501, "for data too large");
  const text = await req.text();
  if (encoder.encode(text).length > BODY_LIMIT) return textResponse(501, "for data too large");
  if (text.trim() === "") return {};
  const type = (req.headers.get("content-type") ?? "application/x-www-form-urlencoded").split(";")[0]?.trim();
  if (type === "application/x-www-form-urlencoded") {
    const out: Record<string, unknown> = {};
    collect(out, new URLSearchParams(text));
    return out;
  }
  if (type === "application/json") {
    try {
      const parsed = JSON.parse(text);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch { /* fall through */ }
    return errorJson(400, "Parameter verification failed.", { _root: "malformed JSON request body" });
  }
  return textResponse(506, `unsupported content type '${type}'`);
}

/** Builds the request handler for `Deno.serve`. */
export function createHandler(deps: PipelineDeps): (req: Request) => Promise<Response> {
  const { core, routes, faults, principals } = deps;

  function record(r: SimRequestRecord): void {
    const list = deps.requests;
    list.push(r);
    if (list.length > deps.maxRecords * 2) list.splice(0, list.length - deps.maxRecords);
  }

  return async function handle(req: Request): Promise<Response> {
    core.tasks.tick();
    const url = new URL(req.url);
    const method = req.method.toUpperCase();
    const rec: SimRequestRecord = { time: core.now(), method, path: url.pathname, params: {}, status: 0 };
    const finish = (res: Response, fault?: string): Response => {
      rec.status = res.status;
      if (fault) rec.fault = fault;
      record(rec);
      return res;
    };

    const m = /^\/api2\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!m) return finish(textResponse(501, "no such uri"));
    const rawPath = m[2] ?? "/";
    rec.path = decodePath(rawPath);
    if (m[1] !== "json") return finish(textResponse(501, `the simulator only speaks /api2/json, not '${m[1]}'`));
    if (!["GET", "POST", "PUT", "DELETE"].includes(method)) {
      return finish(textResponse(501, `method '${method}' not available`));
    }

    const body = await readBody(req, method);
    if (body instanceof Response) return finish(body);
    const params: Record<string, unknown> = { ...body };
    collect(params, url.searchParams); // query wins over body
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
      if (s === 595 || s === 596) return finish(emptyResponse(s), "status");
      return finish(textResponse(s, fault.message ?? REASONS[s] ?? "error"), "status");
    }

    // Authentication (401 with an empty body; PVE delays it by ~3 s, here only when asked to).
    const key = `${method} ${match?.template ?? rec.path}`;
    let principal: SimPrincipal = { id: "", userid: "", acl: [] };
    let kind: "token" | "ticket" | undefined;
    const nowS = Math.floor(core.now() / 1000);
    if (!UNAUTHENTICATED.has(key)) {
      const auth = principals.authenticate(req.headers, nowS, fault?.expiredTicket === true);
      if (!auth.ok) {
        if (deps.authFailureDelayMs > 0) await sleep(deps.authFailureDelayMs, deps.closed);
        return finish(emptyResponse(401), fault?.expiredTicket ? "expiredTicket" : undefined);
      }
      principal = auth.principal;
      kind = auth.kind;
      rec.authId = principal.id;
      rec.authKind = auth.kind;
      if (auth.kind === "ticket" && method !== "GET") {
        if (auth.csrf === undefined || !principals.tickets.verifyCsrf(auth.csrf, principal.userid, nowS)) {
          return finish(emptyResponse(401)); // "Permission denied - invalid csrf token"
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
    const denied = checkPermission(endpoint.permission, principal, all, (p) => poolOf(core, p));
    if (denied !== undefined && !UNAUTHENTICATED.has(key)) {
      return finish(errorJson(403, `Permission check failed (${denied})`));
    }
    if (Object.keys(check.errors).length) {
      return finish(errorJson(400, "Parameter verification failed.", check.errors));
    }

    if (endpoint.proxyTo !== undefined) {
      const target = String(all[endpoint.proxyTo] ?? "");
      const node = core.state.nodes.get(target);
      if (!node) {
        return finish(errorJson(
          500,
          `hostname lookup '${target}' failed - failed to get address info for: ${target}: Name or service not known`,
        ));
      }
      if (!node.online) return finish(emptyResponse(595)); // forwarding to an unreachable node: "No route to host"
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
    let text: string;
    try {
      const data = await handler(ctx);
      const dataJson = data instanceof RawJson ? data.json : JSON.stringify(data ?? null);
      text = ctx.total === undefined ? `{"data":${dataJson}}` : `{"data":${dataJson},"total":${ctx.total}}`;
    } catch (e) {
      if (e instanceof SimError) return finish(errorJson(e.status, e.message, e.errors));
      return finish(errorJson(500, e instanceof Error ? e.message : String(e)));
    }

    if (fault?.reset) return finish(new Response(brokenBody(new Uint8Array(), "connection reset")), "reset");
    if (fault?.truncated) {
      const bytes = encoder.encode(text);
      const half = bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2)));
      return finish(new Response(brokenBody(half, "truncated body"), { headers: baseHeaders(true) }), "truncated");
    }
    if (fault?.malformed) {
      return finish(jsonResponse(200, text.slice(0, Math.max(1, text.length - 2)) + ",]"), "malformed");
    }
    return finish(jsonResponse(200, text), fault?.latencyMs ? "latency" : undefined);
  };
}

/** The pool an ACL path's object belongs to (`/vms/<vmid>` → its guest's pool). */
function poolOf(core: SimCore, aclPath: string): string | undefined {
  const m = /^\/vms\/(\d+)$/.exec(aclPath);
  return m ? core.state.guests.get(Number(m[1]))?.pool : undefined;
}
