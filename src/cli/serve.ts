/**
 * `pve-mcp serve`: load the configuration, connect to the clusters and serve MCP over stdio (or HTTP).
 * @module
 */
import { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import { log, setupLogging } from "../log.ts";
import type { Config } from "../config/schema.ts";
import { buildApp } from "../server/build_app.ts";
import { buildMcpServer } from "../server/mcp.ts";
import type { Principal } from "../tools/registry.ts";

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
    count: app.tools.length,
  });
  const done = Promise.withResolvers<void>();
  const transport = new StdioServerTransport();
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
