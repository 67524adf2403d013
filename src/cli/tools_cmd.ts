/**
 * `pve-mcp tools` (the tools the configuration enables) and `pve-mcp role` (the least-privilege PVE role for them).
 * @module
 */
import { parseArgs } from "node:util";
import { ConfigError } from "../config/errors.ts";
import { loadConfig } from "../config/load.ts";
import { CONFIG_FLAG_OPTIONS } from "../config/sources.ts";
import { ALL_TOOLS } from "../tools/all.ts";
import { roleCommands } from "../tools/docs.ts";
import { minimumClass, selectTools } from "../tools/registry.ts";
import { toolFilter } from "../server/build_app.ts";
import { EXIT } from "./exit_codes.ts";

const HELP_TOOLS = `Usage: pve-mcp tools [--json] [--config FILE] [setting flags, e.g. --mode operator --toolsets all]

Lists the tools the configuration enables (mode, toolsets, allow/deny lists), with toolset, class and privileges.
Takes the same setting flags as serve (docs/configuration.md).`;
const HELP_ROLE = `Usage: pve-mcp role [--role NAME] [--user USER@REALM] [--token NAME] [--config FILE] [setting flags]

Prints pveum commands that create a least-privilege role, user and API token for the tools the configuration
enables in its mode (e.g. pve-mcp role --mode operator). Takes the same setting flags as serve.`;

/** Runs `tools` or `role`; returns the exit code. */
export async function runToolsCommand(which: "tools" | "role", args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        ...CONFIG_FLAG_OPTIONS,
        help: { type: "boolean", short: "h" },
        json: { type: "boolean" },
        role: { type: "string" },
        user: { type: "string" },
        token: { type: "string" },
      },
      strict: true,
    });
  } catch (e) {
    // parseArgs names the option; its message never holds a value.
    console.error(`${(e as Error).message.split(". ")[0]}: run pve-mcp ${which} --help`);
    return EXIT.USAGE;
  }
  const v = parsed.values;
  if (v.help) {
    console.log(which === "tools" ? HELP_TOOLS : HELP_ROLE);
    return EXIT.OK;
  }
  let config;
  try {
    const flags = Object.fromEntries(Object.entries(v).filter(([k]) => k in CONFIG_FLAG_OPTIONS)) as Record<
      string,
      string
    >;
    config = await loadConfig({ requireCluster: false, flags });
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return EXIT.USAGE;
    }
    throw e;
  }
  const filter = toolFilter(config.policy);
  const tools = selectTools(ALL_TOOLS, filter);
  if (which === "role") {
    console.log(roleCommands(tools, {
      ...(v.role ? { role: v.role } : {}),
      ...(v.user ? { user: v.user } : {}),
      ...(v.token ? { token: v.token } : {}),
      mode: filter.mode,
    }));
    return EXIT.OK;
  }
  const rows = tools.map((t) => ({
    name: t.name,
    toolset: t.toolset,
    class: minimumClass(t),
    privileges: t.privileges,
  }));
  if (v.json) console.log(JSON.stringify(rows, null, 2));
  else {
    console.log(`${tools.length} tools enabled in ${filter.mode} mode (toolsets: ${filter.toolsets.join(", ")})`);
    for (const r of rows) {
      console.log(`${r.name.padEnd(20)} ${r.toolset.padEnd(10)} ${r.class.padEnd(11)} ${r.privileges.join(",")}`);
    }
  }
  return EXIT.OK;
}
