/**
 * End-to-end harness: the real server as a stdio subprocess, a real MCP client, and the simulator over HTTPS. Every
 * request the simulator receives while a stack runs is refereed against the official apidata.json when the stack
 * closes (tests/referee/requests.ts).
 */
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { startSimulator } from "../../src/sim/mod.ts";
import { ALL_TOOLS } from "../../src/tools/all.ts";
import { assertRequestsValid, watchRequests } from "../referee/requests.ts";

/** Repository root (tests run from anywhere). */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** Env vars the child needs to find Deno's cache and the registry. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "DENO_DIR", "DENO_TLS_CA_STORE", "DENO_NO_UPDATE_CHECK", "NO_COLOR", "TMPDIR"]) {
    const v = Deno.env.get(k);
    if (v !== undefined) env[k] = v;
  }
  return env;
}

export type Sim = Awaited<ReturnType<typeof startSimulator>>;

/** Options of one stack. */
export interface StackOptions {
  /** Which simulator token the server uses (`admin`, `operator`, `auditor`, or one added through `simOptions.tokens`). */
  token?: string;
  mode?: "read-only" | "operator" | "admin";
  env?: Record<string, string>;
  sim?: Sim;
  simOptions?: Parameters<typeof startSimulator>[0];
  clientCapabilities?: Record<string, unknown>;
  /** Extra args after `serve`. */
  args?: string[];
  /** Referee the simulator's requests when the stack closes (default on; off for runs that report them themselves). */
  referee?: boolean;
}

/** A running stack: simulator, server subprocess, connected client. */
export interface Stack {
  sim: Sim;
  client: Client;
  stderr: () => string;
  close: () => Promise<void>;
}

/**
 * The environment of a server pointed at the simulator with one of its tokens (default admin): writes the simulator's
 * CA into `dir` and names it; logs at debug level.
 */
export async function simServerEnv(sim: Sim, dir: string, tokenName = "admin"): Promise<Record<string, string>> {
  const caFile = `${dir}/ca.pem`;
  await Deno.writeTextFile(caFile, sim.caCertPem);
  const token = sim.tokens[tokenName as keyof Sim["tokens"]];
  if (!token) throw new Error(`The simulator has no token named "${tokenName}"`);
  return {
    ...baseEnv(),
    PROXMOX_HOST: "127.0.0.1",
    PROXMOX_PORT: String(sim.port),
    PROXMOX_TOKEN_ID: token.tokenId,
    PROXMOX_TOKEN_SECRET: token.secret,
    PROXMOX_CA_FILE: caFile,
    PROXMOX_MCP_LOG_LEVEL: "debug",
  };
}

/** Starts simulator (unless given), server and client. */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const ownSim = opts.sim === undefined;
  const sim = opts.sim ?? await startSimulator(opts.simOptions ?? {});
  // The referee: every request the simulator receives while this stack runs must be valid under apidata.json.
  const watch = opts.referee === false ? undefined : watchRequests(sim);
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-e2e-" });
  const env = {
    ...await simServerEnv(sim, dir, opts.token),
    PROXMOX_MCP_MODE: opts.mode ?? "read-only",
    PROXMOX_MCP_LOG_LEVEL: "debug",
    // End-to-end tests make many calls quickly; rate limiting has its own tests (tests/guard, tests/server/http).
    PROXMOX_MCP_RATE_LIMIT_PER_MINUTE: "100000",
    PROXMOX_MCP_RATE_LIMIT_WRITES_PER_MINUTE: "100000",
    PROXMOX_MCP_RATE_LIMIT_DESTRUCTIVE_PER_MINUTE: "100000",
    ...opts.env,
  };
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "-A", "--quiet", `${ROOT}src/main.ts`, "serve", ...(opts.args ?? [])],
    env,
    cwd: dir,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Uint8Array) => (stderr += new TextDecoder().decode(chunk)));
  const client = new Client({ name: "e2e", version: "1.0.0" }, { capabilities: opts.clientCapabilities ?? {} });
  await client.connect(transport);
  return {
    sim,
    client,
    stderr: () => stderr,
    /** Stops client, server (and the simulator it started); fails when the referee found invalid requests. */
    close: async () => {
      await client.close();
      if (ownSim) await sim.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      if (watch) await assertRequestsValid(watch, "e2e stack");
    },
  };
}

const OUTPUTS = new Map(ALL_TOOLS.map((t) => [t.name, t.output]));

/**
 * Calls a tool and returns the result (throws on protocol errors). Structured results are checked against the tool's
 * zod output schema (tools/list leaves output schemas out, so this is where the shapes are held to account).
 */
export async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  const res = await client.callTool({ name, arguments: args });
  const structured = (res as { structuredContent?: Record<string, unknown> }).structuredContent;
  if (!res.isError && structured !== undefined && !("dry_run" in structured)) {
    const check = OUTPUTS.get(name)?.safeParse(structured);
    if (check && !check.success) {
      throw new Error(`${name} returned a result that does not match its output schema: ${check.error.message}`);
    }
  }
  return res as {
    content: { type: string; text: string }[];
    structuredContent?: Record<string, unknown>;
    isError?: boolean;
  };
}

export { assert, assertEquals } from "../assert.ts";
