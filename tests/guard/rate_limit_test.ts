import { deepStrictEqual as assertEquals, ok as assert, throws as assertThrows } from "node:assert/strict";
import { createKeyedLimiter, createRateLimiter, TokenBucket } from "../../src/guard/rate_limit.ts";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

Deno.test("rate limit: 100/min overall by default; the 101st call waits about 0.6 s (1 s Retry-After)", () => {
  const c = clock();
  const rl = createRateLimiter({ now: c.now });
  for (let i = 0; i < 100; i++) assertEquals(rl.take("a", "read"), { ok: true }, `call ${i + 1}`);
  assertEquals(rl.take("a", "read"), { ok: false, retryAfterSeconds: 1 });
  c.advance(599);
  assertEquals(rl.take("a", "read").ok, false);
  c.advance(1); // 600 ms = exactly one token at 100/min
  assertEquals(rl.take("a", "read"), { ok: true });
  assertEquals(rl.take("a", "read").ok, false);
});

Deno.test("rate limit: exact over a minute (capacity + refill, ±0 tokens)", () => {
  const c = clock();
  const rl = createRateLimiter({ now: c.now, perMinute: 60 });
  let allowed = 0;
  for (let ms = 0; ms <= 60_000; ms += 100) {
    while (rl.take("p", "read").ok) allowed++;
    c.advance(100);
  }
  // 60 at start + 60 refilled over 60 s (one per second, the last one lands at 60.0 s).
  assertEquals(allowed, 120);
});

Deno.test("rate limit: writes and destructive calls have stricter buckets and also spend the overall one", () => {
  const c = clock();
  const rl = createRateLimiter({ now: c.now, perMinute: 10, writesPerMinute: 4, destructivePerMinute: 2 });
  assertEquals(rl.take("p", "destructive"), { ok: true });
  assertEquals(rl.take("p", "destructive"), { ok: true });
  const third = rl.take("p", "destructive");
  assertEquals(third, { ok: false, retryAfterSeconds: 30 }); // 2/min: one token per 30 s
  assertEquals(rl.take("p", "write"), { ok: true });
  assertEquals(rl.take("p", "write"), { ok: true });
  assertEquals(rl.take("p", "write"), { ok: false, retryAfterSeconds: 15 }); // 4/min
  // 4 tokens of 10 spent overall; reads still have 6.
  for (let i = 0; i < 6; i++) assertEquals(rl.take("p", "read").ok, true);
  assertEquals(rl.take("p", "read"), { ok: false, retryAfterSeconds: 6 });
  // A refused call spends nothing: after 30 s the destructive bucket has one token again.
  c.advance(30_000);
  assertEquals(rl.take("p", "destructive"), { ok: true });
});

Deno.test("rate limit: principals are independent", () => {
  const c = clock();
  const rl = createRateLimiter({ now: c.now, perMinute: 1 });
  assertEquals(rl.take("a", "read").ok, true);
  assertEquals(rl.take("a", "read").ok, false);
  assertEquals(rl.take("b", "read").ok, true);
});

Deno.test("rate limit: memory stays bounded; idle (refilled) principals are evicted first", () => {
  const c = clock();
  const rl = createRateLimiter({ now: c.now, perMinute: 10, maxPrincipals: 100 });
  assertEquals(rl.take("busy", "read").ok, true);
  for (let i = 0; i < 1000; i++) rl.take(`p${i}`, "read");
  assert(rl.size() <= 100, `size ${rl.size()}`);
  // After a full refill everyone is idle; a new flood evicts idle ones, never exceeding the bound.
  c.advance(60_000);
  for (let i = 0; i < 99; i++) for (let k = 0; k < 10; k++) rl.take("hot", "read");
  assert(rl.size() <= 100);
  assertEquals(rl.take("hot", "read").ok, false, "the active principal kept its state");
});

Deno.test("rate limit: onLimited hook sees refusals", () => {
  const c = clock();
  const seen: string[] = [];
  const rl = createRateLimiter({ now: c.now, perMinute: 1, onLimited: (p, cls) => seen.push(`${p}:${cls}`) });
  rl.take("x", "read");
  rl.take("x", "read");
  assertEquals(seen, ["x:read"]);
});

Deno.test("keyed limiter: per-key buckets with cost (failed authentications cost more)", () => {
  const c = clock();
  const ip = createKeyedLimiter({ now: c.now, perMinute: 60, burst: 10 });
  assertEquals(ip.take("10.0.0.1", 5), { ok: true });
  assertEquals(ip.take("10.0.0.1", 5), { ok: true });
  assertEquals(ip.take("10.0.0.1"), { ok: false, retryAfterSeconds: 1 });
  assertEquals(ip.take("10.0.0.2"), { ok: true });
  c.advance(5_000);
  assertEquals(ip.take("10.0.0.1", 5), { ok: true });
  assertEquals(ip.take("10.0.0.1", 100).ok, false, "a cost above the burst is capped, not impossible");
});

Deno.test("token bucket: invalid settings are refused", () => {
  assertThrows(() => new TokenBucket(0, 0), RangeError);
});

Deno.test("keyed limiter: penalize drains below zero (bounded) and delays the next token", () => {
  const c = clock();
  const ip = createKeyedLimiter({ now: c.now, perMinute: 60, burst: 4 });
  ip.take("a"); // 3 left
  ip.penalize("a", 5); // -2
  assertEquals(ip.take("a"), { ok: false, retryAfterSeconds: 3 });
  ip.penalize("a", 100); // floor at -4
  assertEquals(ip.take("a"), { ok: false, retryAfterSeconds: 5 });
  c.advance(5_000);
  assertEquals(ip.take("a"), { ok: true });
});
