/**
 * Guard 5: the `MCP-Protocol-Version` header, when present, must name a revision this server speaks (400 otherwise).
 * Absent means the client predates the header (2025-03-26 behaviour), which the SDK handles.
 * @module
 */
import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/server";
import { type Guard, jsonRpcError } from "./guard.ts";

/** Revisions served: the SDK's 2025-era list and the 2026-07-28 per-request revision. */
export const SERVED_PROTOCOL_VERSIONS: readonly string[] = ["2026-07-28", ...SUPPORTED_PROTOCOL_VERSIONS];

/** Answers 400 for an unsupported `MCP-Protocol-Version`. */
export function protocolVersionGuard(supported: readonly string[] = SERVED_PROTOCOL_VERSIONS): Guard {
  return (req) => {
    const v = req.headers.get("mcp-protocol-version");
    if (v === null || supported.includes(v.trim())) return undefined;
    return jsonRpcError(
      400,
      `Bad Request: unsupported MCP-Protocol-Version "${v.slice(0, 40)}"; supported: ${supported.join(", ")}`,
    );
  };
}
