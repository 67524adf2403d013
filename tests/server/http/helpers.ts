/** Helpers for the HTTP tests: a temp token store, a dummy MCP server, and a listener on an ephemeral port. */
import { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { createAuthenticator } from "../../../src/auth/authenticate.ts";
import { DeviceTokenStore } from "../../../src/auth/device_tokens.ts";
import type { PveTokenVerifier } from "../../../src/auth/pve_token.ts";
import { MemoryAuditSink } from "../../../src/audit/memory.ts";
import { type HttpListenOptions, listenHttp } from "../../../src/server/http/server.ts";
import { Metrics } from "../../../src/server/http/metrics.ts";
import type { Principal } from "../../../src/tools/registry.ts";

/** A tiny MCP server that reports who called it. */
export function dummyServer(principal: Principal): McpServer {
  const server = new McpServer({ name: "dummy", version: "0.0.1" }, { capabilities: { tools: {} } });
  server.registerTool("whoami", {
    description: "Who is calling",
    inputSchema: z.object({}),
  }, () => ({
    content: [{
      type: "text",
      text: JSON.stringify({ id: principal.id, mode: principal.mode ?? null, client: principal.client ?? null }),
    }],
  }));
  return server;
}

/** Starts a listener with device tokens (and optionally PVE tokens) on 127.0.0.1:0. */
export async function startTestServer(over: Partial<HttpListenOptions> & { pve?: PveTokenVerifier } = {}) {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-http-" });
  const devices = new DeviceTokenStore({ path: `${dir}/tokens.json` });
  const audit = new MemoryAuditSink();
  const metrics = new Metrics();
  const { pve, ...rest } = over;
  const server = await listenHttp({
    host: "127.0.0.1",
    port: 0,
    path: "/mcp",
    allowedHosts: ["localhost", "127.0.0.1", "[::1]"],
    allowedOrigins: [],
    allowNetworks: ["127.0.0.0/8", "::1/128"],
    trustedProxies: [],
    maxBodyBytes: 1_048_576,
    requestTimeoutMs: 5_000,
    authenticator: createAuthenticator({ devices, ...(pve !== undefined && { pve }) }),
    serverFactory: (p) => dummyServer(p),
    audit,
    metrics,
    ...rest,
  });
  return {
    server,
    devices,
    audit,
    metrics,
    dir,
    close: async () => {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A JSON-RPC initialize body (2025-era). */
export const INIT_BODY = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});

/** Standard headers of an MCP POST. */
export function mcpHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { "content-type": "application/json", accept: "application/json, text/event-stream", ...extra };
}
