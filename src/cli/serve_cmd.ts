/**
 * `pve-mcp serve [--http] [--simulator]`: the long-running server.
 * @module
 */
import { ConfigError } from "../config/errors.ts";
import { loadConfigDetailed } from "../config/load.ts";
import { log, setupLogging } from "../log.ts";
import { dropPermissions, dropPlanFromConfig } from "../runtime/drop_permissions.ts";
import { EXIT } from "./exit_codes.ts";
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
  if (!http && Deno.stdin.isTerminal()) console.error(terminalHint(simulator));
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
      return EXIT.USAGE;
    }
    console.error(`pve-mcp serve failed: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.FAILURE;
  } finally {
    await stopSim?.();
  }
}

/**
 * What a person who started `serve` in a terminal needs to hear: stdio serving waits for an MCP client on stdin,
 * and how to connect one instead (the command is the one that runs this program).
 */
export function terminalHint(simulator: boolean): string {
  const exe = Deno.execPath();
  const compiled = !/(^|[\\/])deno(\.exe)?$/.test(exe);
  const main = Deno.mainModule.startsWith("file:") ? decodeURIComponent(new URL(Deno.mainModule).pathname) : "";
  const cmd = compiled || main === "" ? exe : `${exe} run -A ${main}`;
  const args = simulator ? "serve --simulator" : "serve";
  return [
    "pve-mcp serve speaks MCP over stdin/stdout: an MCP client starts it, a terminal cannot talk to it. Connect a client:",
    `  Claude Code:  claude mcp add pve -- ${cmd} ${args}`,
    "  other clients: the same command in their MCP server settings (docs/clients.md)",
    `  a URL instead: ${cmd} ${simulator ? "serve --http --simulator" : "serve --http"} (docs/http.md)`,
    "Or try the guided demo: deno task demo. Press Ctrl+D to end this session.",
  ].join("\n");
}
