/**
 * Runs the official MCP conformance suite against the real HTTP transport: the built-in simulator, the real tools,
 * and the HTTP listener in its loopback-only test mode (the suite cannot send credentials, so requests without
 * `Authorization` are served as a read-only test principal; the mode refuses any non-loopback bind).
 *
 *   deno run -A scripts/conformance.ts            # uses scripts/conformance_baseline.yml
 *   deno run -A scripts/conformance.ts --scenario tools-list --verbose   # extra arguments go to the suite
 *
 * Exits with the suite's code: 0 when every scenario passes except the baseline's, 1 on a regression or a stale
 * baseline entry. The suite runs as `deno run npm:@modelcontextprotocol/conformance@VERSION` under the project's frozen
 * lock file (deno.json maps it; deno.lock pins its whole tree), so CI fetches exactly what was reviewed.
 * @module
 */
import { loadConfig } from "../src/config/load.ts";
import { createAuthenticator } from "../src/auth/authenticate.ts";
import { DeviceTokenStore } from "../src/auth/device_tokens.ts";
import { buildApp } from "../src/server/build_app.ts";
import { startHttpServer } from "../src/server/http/serve_http.ts";
import { startSimulator } from "../src/sim/mod.ts";

const SUITE = "npm:@modelcontextprotocol/conformance@0.1.16";
const baseline = new URL("./conformance_baseline.yml", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

const sim = await startSimulator({});
const dir = await Deno.makeTempDir({ prefix: "pve-mcp-conformance-" });
let code = 1;
try {
  await Deno.writeTextFile(`${dir}/ca.pem`, sim.caCertPem);
  const config = await loadConfig({
    env: {
      PROXMOX_HOST: "127.0.0.1",
      PROXMOX_PORT: String(sim.port),
      PROXMOX_TOKEN_ID: sim.tokens.auditor.tokenId,
      PROXMOX_TOKEN_SECRET: sim.tokens.auditor.secret,
      PROXMOX_CA_FILE: `${dir}/ca.pem`,
      PROXMOX_MCP_LOG_LEVEL: "error",
      HOME: dir,
    },
    cwd: dir,
    scrubEnv: false,
  });
  const { app, close } = await buildApp(config);
  const h = config.http;
  const server = await startHttpServer(app, {
    host: "127.0.0.1",
    port: 0,
    path: h.path,
    allowedHosts: ["localhost", "127.0.0.1", "[::1]"],
    allowedOrigins: ["localhost", "127.0.0.1", "[::1]"],
    allowNetworks: ["127.0.0.0/8", "::1/128"],
    trustedProxies: [],
    maxBodyBytes: h.maxBodyBytes,
    requestTimeoutMs: h.requestTimeoutMs,
    authenticator: createAuthenticator({ devices: new DeviceTokenStore({ path: `${dir}/tokens.json` }) }),
    anonymousPrincipal: { id: "conformance", transport: "http", mode: "read-only" },
    preAuth: { perMinute: 100_000, burst: 10_000 },
  });
  try {
    // The suite's DNS-rebinding scenario needs a localhost URL.
    const url = server.url.replace("127.0.0.1", "localhost");
    console.error(`Conformance suite against ${url}`);
    const run = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        // From the project's lock file (frozen): the suite's whole dependency tree is pinned like ours.
        "--frozen",
        "--config",
        CONFIG,
        SUITE,
        "server",
        "--url",
        url,
        ...(Deno.args.includes("--scenario") ? [] : ["--expected-failures", baseline]),
        ...Deno.args,
      ],
      cwd: dir,
      stdout: "inherit",
      stderr: "inherit",
      env: { NO_COLOR: "1" },
    });
    code = (await run.output()).code;
  } finally {
    await server.close();
    await close();
  }
} finally {
  await sim.close();
  await Deno.remove(dir, { recursive: true });
}
console.error(code === 0 ? "Conformance: OK (only baseline scenarios failed)" : `Conformance: FAILED (exit ${code})`);
Deno.exit(code);
