/**
 * End-to-end smoke of the shipped program inside its sandbox: the bundle under each profile's exact flags serves MCP
 * over stdio to a real MCP client, against the simulator over HTTPS (CA-verified). If the program needed any
 * permission its profile lacks (a path, a host, a variable), these calls would fail.
 */
import { ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { bundleRunArgs } from "../../scripts/bundle.ts";
import type { ProfileOptions } from "../../src/permissions/profiles.ts";
import { startSimulator } from "../../src/sim/mod.ts";
import { sandboxBundle } from "./bundle_cache.ts";
import { connectStdio, denoEnv } from "./mcp_stdio.ts";

type ToolResult = { content: { type: string; text?: string }[]; structuredContent?: unknown; isError?: boolean };

async function listAndCall(
  profile: ProfileOptions,
  env: Record<string, string>,
  cwd: string,
): Promise<{ tools: string[]; result: ToolResult; stderr: string }> {
  const bundle = await sandboxBundle();
  const [, ...args] = ["deno", ...bundleRunArgs(bundle, profile, ["serve"])];
  const session = await connectStdio(Deno.execPath(), args, { ...denoEnv(), ...env }, cwd);
  try {
    const { tools } = await session.client.listTools();
    const result = await session.client.callTool({ name: "guest_list", arguments: {} }) as ToolResult;
    return { tools: tools.map((t) => t.name), result, stderr: session.stderr() };
  } finally {
    await session.close();
  }
}

Deno.test("smoke/release: bundle under the release flags serves stdio; a real client lists and calls tools", async () => {
  const sim = await startSimulator({ nodes: 2, guests: 5 });
  const home = await Deno.makeTempDir({ prefix: "pve-mcp-smoke-" });
  try {
    await Deno.mkdir(join(home, ".config", "pve-mcp"), { recursive: true });
    await Deno.writeTextFile(join(home, ".config", "pve-mcp", "ca.pem"), sim.caCertPem);
    await Deno.writeTextFile(join(home, ".config", "pve-mcp", "token"), sim.tokens.auditor.secret);
    const { tools, result, stderr } = await listAndCall({ profile: "release" }, {
      HOME: home,
      PROXMOX_HOST: "127.0.0.1",
      PROXMOX_PORT: String(sim.port),
      PROXMOX_TOKEN_ID: sim.tokens.auditor.tokenId,
      PROXMOX_TOKEN_SECRET_FILE: join(home, ".config", "pve-mcp", "token"),
      PROXMOX_CA_FILE: "~/.config/pve-mcp/ca.pem", // expanded by the loader: HOME is allowed
    }, home);
    ok(tools.includes("guest_list"), tools.join(", "));
    strictEqual(result.isError ?? false, false, JSON.stringify(result).slice(0, 500) + stderr.slice(-2000));
    ok(JSON.stringify(result.structuredContent ?? result.content).length > 50, "the tool returned guests");
    ok(!/NotCapable/.test(stderr), `no permission was refused:\n${stderr.slice(-2000)}`);
  } finally {
    await sim.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("smoke/locked: bundle built for the simulator's address and two directories serves a real client", async () => {
  const sim = await startSimulator({ nodes: 2, guests: 5 });
  const tmp = await Deno.makeTempDir({ prefix: "pve-mcp-smoke-" });
  try {
    const configDir = join(tmp, "etc");
    const dataDir = join(tmp, "data");
    await Deno.mkdir(configDir);
    await Deno.mkdir(dataDir);
    await Deno.writeTextFile(join(configDir, "ca.pem"), sim.caCertPem);
    await Deno.writeTextFile(join(configDir, "token"), sim.tokens.auditor.secret, { mode: 0o600 });
    const config = {
      clusters: {
        sim: { host: "127.0.0.1", port: sim.port, tokenId: sim.tokens.auditor.tokenId, caFile: "ca.pem" },
      },
      audit: { path: join(dataDir, "audit") },
    };
    await Deno.writeTextFile(join(configDir, "config.json"), JSON.stringify(config), { mode: 0o600 });
    const profile: ProfileOptions = {
      profile: "locked",
      pveHosts: [`127.0.0.1:${sim.port}`],
      listen: [],
      configDir,
      dataDir,
    };
    const { tools, result, stderr } = await listAndCall(profile, {
      PROXMOX_MCP_CONFIG: join(configDir, "config.json"),
      PROXMOX_TOKEN_SECRET_FILE: join(configDir, "token"),
    }, dataDir);
    ok(tools.includes("guest_list"), tools.join(", "));
    strictEqual(result.isError ?? false, false, JSON.stringify(result).slice(0, 500) + stderr.slice(-2000));
    ok(!/NotCapable/.test(stderr), `no permission was refused:\n${stderr.slice(-2000)}`);
  } finally {
    await sim.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
