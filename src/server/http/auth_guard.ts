/**
 * Guard 4: authentication. Every request needs a credential (device token or, when enabled, a PVE token); failures
 * answer 401 with `WWW-Authenticate` and cost the client address extra pre-auth tokens; every decision is audited.
 * @module
 */
import type { Authenticator } from "../../auth/authenticate.ts";
import type { AuditWriter } from "../../audit/types.ts";
import type { KeyedLimiter } from "../../guard/rate_limit.ts";
import { type Guard, jsonRpcError } from "./guard.ts";

/** Options of {@linkcode authGuard}. */
export interface AuthGuardOptions {
  authenticator: Authenticator;
  audit?: AuditWriter;
  /** The pre-auth limiter; a failed attempt removes `failureCost` more tokens from the client's bucket. */
  preAuth?: KeyedLimiter;
  failureCost?: number;
  /** Metrics hook: reason of each failure. */
  onFailure?: (reason: string) => void;
  /** Audit successful authentications too (default true: every decision is audited). */
  auditSuccess?: boolean;
}

/** Sets `ctx.principal` and `ctx.auth`, or answers 401/403/503. */
export function authGuard(opts: AuthGuardOptions): Guard {
  return async (req, ctx) => {
    const result = await opts.authenticator.authenticate(req.headers.get("authorization"));
    if (result.ok) {
      ctx.principal = result.principal;
      ctx.auth = { label: result.label, ...(result.pve !== undefined && { pve: result.pve }) };
      if (opts.auditSuccess !== false) {
        opts.audit?.write({
          phase: "auth",
          principal: result.principal.id,
          transport: "http",
          decision: "allowed",
          remote: ctx.client,
        }).catch(() => {});
      }
      return undefined;
    }
    opts.onFailure?.(result.reason);
    if (result.status !== 503) opts.preAuth?.penalize(ctx.client, opts.failureCost ?? 5);
    opts.audit?.write({
      phase: "auth",
      principal: result.label ?? "anonymous",
      transport: "http",
      decision: "denied",
      reason: result.reason,
      remote: ctx.client,
    }).catch(() => {});
    if (result.status === 401) {
      const presented = req.headers.get("authorization") !== null;
      return jsonRpcError(401, `Unauthorized: ${result.reason}`, {
        "www-authenticate": opts.authenticator.challenge(presented ? "invalid_token" : undefined),
      });
    }
    if (result.status === 403) return jsonRpcError(403, `Forbidden: ${result.reason}`);
    return jsonRpcError(503, result.reason, { "retry-after": "5" });
  };
}
