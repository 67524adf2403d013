/**
 * Size figures: `tools/list` JSON bytes under the defaults and with everything on, and what a listing costs per guest.
 * @module
 */
import type { Client } from "@modelcontextprotocol/client";
import type { Simulator } from "../../src/sim/mod.ts";
import { ALL_TOOLSETS_ENV } from "../../tests/fuzz/run.ts";
import { startInProcessStack } from "../../tests/fuzz/stack.ts";

const utf8 = (s: string) => new TextEncoder().encode(s).length;

/** Bytes of the `tools/list` result as it crosses the wire (the JSON-RPC `result` member). */
export async function toolsListBytes(
  sim: Simulator,
  env: Record<string, string>,
): Promise<{ bytes: number; tools: number }> {
  const s = await startInProcessStack({ sim, env: { PROXMOX_MCP_LOG_LEVEL: "error", ...env } });
  try {
    const result = await s.client.listTools();
    return { bytes: utf8(JSON.stringify(result)), tools: result.tools.length };
  } finally {
    await s.close();
  }
}

/** The two tools/list configurations the issues set budgets for. */
export async function toolsListSizes(sim: Simulator) {
  return {
    defaults: await toolsListBytes(sim, {}),
    everything: await toolsListBytes(sim, {
      PROXMOX_MCP_MODE: "admin",
      PROXMOX_MCP_TOOLSETS: ALL_TOOLSETS_ENV.PROXMOX_MCP_TOOLSETS,
    }),
  };
}

/** What one listing call returns, in bytes. */
export interface ListingBytes {
  guests: number;
  rows: number;
  structuredBytes: number;
  textBytes: number;
  totalBytes: number;
  bytesPerGuest: number;
  hasCursor: boolean;
}

/** Calls guest_list and measures the answer (structured content + text, as the client receives them). */
export async function listingBytes(client: Client, args: Record<string, unknown>): Promise<ListingBytes> {
  const r = await client.callTool({ name: "guest_list", arguments: args }) as {
    isError?: boolean;
    content: { type: string; text: string }[];
    structuredContent?: { total: number; rows: unknown[]; next_cursor?: string };
  };
  if (r.isError || !r.structuredContent) throw new Error(`guest_list failed: ${JSON.stringify(r).slice(0, 300)}`);
  const structuredBytes = utf8(JSON.stringify(r.structuredContent));
  const textBytes = r.content.reduce((n, c) => n + utf8(c.text ?? ""), 0);
  const rows = r.structuredContent.rows.length;
  return {
    guests: r.structuredContent.total,
    rows,
    structuredBytes,
    textBytes,
    totalBytes: structuredBytes + textBytes,
    bytesPerGuest: (structuredBytes + textBytes) / Math.max(1, rows),
    hasCursor: r.structuredContent.next_cursor !== undefined,
  };
}
