/** Helpers for the HTTP tests: a temp token store, a dummy MCP server, and a listener on an ephemeral port. */
import { type Principal } from "../../../src/core/mod.ts";
import { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { createAuthenticator } from "../../../src/auth/authenticate.ts";
import { DeviceTokenStore } from "../../../src/auth/device_tokens.ts";
import type { PveTokenVerifier } from "../../../src/auth/pve_token.ts";
import { MemoryAuditSink } from "../../../src/audit/memory.ts";
import { type HttpListenOptions, listenHttp } from "../../../src/server/http/server.ts";
import { Metrics } from "../../../src/server/http/metrics.ts";

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
export async function startTestServer(
  over: Partial<HttpListenOptions> & { pve?: PveTokenVerifier; devicesNow?: () => number } = {},
) {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-http-" });
  const devices = new DeviceTokenStore({
    path: `${dir}/tokens.json`,
    ...(over.devicesNow !== undefined && { now: over.devicesNow }),
  });
  const audit = new MemoryAuditSink();
  const metrics = new Metrics();
  const { pve, devicesNow: _n, ...rest } = over;
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
      await devices.flush();
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

/** Sends a raw HTTP/1.1 request (fetch cannot set `Host`) and returns the status and headers. */
export async function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port) });
  try {
    const body = opts.body ?? "";
    const headers: Record<string, string> = {
      host: u.host,
      connection: "close",
      ...(body !== "" && { "content-length": String(new TextEncoder().encode(body).length) }),
      ...opts.headers,
    };
    const head = [
      `${opts.method ?? "GET"} ${u.pathname} HTTP/1.1`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    await conn.write(new TextEncoder().encode(`${head.join("\r\n")}\r\n\r\n${body}`));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(16384);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
    const [statusLine = "", ...rest] = text.split("\r\n\r\n")[0]!.split("\r\n");
    const hdrs: Record<string, string> = {};
    for (const l of rest) {
      const i = l.indexOf(":");
      if (i > 0) hdrs[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    return {
      status: Number(statusLine.split(" ")[1]),
      headers: hdrs,
      body: text.split("\r\n\r\n").slice(1).join("\r\n\r\n"),
    };
  } finally {
    conn.close();
  }
}
