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

/** A loopback port that was free a moment ago (a locked build needs its listen ports before it starts). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("smoke/locked --http: listens only where it was built to, reaches PVE for readyz, refuses an anonymous call", async () => {
  const sim = await startSimulator({ nodes: 1, guests: 3 });
  const tmp = await Deno.makeTempDir({ prefix: "pve-mcp-smoke-http-" });
  const mcpPort = freePort();
  const adminPort = freePort();
  let child: Deno.ChildProcess | undefined;
  try {
    const configDir = join(tmp, "etc");
    const dataDir = join(tmp, "data");
    await Deno.mkdir(configDir);
    await Deno.mkdir(dataDir);
    await Deno.writeTextFile(join(configDir, "ca.pem"), sim.caCertPem);
    await Deno.writeTextFile(join(configDir, "token"), sim.tokens.auditor.secret, { mode: 0o600 });
    const config = {
      clusters: { sim: { host: "127.0.0.1", port: sim.port, tokenId: sim.tokens.auditor.tokenId, caFile: "ca.pem" } },
      audit: { path: join(dataDir, "audit") },
      http: {
        host: "127.0.0.1",
        port: mcpPort,
        adminHost: "127.0.0.1",
        adminPort,
        tokensFile: join(dataDir, "tokens.json"),
      },
    };
    await Deno.writeTextFile(join(configDir, "config.json"), JSON.stringify(config), { mode: 0o600 });
    const profile: ProfileOptions = {
      profile: "locked",
      pveHosts: [`127.0.0.1:${sim.port}`],
      listen: [`127.0.0.1:${mcpPort}`, `127.0.0.1:${adminPort}`],
      configDir,
      dataDir,
    };
    const bundle = await sandboxBundle();
    child = new Deno.Command(Deno.execPath(), {
      args: bundleRunArgs(bundle, profile, ["serve", "--http"]),
      env: {
        ...denoEnv(),
        PROXMOX_MCP_CONFIG: join(configDir, "config.json"),
        PROXMOX_TOKEN_SECRET_FILE: join(configDir, "token"),
      },
      clearEnv: true,
      cwd: dataDir,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let stderr = "";
    const drained = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (chunk) => void (stderr += chunk) }),
    );
    let ready: Response | undefined;
    for (let i = 0; i < 100 && ready === undefined; i++) {
      ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => undefined);
      if (ready === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    ok(ready, `the admin listener came up:\n${stderr}`);
    strictEqual(ready.status, 200, `readyz reached PVE through the locked sandbox: ${await ready.text()}\n${stderr}`);
    const anonymous = await fetch(`http://127.0.0.1:${mcpPort}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    await anonymous.body?.cancel();
    strictEqual(anonymous.status, 401, "the MCP listener is up and wants a credential");
    child.kill("SIGTERM");
    const status = await child.status;
    await drained;
    strictEqual(status.code, 0, stderr);
    ok(!/NotCapable/.test(stderr), `no permission was refused:\n${stderr.slice(-2000)}`);
  } finally {
    try {
      child?.kill("SIGKILL");
    } catch {
      // already gone
    }
    await sim.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
