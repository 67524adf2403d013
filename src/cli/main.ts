/**
 * The command line: picks the subcommand and runs it.
 * @module
 */
import { VERSION } from "../version.ts";

const HELP = `pve-mcp ${VERSION} — a security-first MCP server for Proxmox VE

Usage: pve-mcp <command> [options]

Commands:
  serve [--http] [--simulator]   Serve MCP over stdio (default) or Streamable HTTP
  simulate                       Run the built-in Proxmox VE simulator
  config <sub>                   generate-key, encrypt, status, rotate-key, rotate-key-all, check, migrate
  secrets <sub>                  set, list, rm (the secret store tools can use but the model never reads)
  tokens <sub>                   add, list, revoke (HTTP device tokens)
  audit <sub>                    verify, tail
  role                           Print the least-privilege PVE role for the enabled tools (pveum commands)
  tools                          List the tools the configuration enables

Options: --help (also after a command), --version, --test (= config check)
Exit codes: 0 success, 1 failure at run time, 2 bad usage or configuration.
Docs: README.md and docs/ — configuration.md lists every setting.`;

/** Runs the CLI and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [command = "serve", ...rest] = args;
  switch (command) {
    case "--version":
    case "-V":
      console.log(VERSION);
      return 0;
    case "--help":
    case "-h":
    case "help":
      console.log(HELP);
      return 0;
    case "serve":
      return (await import("./serve_cmd.ts")).runServeCommand(rest);
    case "simulate":
      return (await import("../sim/cli.ts")).runSimulateCommand(rest);
    case "config":
      return (await import("./config_cmd.ts")).runConfigCommand(rest);
    case "--test": // alias of `config check`, as users of other Proxmox MCP servers know it
      return (await import("./config_cmd.ts")).runConfigCommand(["check", ...rest]);
    case "secrets":
      return (await import("./secrets_cmd.ts")).runSecretsCommand(rest);
    case "tokens":
      return (await import("./tokens_cmd.ts")).runTokensCommand(rest);
    case "audit":
      return (await import("./audit_cmd.ts")).runAuditCommand(rest);
    case "tools":
    case "role":
      return (await import("./tools_cmd.ts")).runToolsCommand(command, rest);
    default:
      console.error(`Unknown command "${command}": run pve-mcp --help for the list of commands`);
      return 2;
  }
}
