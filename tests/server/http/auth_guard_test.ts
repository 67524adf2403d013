import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { createAuthenticator } from "../../../src/auth/authenticate.ts";
import { DeviceTokenStore } from "../../../src/auth/device_tokens.ts";
import { MemoryAuditSink } from "../../../src/audit/memory.ts";
import { createKeyedLimiter } from "../../../src/guard/rate_limit.ts";
import { authGuard } from "../../../src/server/http/auth_guard.ts";
import { ctx, req } from "./guards_test_helpers.ts";

Deno.test("auth guard: 401 + WWW-Authenticate without or with a bad token; success sets the principal", async () => {
  const dir = await Deno.makeTempDir();
  const devices = new DeviceTokenStore({ path: `${dir}/t.json` });
  try {
    const { token } = await devices.add({ name: "laptop", mode: "read-only" });
    const audit = new MemoryAuditSink();
    const failures: string[] = [];
    const preAuth = createKeyedLimiter({ perMinute: 60, burst: 12, now: () => 0 });
    const guard = authGuard({
      authenticator: createAuthenticator({ devices }),
      audit,
      preAuth,
      failureCost: 5,
      onFailure: (r) => void failures.push(r),
    });

    const none = await guard(req(), ctx("10.1.1.1"));
    assertEquals(none?.status, 401);
    assertEquals(none?.headers.get("www-authenticate"), 'Bearer realm="pve-mcp"');
    const bad = await guard(req({ authorization: "Bearer pvemcp_" + "A".repeat(43) }), ctx("10.1.1.1"));
    assertEquals(bad?.status, 401);
    assertEquals(bad?.headers.get("www-authenticate"), 'Bearer realm="pve-mcp", error="invalid_token"');
    assertEquals(failures, ["no credential", "the device token is not known"]);
    assertEquals(preAuth.take("10.1.1.1", 3).ok, false, "two failures took 10 of 12 tokens");
    assertEquals(preAuth.take("10.1.1.1", 2).ok, true);

    const c = ctx("10.1.1.2");
    assertEquals(await guard(req({ authorization: `Bearer ${token}` }), c), undefined);
    assertEquals(c.principal, { id: "device:laptop", transport: "http", mode: "read-only" });
    assertEquals(c.auth?.label, "device:laptop");

    await Promise.resolve();
    assertEquals(audit.entries.map((e) => [e.phase, e.decision, e.principal, e.remote]), [
      ["auth", "denied", "anonymous", "10.1.1.1"],
      ["auth", "denied", "anonymous", "10.1.1.1"],
      ["auth", "allowed", "device:laptop", "10.1.1.2"],
    ]);
    assert(!JSON.stringify(audit.entries).includes(token));
  } finally {
    await devices.flush();
    await Deno.remove(dir, { recursive: true });
  }
});
