/**
 * `serve --simulator`: an in-process simulator and the settings that point the server at it.
 * @module
 */
import { startSimulator } from "./mod.ts";

/** Starts a simulator on loopback and returns environment settings for the configuration loader. */
export async function startSimulatorForServe(): Promise<{ env: Record<string, string>; close: () => Promise<void> }> {
  const sim = await startSimulator({});
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-sim-" });
  const caFile = `${dir}/simulator-ca.pem`;
  await Deno.writeTextFile(caFile, sim.caCertPem, { mode: 0o600 });
  const token = sim.tokens.admin!;
  // The secret goes through a 0600 file, as we recommend for real clusters, never through the environment.
  const secretFile = `${dir}/token-secret`;
  await Deno.writeTextFile(secretFile, token.secret, { mode: 0o600 });
  return {
    env: {
      PROXMOX_HOST: "127.0.0.1",
      PROXMOX_PORT: String(sim.port),
      PROXMOX_TOKEN_ID: token.tokenId,
      PROXMOX_TOKEN_SECRET_FILE: secretFile,
      PROXMOX_CA_FILE: caFile,
      // Show the audit trail too, unless the user chose a place for it.
      ...(Deno.env.get("PROXMOX_MCP_AUDIT_PATH") ? {} : { PROXMOX_MCP_AUDIT_PATH: `${dir}/audit` }),
    },
    close: async () => {
      await sim.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
