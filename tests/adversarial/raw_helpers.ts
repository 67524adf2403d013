/**
 * Shared set-up of the raw API adversarial tests: a real server (stdio) and MCP client over the simulator, with a
 * human who accepts every confirmation, so that only the server's own policy can stop a call. Assertions look at the
 * SIMULATOR: what it received and what its state is, never at the server's words alone.
 */
import { assert, call, type Sim, type Stack, startStack } from "../e2e/harness.ts";

export { assert, assertEquals } from "../e2e/harness.ts";

/** A tool result. */
export type Res = Awaited<ReturnType<typeof call>>;

/**
 * A stack over a 3-node, 12-guest simulator (seed 5: 100 qemu pve1 running in pool prod; 103 qemu pve1 running in
 * staging; 104 lxc pve2 running in prod; 106 and 109 qemu pve1 running, no pool) whose human accepts every prompt.
 */
export async function rawStack(
  mode: "read-only" | "operator" | "admin",
  env: Record<string, string> = {},
): Promise<Stack & { raw: (method: string, path: string, params?: Record<string, unknown>) => Promise<Res> }> {
  const s = await startStack({
    mode,
    clientCapabilities: { elicitation: {} },
    env: { PROXMOX_MCP_TOOLSETS: "raw,guests", ...env },
    simOptions: { nodes: 3, guests: 12, seed: 5, taskDurationMs: 20 },
  });
  s.client.setRequestHandler(
    "elicitation/create",
    () => Promise.resolve({ action: "accept", content: { confirm: true } } as never),
  );
  return Object.assign(s, {
    raw: (method: string, path: string, params?: Record<string, unknown>) =>
      call(s.client, "pve_api", { method, path, ...(params ? { params } : {}) }),
  });
}

/** Requests other than GET the simulator received (policy's own look-ups are GETs). */
export function changesSent(sim: Sim): string[] {
  return sim.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);
}

/**
 * Fails unless the call was refused (for the reason `why` matches, when given) and the simulator received no change;
 * returns the refusal's text.
 */
export function refusedUnsent(sim: Sim, res: Res, what: string, why?: RegExp): string {
  const text = res.content[0]?.text ?? "";
  assert(res.isError, `${what}: the call went through: ${text}`);
  assert(why === undefined || why.test(text), `${what}: refused for another reason: ${text}`);
  const sent = changesSent(sim);
  assert(sent.length === 0, `${what}: the simulator received ${sent.join(", ")}`);
  return text;
}
