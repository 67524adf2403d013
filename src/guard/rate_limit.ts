/**
 * Token buckets: per principal with an overall bucket and stricter buckets for writes and destructive calls, and a
 * keyed single bucket (per client IP before authentication). Exact to the token with an injectable clock; memory is
 * bounded by evicting idle keys (a refilled bucket is the same as a new one, so eviction never changes a decision).
 * @module
 */

/** Answer of a limiter. */
export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

/** Units per token: one token is `perMinute` units per ms for 60,000 ms, so integer clocks give exact arithmetic. */
const UNIT = 60_000;

/** A token bucket holding up to `capacity` tokens, refilled at `perMinute / 60` tokens per second. */
export class TokenBucket {
  /** Fill level in units (1 token = {@linkcode UNIT} units). */
  #units: number;
  #at: number;
  readonly capacity: number;
  readonly perMinute: number;

  /** A full bucket of `capacity` tokens (default: one minute's worth) refilling `perMinute` per minute. */
  constructor(perMinute: number, now: number, capacity: number = perMinute) {
    if (!(perMinute > 0) || !(capacity >= 1)) {
      throw new RangeError(`Cannot create a token bucket: rate ${perMinute}/min and capacity ${capacity} must be > 0`);
    }
    this.capacity = capacity;
    this.perMinute = perMinute;
    this.#units = capacity * UNIT;
    this.#at = now;
  }

  #refill(now: number): void {
    if (now > this.#at) {
      this.#units = Math.min(this.capacity * UNIT, this.#units + (now - this.#at) * this.perMinute);
      this.#at = now;
    }
  }

  /** Tokens available at `now` (fractional). */
  available(now: number): number {
    this.#refill(now);
    return this.#units / UNIT;
  }

  /** Milliseconds until `n` tokens are available (0 when they are now). */
  waitMs(now: number, n = 1): number {
    this.#refill(now);
    if (this.#units >= n * UNIT) return 0;
    if (n > this.capacity) return Infinity;
    return Math.ceil((n * UNIT - this.#units) / this.perMinute);
  }

  /** Removes `n` tokens; call only after {@linkcode waitMs} returned 0. */
  consume(now: number, n = 1): void {
    this.#refill(now);
    this.#units -= n * UNIT;
  }

  /** Removes `n` tokens even when fewer are left, down to minus one full bucket (a penalty that delays refills). */
  penalize(now: number, n: number): void {
    this.#refill(now);
    this.#units = Math.max(-this.capacity * UNIT, this.#units - n * UNIT);
  }

  /** True when the bucket is full at `now` (indistinguishable from a new bucket). */
  isFull(now: number): boolean {
    this.#refill(now);
    return this.#units >= this.capacity * UNIT;
  }
}

function retryAfter(ms: number): number {
  return Number.isFinite(ms) ? Math.max(1, Math.ceil(ms / 1000 - 1e-9)) : 3600;
}

/** A map of keys to bucket sets, bounded: full buckets go first, then the least recently used. */
class BoundedMap<V> {
  readonly #map = new Map<string, V>();
  constructor(readonly max: number, readonly isIdle: (v: V) => boolean) {}

  get(key: string, create: () => V): V {
    let v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key); // re-insert: Map order is our LRU order
    } else {
      v = create();
      if (this.#map.size >= this.max) this.#evict();
    }
    this.#map.set(key, v);
    return v;
  }

  #evict(): void {
    for (const [k, v] of this.#map) if (this.isIdle(v)) this.#map.delete(k);
    const over = this.#map.size - this.max + 1;
    if (over > 0) {
      let n = 0;
      for (const k of this.#map.keys()) {
        if (n++ >= over) break;
        this.#map.delete(k);
      }
    }
  }

  get size(): number {
    return this.#map.size;
  }

  delete(key: string): void {
    this.#map.delete(key);
  }
}

/** Per-minute limits per principal (config `rateLimit`). */
export interface RateLimitSettings {
  /** All calls. */
  perMinute: number;
  /** Write and destructive calls. */
  writesPerMinute: number;
  /** Destructive calls. */
  destructivePerMinute: number;
}

/** Defaults: 100 calls/min overall, as users of the existing servers know; stricter for changes. */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = { perMinute: 100, writesPerMinute: 20, destructivePerMinute: 5 };

/** Options of {@linkcode createRateLimiter}. */
export interface RateLimiterOptions extends Partial<RateLimitSettings> {
  now?: () => number;
  /** At most this many principals are tracked (default 10,000). */
  maxPrincipals?: number;
  /** Called on every refusal (metrics). */
  onLimited?: (principal: string, cls: CallClass) => void;
}

/** The pipeline's rate limiter, with a few extras for tests and the admin port. */
export interface PrincipalRateLimiter {
  /** Takes one token for a call of class `cls`: from the overall bucket, plus the write bucket for writes and destructive calls, plus the destructive bucket for destructive ones. All or nothing. */
  take(principal: string, cls: CallClass): TakeResult;
  /** Number of principals tracked now. */
  size(): number;
  /** Forgets a principal (e.g. its token was revoked). */
  forget(principal: string): void;
}

interface PrincipalBuckets {
  all: TokenBucket;
  write: TokenBucket;
  destructive: TokenBucket;
}

/** Token buckets per principal; see {@linkcode PrincipalRateLimiter.take}. */
export function createRateLimiter(opts: RateLimiterOptions = {}): PrincipalRateLimiter {
  const now = opts.now ?? Date.now;
  const limits: RateLimitSettings = {
    perMinute: opts.perMinute ?? DEFAULT_RATE_LIMITS.perMinute,
    writesPerMinute: opts.writesPerMinute ?? DEFAULT_RATE_LIMITS.writesPerMinute,
    destructivePerMinute: opts.destructivePerMinute ?? DEFAULT_RATE_LIMITS.destructivePerMinute,
  };
  const map = new BoundedMap<PrincipalBuckets>(
    opts.maxPrincipals ?? 10_000,
    (b) => b.all.isFull(now()) && b.write.isFull(now()) && b.destructive.isFull(now()),
  );
  return {
    take(principal, cls) {
      const t = now();
      const b = map.get(principal, () => ({
        all: new TokenBucket(limits.perMinute, t),
        write: new TokenBucket(limits.writesPerMinute, t),
        destructive: new TokenBucket(limits.destructivePerMinute, t),
      }));
      const buckets = cls === "read" ? [b.all] : cls === "write" ? [b.all, b.write] : [b.all, b.write, b.destructive];
      const wait = Math.max(...buckets.map((x) => x.waitMs(t)));
      if (wait > 0) {
        opts.onLimited?.(principal, cls);
        return { ok: false, retryAfterSeconds: retryAfter(wait) };
      }
      for (const x of buckets) x.consume(t);
      return { ok: true };
    },
    size: () => map.size,
    forget: (principal) => map.delete(principal),
  };
}

/** Options of {@linkcode createKeyedLimiter}. */
export interface KeyedLimiterOptions {
  perMinute: number;
  /** Bucket size (burst); default `perMinute`. */
  burst?: number;
  now?: () => number;
  /** At most this many keys are tracked (default 10,000). */
  maxKeys?: number;
}

/** One bucket per key (client IP before authentication). */
export interface KeyedLimiter {
  /** Takes `cost` tokens (default 1) for `key`, all or nothing. */
  take(key: string, cost?: number): TakeResult;
  /** Removes `cost` tokens whatever is left (down to minus one bucket): a penalty, e.g. for a failed login. */
  penalize(key: string, cost: number): void;
  size(): number;
}

/** A bucket per key, e.g. the HTTP per-IP pre-auth limiter (failed authentications can cost more). */
export function createKeyedLimiter(opts: KeyedLimiterOptions): KeyedLimiter {
  const now = opts.now ?? Date.now;
  const map = new BoundedMap<TokenBucket>(opts.maxKeys ?? 10_000, (b) => b.isFull(now()));
  return {
    take(key, cost = 1) {
      const t = now();
      const b = map.get(key, () => new TokenBucket(opts.perMinute, t, opts.burst ?? opts.perMinute));
      const wait = b.waitMs(t, Math.min(cost, b.capacity));
      if (wait > 0) return { ok: false, retryAfterSeconds: retryAfter(wait) };
      b.consume(t, Math.min(cost, b.capacity));
      return { ok: true };
    },
    penalize(key, cost) {
      const t = now();
      map.get(key, () => new TokenBucket(opts.perMinute, t, opts.burst ?? opts.perMinute)).penalize(t, cost);
    },
    size: () => map.size,
  };
}
import { type CallClass } from "../core/mod.ts";
