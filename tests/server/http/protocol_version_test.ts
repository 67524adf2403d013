import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { protocolVersionGuard, SERVED_PROTOCOL_VERSIONS } from "../../../src/server/http/protocol_version.ts";
import { ctx, req } from "./guards_test_helpers.ts";

Deno.test("protocol version guard: absent or known versions pass, others get 400", async () => {
  const guard = protocolVersionGuard();
  assertEquals(await guard(req(), ctx()), undefined);
  for (const v of ["2025-06-18", "2025-03-26", "2025-11-25", "2026-07-28"]) {
    assertEquals(await guard(req({ "mcp-protocol-version": v }), ctx()), undefined, v);
  }
  const bad = await guard(req({ "mcp-protocol-version": "1999-01-01" }), ctx());
  assertEquals(bad?.status, 400);
  assertEquals(
    (await bad?.json()).error.message.startsWith('Bad Request: unsupported MCP-Protocol-Version "1999-01-01"'),
    true,
  );
  assertEquals(SERVED_PROTOCOL_VERSIONS.includes("2026-07-28"), true);
});
