/**
 * Guard 1: a token bucket per client address before anything else is looked at (floods, credential guessing).
 * Failed authentications take extra tokens from the same bucket (see the authentication guard).
 * @module
 */
import type { KeyedLimiter } from "../../guard/rate_limit.ts";
import { type AuditSampler, type Guard, jsonRpcError } from "./guard.ts";

/** Answers 429 with `Retry-After` when the client's bucket is empty. */
export function preAuthLimitGuard(opts: {
  limiter: KeyedLimiter;
  sampler?: AuditSampler;
  onLimited?: () => void;
}): Guard {
  return (_req, ctx) => {
    const r = opts.limiter.take(ctx.client);
    if (r.ok) return undefined;
    opts.onLimited?.();
    opts.sampler?.refuse(ctx.client, "too many requests from this address", { decision: "rate_limited" });
    return jsonRpcError(429, `Too many requests from this address: retry in ${r.retryAfterSeconds} s`, {
      "retry-after": String(r.retryAfterSeconds),
    });
  };
}
