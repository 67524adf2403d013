/**
 * A small JSON router for the admin listener: routes as data (method, path pattern, who may call, an optional
 * per-address limit), JSON answers and a size- and time-capped JSON body reader.
 * @module
 */
import type { KeyedLimiter } from "../../guard/rate_limit.ts";
import { readBody } from "./body.ts";

/** A JSON answer (no caching). */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(`${JSON.stringify(body, null, 2)}\n`, {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

/** A JSON error answer: `{ "error": message }`. */
export function error(status: number, message: string, headers: Record<string, string> = {}): Response {
  return json(status, { error: message }, headers);
}

/** Largest admin request body. */
const MAX_BODY = 16_384;

/** The JSON object of a request body (empty body: `{}`), or the answer refusing it. */
export async function readJson(req: Request): Promise<Record<string, unknown> | Response> {
  const read = await readBody(req, MAX_BODY, 10_000);
  if (!read.ok) return error(read.status, read.message);
  const text = new TextDecoder().decode(read.bytes);
  if (text.trim() === "") return {};
  try {
    const v = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? v : error(400, "Expected a JSON object");
  } catch {
    return error(400, "Request body is not valid JSON");
  }
}

/** Who may call a route. */
export type Access =
  /** Anyone who passed the Host/Origin guard. */
  | "public"
  /** The admin token when one is set (Prometheus scrapers), else anyone. */
  | "metrics"
  /** The admin token, always. */
  | "admin";

/** One admin endpoint. `path` segments starting with `:` are parameters. */
export interface Route {
  method: string;
  path: string;
  access: Access;
  /** Per-address limiter (registration). */
  limit?: KeyedLimiter;
  handle(req: Request, params: Record<string, string>, client: string): Promise<Response> | Response;
}

/** The parameters of `path` under `pattern`, or undefined when it does not match. */
export function matchRoute(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split("/").filter(Boolean);
  const got = path.split("/").filter(Boolean);
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, w] of want.entries()) {
    let g: string;
    try {
      g = decodeURIComponent(got[i]!);
    } catch {
      return undefined;
    }
    if (w.startsWith(":")) params[w.slice(1)] = g;
    else if (w !== g) return undefined;
  }
  return params;
}

/**
 * Answers a request from the table: 404 when no route has its path, 405 (with `Allow`) when none has its method, 429
 * when the route's per-address limit is spent, then `checkAccess`'s refusal or the handler's answer. A handler that
 * throws answers 409 with its message (management actions fail on the state they find).
 */
export async function dispatch(
  routes: readonly Route[],
  req: Request,
  client: string,
  checkAccess: (route: Route, req: Request, client: string) => Response | undefined,
): Promise<Response> {
  const path = new URL(req.url).pathname;
  const matching = routes.map((r) => ({ r, params: matchRoute(r.path, path) })).filter((m) => m.params);
  if (matching.length === 0) {
    return error(404, `Not Found: ${[...new Set(routes.map((r) => r.path.split("/:")[0]))].join(", ")}`);
  }
  const hit = matching.find((m) => m.r.method === req.method);
  if (hit === undefined) {
    const allowed = matching.map((m) => m.r.method).join(", ");
    return error(405, `Method not allowed: ${path} accepts ${allowed}`, { allow: allowed });
  }
  const limited = hit.r.limit?.take(client);
  if (limited !== undefined && !limited.ok) {
    return error(429, `Too many requests: retry in ${limited.retryAfterSeconds} s`, {
      "retry-after": String(limited.retryAfterSeconds),
    });
  }
  const denied = checkAccess(hit.r, req, client);
  if (denied !== undefined) return denied;
  try {
    return await hit.r.handle(req, hit.params!, client);
  } catch (e) {
    return error(409, (e as Error).message);
  }
}
