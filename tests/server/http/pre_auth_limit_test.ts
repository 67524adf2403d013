import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createKeyedLimiter } from "../../../src/guard/rate_limit.ts";
import { preAuthLimitGuard } from "../../../src/server/http/pre_auth_limit.ts";
import { AuditSampler } from "../../../src/server/http/guard.ts";
import { MemoryAuditSink } from "../../../src/audit/memory.ts";
import { ctx, req } from "./guards_test_helpers.ts";

Deno.test("pre-auth guard: 429 with Retry-After once an address's bucket is empty; other addresses unaffected", async () => {
  let now = 0;
  const audit = new MemoryAuditSink();
  let limited = 0;
  const guard = preAuthLimitGuard({
    limiter: createKeyedLimiter({ perMinute: 60, burst: 3, now: () => now }),
    sampler: new AuditSampler(audit, () => now),
    onLimited: () => void limited++,
  });
  for (let i = 0; i < 3; i++) assertEquals(await guard(req(), ctx("10.0.0.1")), undefined);
  const refused = await guard(req(), ctx("10.0.0.1"));
  assertEquals(refused?.status, 429);
  assertEquals(refused?.headers.get("retry-after"), "1");
  assertEquals((await refused?.json()).error.message, "Too many requests from this address: retry in 1 s");
  assertEquals(await guard(req(), ctx("10.0.0.2")), undefined);
  // A flood is audited once per minute per address, not once per request.
  for (let i = 0; i < 20; i++) await guard(req(), ctx("10.0.0.1"));
  await Promise.resolve();
  assertEquals(audit.entries.length, 1);
  assertEquals([audit.entries[0]?.decision, audit.entries[0]?.remote], ["rate_limited", "10.0.0.1"]);
  assertEquals(limited, 21);
  now += 1000;
  assertEquals(await guard(req(), ctx("10.0.0.1")), undefined, "one token back after a second");
});
