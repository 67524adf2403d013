/**
 * Shared set-up of the guest e2e tests (guests_write_test.ts, snapshots_backups_test.ts): an admin stack over a
 * seeded simulator with confirmation allowed and rate limits out of the way, and small result/state helpers.
 */
import { assert, call, type Sim, type Stack, startStack } from "./harness.ts";

/** A tool result as `call` returns it. */
export type Res = Awaited<ReturnType<typeof call>>;
/** A tool's structured output. */
export type Out = Record<string, unknown>;

/**
 * An admin stack over a 3-node, 12-guest simulator (seed 5: 100 qemu pve1 running, 104 lxc pve2 running, 111 qemu
 * pve3 stopped) with fast tasks, and `c(name, args)` to call a tool on it.
 */
export async function startGuestStack(): Promise<
  Stack & { c: (name: string, args: Record<string, unknown>) => Promise<Res> }
> {
  const stack = await startStack({
    mode: "admin",
    env: {
      PROXMOX_MCP_CONFIRM_WITHOUT_ELICITATION: "allow",
      // These tests make many changes in a row; the default limits (e.g. 5 destructive calls a minute) are not the subject.
      PROXMOX_MCP_RATE_LIMIT_PER_MINUTE: "10000",
      PROXMOX_MCP_RATE_LIMIT_WRITES_PER_MINUTE: "10000",
      PROXMOX_MCP_RATE_LIMIT_DESTRUCTIVE_PER_MINUTE: "10000",
    },
    simOptions: { nodes: 3, guests: 12, seed: 5, taskDurationMs: 20 },
  });
  return Object.assign(stack, {
    c: (name: string, args: Record<string, unknown>) => call(stack.client, name, args),
  });
}

/** The structured output of a successful call (fails the test on a tool error). */
export function ok(res: Res, what: string): Out {
  assert(!res.isError, `${what}: ${res.content[0]?.text}`);
  return res.structuredContent ?? {};
}

/** The text of a tool error matching `pattern` (fails the test on success or another error). */
export function fails(res: Res, pattern: RegExp, what: string): string {
  const text = res.content[0]?.text ?? "";
  assert(res.isError, `${what}: expected a tool error, got ${text}`);
  assert(pattern.test(text), `${what}: ${text}`);
  return text;
}

/** The simulator's guest `vmid` (fails the test when it is missing). */
export function guest(sim: Sim, vmid: number) {
  const g = sim.state.guests.get(vmid);
  assert(g, `guest ${vmid} is not in the simulator`);
  return g;
}
