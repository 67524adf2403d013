/**
 * A real MCP client (the SDK's) connected over stdio to a server process started with an exact command line,
 * for the sandbox smoke tests and the client-configuration tests.
 * @module
 */
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";

/** A connected client plus the server's stderr. */
export interface StdioSession {
  client: Client;
  stderr: () => string;
  close: () => Promise<void>;
}

/** Starts `command args` with exactly `env` (the SDK would pass only a whitelist) and connects a client. */
export async function connectStdio(
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd?: string,
): Promise<StdioSession> {
  const transport = new StdioClientTransport({ command, args, env, ...(cwd ? { cwd } : {}), stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Uint8Array) => (stderr += new TextDecoder().decode(chunk)));
  const client = new Client({ name: "pve-mcp-sandbox-test", version: "1.0.0" }, { capabilities: {} });
  try {
    await client.connect(transport);
  } catch (error) {
    throw new Error(`The server did not start: ${(error as Error).message}\nstderr:\n${stderr}`);
  }
  return { client, stderr: () => stderr, close: () => client.close() };
}

/** Environment every `deno` child needs: where Deno's cache is, no colour, no update check. Nothing of ours. */
export function denoEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const name of ["DENO_DIR", "PATH", "SYSTEMROOT"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  if (env.DENO_DIR === undefined) {
    const home = Deno.env.get("HOME");
    if (home !== undefined) env.DENO_DIR = `${home}/.cache/deno`;
  }
  return env;
}
