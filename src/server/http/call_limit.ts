/**
 * Per-principal rate limits answered the HTTP way: a `tools/call` over the principal's limit gets `429` with
 * `Retry-After` before the MCP handler runs (over stdio the pipeline answers a tool error instead).
 *
 * The HTTP layer charges the call's token up front ({@linkcode HttpCallLimiter.precharge}); the limiter the app's
 * pipeline uses then finds that charge in the request's scope and does not take a second token for the same call.
 * @module
 */
import { type CallClass } from "../../core/mod.ts";
import { AsyncLocalStorage } from "node:async_hooks";
import type { TakeResult } from "../../guard/rate_limit.ts";

interface Scope {
  charged: { principal: string; cls: CallClass }[];
}

const scope = new AsyncLocalStorage<Scope>();

/** The two faces of one limiter. */
export interface HttpCallLimiter {
  /** For the app's pipeline: takes a token unless the HTTP layer already charged this call. */
  limiter: { take(principal: string, cls: CallClass): TakeResult };
  /** For the HTTP layer, inside {@linkcode runInCallScope}: takes the call's token now. */
  precharge(principal: string, cls: CallClass): TakeResult;
}

/** Wraps a principal limiter for HTTP serving. */
export function httpCallLimiter(inner: { take(principal: string, cls: CallClass): TakeResult }): HttpCallLimiter {
  return {
    limiter: {
      take(principal, cls) {
        const s = scope.getStore();
        const i = s?.charged.findIndex((c) => c.principal === principal && c.cls === cls) ?? -1;
        if (s !== undefined && i >= 0) {
          s.charged.splice(i, 1);
          return { ok: true };
        }
        return inner.take(principal, cls);
      },
    },
    precharge(principal, cls) {
      const r = inner.take(principal, cls);
      if (r.ok) scope.getStore()?.charged.push({ principal, cls });
      return r;
    },
  };
}

/** Runs one HTTP exchange in its own charge scope. */
export function runInCallScope<T>(fn: () => Promise<T>): Promise<T> {
  return scope.run({ charged: [] }, fn);
}
