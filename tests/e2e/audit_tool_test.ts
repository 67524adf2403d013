/**
 * stdio serve writes the audit log of `audit.path`, and `audit_recent` reads it back through a real MCP client.
 */
import { verifyAudit } from "../../src/audit/verify.ts";
import { resolveAuditKey } from "../../src/audit/key.ts";
import { assert, assertEquals, call, startStack } from "./harness.ts";

Deno.test("e2e: stdio calls are audited and audit_recent shows them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-audit-" });
  const stack = await startStack({
    env: { PROXMOX_MCP_AUDIT_PATH: `${dir}/audit`, PROXMOX_MCP_TOOLSETS: "guests,audit" },
    simOptions: { nodes: 1, guests: 4 },
  });
  try {
    const listed = await call(stack.client, "guest_list");
    assert(!listed.isError, listed.content[0]!.text);
    await call(stack.client, "guest_info", { vmid: 999_999 }); // an error outcome
    const res = await call(stack.client, "audit_recent", { limit: 10 });
    assert(!res.isError, res.content[0]!.text);
    const out = res.structuredContent as { records: { tool?: string; result?: string; verified: boolean }[] };
    const tools = out.records.map((r) => r.tool);
    assert(tools.includes("guest_list") && tools.includes("guest_info"), `records: ${JSON.stringify(tools)}`);
    assert(out.records.every((r) => r.verified), "every record verifies with the log's key");
    assert(out.records.some((r) => r.tool === "guest_info" && r.result === "error"), "error outcome recorded");
    const filtered = await call(stack.client, "audit_recent", { tool: "guest_list" });
    const only = (filtered.structuredContent as { records: { tool?: string }[] }).records;
    assert(only.length > 0 && only.every((r) => r.tool === "guest_list"), "tool filter");
  } finally {
    await stack.close();
  }
  const { key } = await resolveAuditKey({ path: `${dir}/audit`, create: false });
  const verdict = await verifyAudit(`${dir}/audit`, key);
  assertEquals(verdict.ok, true, "audit verify after the session");
  await Deno.remove(dir, { recursive: true });
});
