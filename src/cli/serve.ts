/**
 * `pve-mcp serve`: load the configuration, connect to the clusters and serve MCP over stdio (or HTTP).
 * @module
 */
import { type Principal } from "../core/mod.ts";
import { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import { log, setupLogging } from "../log.ts";
import type { Config } from "../config/schema.ts";
import { buildApp } from "../server/build_app.ts";
import { buildMcpServer } from "../server/mcp.ts";
import { guardStdin, type OversizedMessage, SDK_BUFFER_BYTES, STDIO_MAX_MESSAGE_BYTES } from "../server/stdio_guard.ts";
import { selectTools } from "../tools/registry.ts";

/**
 * Serves MCP over stdio until stdin closes; resolves when the session is over. `afterStart` runs once everything is
 * open (the CLI drops permissions there).
 */
export async function serveStdioSession(config: Config, afterStart?: () => Promise<unknown>): Promise<void> {
  await setupLogging(config.logging.level);
  const { app, close } = await buildApp(config);
  const principal: Principal = { id: "stdio", transport: "stdio" };
  log("server").info("Serving MCP over stdio in {mode} mode with {count} tools", {
    mode: app.filter.mode,
    count: selectTools(app.tools, app.filter).length,
  });
  const done = Promise.withResolvers<void>();
  // A message over the size limit is answered with an error instead of ending the session (the SDK would close).
  const tooLarge = ({ bytes, id }: OversizedMessage) => {
    log("server").warning("Dropped a stdio message of {bytes} bytes (limit {limit})", {
      bytes,
      limit: STDIO_MAX_MESSAGE_BYTES,
    });
    const message = `Message too large: ${bytes} bytes, the limit is ${STDIO_MAX_MESSAGE_BYTES} bytes; nothing in it ` +
      "was processed. Send smaller arguments.";
    transport.send({ jsonrpc: "2.0", id, error: { code: -32600, message } } as never).catch(() => {});
  };
  const transport = new StdioServerTransport(guardStdin(process.stdin, tooLarge), process.stdout, {
    maxBufferSize: SDK_BUFFER_BYTES,
  });
  const handle = await serveStdio(() => buildMcpServer(app, principal), { transport });
  await afterStart?.();
  // stdin closing ends the session: close upstream connections so the process exits at once.
  const onEnd = () => done.resolve();
  process.stdin.once("end", onEnd);
  process.stdin.once("close", onEnd);
  await done.promise;
  await Promise.race([handle.close(), new Promise((r) => setTimeout(r, 200))]);
  await close();
}
