import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { httpCallLimiter, runInCallScope } from "../../../src/server/http/call_limit.ts";
import { createRateLimiter } from "../../../src/guard/rate_limit.ts";

Deno.test("call limit: a call charged by the HTTP layer is not charged again by the pipeline", async () => {
  const calls = httpCallLimiter(createRateLimiter({ now: () => 0, perMinute: 100, writesPerMinute: 2 }));
  for (let i = 0; i < 2; i++) {
    await runInCallScope(async () => {
      assertEquals(calls.precharge("p", "write"), { ok: true });
      await Promise.resolve();
      assertEquals(calls.limiter.take("p", "write"), { ok: true }, "the pipeline's take rides on the charge");
    });
  }
  await runInCallScope(() => {
    assertEquals(calls.precharge("p", "write"), { ok: false, retryAfterSeconds: 30 });
    return Promise.resolve();
  });
  // Outside an HTTP scope (stdio) the limiter takes as usual.
  assertEquals(calls.limiter.take("p", "write").ok, false);
  assertEquals(calls.limiter.take("q", "write").ok, true);
});

Deno.test("call limit: a charge covers one call only, and only its own principal and class", async () => {
  const calls = httpCallLimiter(createRateLimiter({ now: () => 0, perMinute: 3 }));
  await runInCallScope(() => {
    calls.precharge("p", "read"); // 2 left
    assertEquals(calls.limiter.take("p", "read").ok, true); // rides on the charge
    assertEquals(calls.limiter.take("p", "read").ok, true); // takes: 1 left
    assertEquals(calls.limiter.take("other", "read").ok, true);
    assertEquals(calls.limiter.take("p", "read").ok, true); // takes: 0 left
    assertEquals(calls.limiter.take("p", "read").ok, false);
    return Promise.resolve();
  });
});
