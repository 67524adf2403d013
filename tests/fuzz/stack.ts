/**
 * An in-process stack for fuzzing, fault and load tests: the simulator over HTTPS, the real App (config → buildApp)
 * and McpServer (buildMcpServer), and a real MCP client over the SDK's in-memory transport. Nothing of ours is
 * mocked; only the stdio pipe is left out (tests/e2e covers it).
 * @module
 */
import { type Principal } from "../../src/core/mod.ts";
import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport } from "@modelcontextprotocol/server";
import { loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { buildApp, type BuildOptions } from "../../src/server/build_app.ts";
import type { App } from "../../src/server/app.ts";
import { buildMcpServer } from "../../src/server/mcp.ts";
import { type Simulator, type SimulatorOptions, startSimulator } from "../../src/sim/mod.ts";
import { assertRequestsValid, watchRequests } from "../referee/requests.ts";

/** Options of {@linkcode startInProcessStack}. */
export interface InProcessOptions {
  /** Simulator to use (else one is started with `simOptions`). */
  sim?: Simulator;
  simOptions?: SimulatorOptions;
  /** Extra environment settings (PROXMOX_MCP_*), e.g. mode and toolsets. */
  env?: Record<string, string>;
  /** Which simulator token the server uses (default admin); "ticket" logs in as root@pam with a password. */
  token?: "admin" | "operator" | "auditor" | "ticket";
  /** Hooks for buildApp (audit sink, rate limiter). */
  build?: BuildOptions | ((config: Config) => Promise<BuildOptions>);
  /** Tweak the App after it is built (e.g. confirmWithoutElicitation). */
  tweak?: (app: App) => void;
  /** Client capabilities (e.g. elicitation) and an elicitation answer. */
  clientCapabilities?: Record<string, unknown>;
  principal?: Principal;
  /** Write the audit log (audit.path) into the stack's temp dir, with {@linkcode FUZZ_AUDIT_KEY}. */
  audited?: boolean;
  /**
   * Check every request the simulator receives while the stack runs against the official apidata.json when it closes,
   * failing on a bad one (tests/referee; default on). Runs that report request problems themselves turn it off.
   */
  referee?: boolean;
}

/** HMAC key of audited stacks (tests verify the chain with it). */
export const FUZZ_AUDIT_KEY = "in-process-audit-key-0123456789abcdef";

/** A running in-process stack. */
export interface InProcessStack {
  sim: Simulator;
  app: App;
  config: Config;
  client: Client;
  dir: string;
  close(): Promise<void>;
}

/** Starts simulator (unless given), App, McpServer and a connected client. */
export async function startInProcessStack(opts: InProcessOptions = {}): Promise<InProcessStack> {
  const ownSim = opts.sim === undefined;
  const sim = opts.sim ?? await startSimulator(opts.simOptions ?? {});
  const watch = opts.referee === false ? undefined : watchRequests(sim);
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-inproc-" });
  const caFile = `${dir}/ca.pem`;
  await Deno.writeTextFile(caFile, sim.caCertPem);
  const credential = opts.token === "ticket"
    ? { PROXMOX_USER: sim.user.username, PROXMOX_PASSWORD: sim.user.password }
    : {
      PROXMOX_TOKEN_ID: sim.tokens[opts.token ?? "admin"]!.tokenId,
      PROXMOX_TOKEN_SECRET: sim.tokens[opts.token ?? "admin"]!.secret,
    };
  const config = await loadConfig({
    env: {
      PROXMOX_HOST: "127.0.0.1",
      PROXMOX_PORT: String(sim.port),
      ...credential,
      PROXMOX_CA_FILE: caFile,
      PROXMOX_MCP_MODE: "read-only",
      ...(opts.audited && { PROXMOX_MCP_AUDIT_PATH: `${dir}/audit`, PROXMOX_MCP_AUDIT_KEY: FUZZ_AUDIT_KEY }),
      ...opts.env,
    },
    cwd: dir,
    scrubEnv: false,
  });
  const build = typeof opts.build === "function" ? await opts.build(config) : opts.build ?? {};
  const { app, close: closeApp } = await buildApp(config, build);
  opts.tweak?.(app);
  const server = buildMcpServer(app, opts.principal ?? { id: "fuzz", transport: "stdio" });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "inproc", version: "1.0.0" }, { capabilities: opts.clientCapabilities ?? {} });
  await client.connect(clientSide);
  return {
    sim,
    app,
    config,
    client,
    dir,
    close: async () => {
      await client.close().catch(() => {});
      await server.close().catch(() => {});
      await closeApp();
      if (ownSim) await sim.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      if (watch) await assertRequestsValid(watch, "in-process stack");
    },
  };
}
