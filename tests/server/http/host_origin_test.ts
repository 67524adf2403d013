import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { hostOriginGuard, originAllowed } from "../../../src/server/http/host_origin.ts";
import { ctx, req } from "./guards_test_helpers.ts";

Deno.test("host/origin guard: Host must be allowed (port-agnostic), else 403", async () => {
  const guard = hostOriginGuard({ allowedHosts: ["localhost", "127.0.0.1", "mcp.example.com"], allowedOrigins: [] });
  assertEquals(await guard(req({ host: "127.0.0.1:8080" }), ctx()), undefined);
  assertEquals(await guard(req({ host: "mcp.example.com" }), ctx()), undefined);
  assertEquals((await guard(req({ host: "evil.example" }), ctx()))?.status, 403);
  assertEquals((await guard(req({ host: "127.0.0.1.evil.example:8080" }), ctx()))?.status, 403);
});

Deno.test("host/origin guard: no Origin passes; listed origins pass; others and 'null' get 403", async () => {
  const guard = hostOriginGuard({
    allowedHosts: ["127.0.0.1"],
    allowedOrigins: ["localhost", "https://app.example.com:8443"],
  });
  assertEquals(await guard(req(), ctx()), undefined);
  assertEquals(await guard(req({ origin: "http://localhost:6274" }), ctx()), undefined);
  assertEquals(await guard(req({ origin: "https://app.example.com:8443" }), ctx()), undefined);
  assertEquals((await guard(req({ origin: "https://app.example.com" }), ctx()))?.status, 403, "exact origin: port");
  assertEquals((await guard(req({ origin: "http://app.example.com:8443" }), ctx()))?.status, 403, "scheme");
  assertEquals((await guard(req({ origin: "https://evil.example" }), ctx()))?.status, 403);
  assertEquals((await guard(req({ origin: "null" }), ctx()))?.status, 403);
  const none = hostOriginGuard({ allowedHosts: ["127.0.0.1"], allowedOrigins: [] });
  assertEquals((await none(req({ origin: "http://localhost" }), ctx()))?.status, 403, "default: no browser origin");
});

Deno.test("host/origin guard: answers before the body is read", async () => {
  const guard = hostOriginGuard({ allowedHosts: ["127.0.0.1"], allowedOrigins: [] });
  const r = req({ host: "evil.example" }, { body: "x".repeat(10) });
  assertEquals((await guard(r, ctx()))?.status, 403);
  assert(!r.bodyUsed);
});

Deno.test("originAllowed: extension wildcard scheme", () => {
  assert(originAllowed("moz-extension://abc-123", ["moz-extension://*"]));
  assert(!originAllowed("chrome-extension://abc", ["moz-extension://*"]));
});

Deno.test("host/origin guard: without a Host header (HTTP/2 :authority) the request URL's host is checked", async () => {
  const guard = hostOriginGuard({ allowedHosts: ["127.0.0.1"], allowedOrigins: [] });
  assertEquals(await guard(new Request("https://127.0.0.1:8443/mcp", { method: "POST" }), ctx()), undefined);
  assertEquals((await guard(new Request("https://evil.example:8443/mcp", { method: "POST" }), ctx()))?.status, 403);
});
