/** Shared helpers for the audit tests. */
import type { AuditEntry } from "../../src/audit/types.ts";

/** A fresh temp dir; the audit log lives in `<tmp>/audit`, so the default key file `<tmp>/audit.key` is beside it. */
export async function tempLogDir(): Promise<{ root: string; dir: string; cleanup: () => Promise<void> }> {
  const root = await Deno.makeTempDir({ prefix: "pve-mcp-audit-" });
  return { root, dir: `${root}/audit`, cleanup: () => Deno.remove(root, { recursive: true }) };
}

/** A test HMAC key. */
export const KEY = new TextEncoder().encode("test-key-0123456789abcdef0123456789");

/** A typical entry. */
export function entry(over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    phase: "call",
    principal: "laptop",
    transport: "http",
    client: { name: "claude", version: "1.0" },
    tool: "guest_list",
    class: "read",
    arguments: { node: "pve1" },
    decision: "allowed",
    result: "ok",
    durationMs: 12,
    pveCalls: [{ method: "GET", path: "/cluster/resources", status: 200 }],
    ...over,
  };
}
