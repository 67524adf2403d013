/**
 * `pve-mcp serve [--http] [--simulator]`: the long-running server.
 * @module
 */
import { ConfigError } from "../config/errors.ts";
import { loadConfigDetailed } from "../config/load.ts";
import { log, setupLogging } from "../log.ts";
import { dropPermissions, dropPlanFromConfig } from "../runtime/drop_permissions.ts";
import { serveStdioSession } from "./serve.ts";

const HELP = `Usage: pve-mcp serve [--http] [--simulator] [--config FILE] [setting flags]

Serves MCP over stdio (default) or Streamable HTTP (--http). Settings come from flags, environment, .env and the
JSON config file (PROXMOX_MCP_CONFIG or --config); docs/configuration.md lists them all.

  --http         serve Streamable HTTP instead of stdio (see docs/http.md)
  --simulator    start the built-in Proxmox VE simulator in-process and use it (try the server without a cluster)
  --config FILE  JSON configuration file
  --help         this text`;

/** Runs `serve`; returns the exit code. */
export async function runServeCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  const http = args.includes("--http");
  const simulator = args.includes("--simulator");
  const rest = args.filter((a) => a !== "--http" && a !== "--simulator");
  let env: Record<string, string> | undefined;
  let stopSim: (() => Promise<void>) | undefined;
  if (simulator) {
    const { startSimulatorForServe } = await import("../sim/for_serve.ts");
    const sim = await startSimulatorForServe();
    env = { ...Deno.env.toObject(), ...sim.env };
    stopSim = sim.close;
  }
  try {
    // Without an explicit env the loader reads the process environment and then removes secret variables from it.
    const loaded = await loadConfigDetailed({ args: rest, ...(env ? { env } : {}) });
    await setupLogging(loaded.config.logging.level);
    for (const warning of loaded.warnings) log("config").warn(warning);
    // Once listening, give back what is no longer needed (env, start-up files, run/ffi/sys): see docs/install.md.
    const drop = () => dropPermissions(dropPlanFromConfig(loaded));
    if (http) {
      const { serveHttp } = await import("../server/http/serve_http.ts");
      await serveHttp(loaded.config, { afterStart: drop });
    } else {
      await serveStdioSession(loaded.config, drop);
    }
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 2;
    }
    console.error(`pve-mcp serve failed: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    await stopSim?.();
  }
}

/** Flag names `serve` handles itself (the rest go to the configuration loader). */
export const SERVE_FLAGS = ["--http", "--simulator", "--config", "--help"];
