import { ok as assert } from "node:assert/strict";
import { Metrics } from "../../../src/server/http/metrics.ts";

Deno.test("metrics: Prometheus text with calls, latency histogram, rate limits, auth failures", () => {
  const m = new Metrics();
  m.onCall("guest_list", "ok", 12);
  m.onCall("guest_list", "ok", 300);
  m.onCall("guest_power", "denied", 1);
  m.rateLimited("pre_auth");
  m.authFailure('bad "quote"');
  const text = m.render();
  assert(text.includes('pve_mcp_tool_calls_total{tool="guest_list",outcome="ok"} 2'));
  assert(text.includes('pve_mcp_tool_call_duration_seconds_bucket{tool="guest_list",le="0.025"} 1'));
  assert(text.includes('pve_mcp_tool_call_duration_seconds_bucket{tool="guest_list",le="+Inf"} 2'));
  assert(text.includes('pve_mcp_tool_call_duration_seconds_count{tool="guest_list"} 2'));
  assert(text.includes('pve_mcp_rate_limited_total{scope="pre_auth"} 1'));
  assert(text.includes('pve_mcp_auth_failures_total{reason="bad \\"quote\\""} 1'));
  assert(text.includes("# TYPE pve_mcp_tool_call_duration_seconds histogram"));
  assert(text.endsWith("\n"));
});
