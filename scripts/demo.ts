/**
 * `deno task demo`: the built-in simulator + the real server + a real MCP client, then how to connect your own client.
 * Output goes to stdout: this is a script for people, not part of the server.
 */
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";

const root = new URL("../", import.meta.url).pathname;
const main = `${root}src/main.ts`;
const deno = Deno.execPath();
const started = performance.now();
const env: Record<string, string> = {};
for (const k of ["PATH", "HOME", "DENO_DIR", "DENO_TLS_CA_STORE", "TMPDIR"]) {
  const v = Deno.env.get(k);
  if (v !== undefined) env[k] = v;
}
env.PROXMOX_MCP_LOG_LEVEL = "warning";

const bold = (s: string) => (Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR") ? `\x1b[1m${s}\x1b[0m` : s);
const ms = () => `${Math.round(performance.now() - started)} ms`;

console.log(bold("pve-mcp demo") + " — simulator + server over stdio + a real MCP client\n");
const transport = new StdioClientTransport({
  command: deno,
  args: ["run", "-A", "--quiet", main, "serve", "--simulator"],
  env,
  stderr: "inherit",
});
const client = new Client({ name: "pve-mcp-demo", version: "1.0.0" });
await client.connect(transport);
const server = client.getServerVersion();
console.log(`connected to ${server?.name} ${server?.version} (${ms()})`);

const { tools } = await client.listTools();
console.log(bold(`\n${tools.length} tools in the default read-only mode:`));
for (const t of tools) console.log(`  ${t.name.padEnd(18)} ${t.title ?? ""}`);

async function show(name: string, args: Record<string, unknown> = {}, lines = 8) {
  const res = await client.callTool({ name, arguments: args });
  const text = (res.content as { type: string; text: string }[]).map((c) => c.text).join("\n");
  const all = text.split("\n");
  console.log(bold(`\n> ${name} ${JSON.stringify(args)}`) + (res.isError ? "  (tool error)" : ""));
  for (const l of all.slice(0, lines)) console.log(`  ${l}`);
  if (all.length > lines) console.log(`  … ${all.length - lines} more lines`);
  return res;
}

await show("cluster_overview");
const list = await show("guest_list", { status: "running", limit: 5 });
const firstVmid = ((list.structuredContent as { rows?: unknown[][] } | undefined)?.rows?.[0]?.[0]) ?? 100;
await show("guest_info", { vmid: firstVmid });
await show("node_info");
await client.close();
console.log(`\ntour finished in ${ms()}`);

// Deno fetched by npx lives in a throw-away cache: tell people the npx form instead of that path.
const denoCmd = /[\\/](_npx|node_modules)[\\/]/.test(deno) ? "npx -y deno@2.9.6" : deno;
const cmd = `${denoCmd} run -A ${main} serve --simulator`;
console.log(bold("\nConnect your own MCP client to a server on the built-in simulator:"));
console.log(`
Claude Desktop (claude_desktop_config.json → "mcpServers"):
  "pve-sim": { "command": "${denoCmd.split(" ")[0]}", "args": [${
  [...denoCmd.split(" ").slice(1), "run", "-A", main, "serve", "--simulator"].map((a) => JSON.stringify(a)).join(", ")
}] }

Claude Code:
  claude mcp add pve-sim -- ${cmd}

MCP Inspector:
  npx @modelcontextprotocol/inspector ${cmd}

For a real cluster drop --simulator and set PROXMOX_HOST, PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET
(docs/configuration.md, docs/clients.md).`);
