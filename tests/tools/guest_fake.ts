/**
 * A small in-memory PveApi and ToolContext for unit tests of the guest tools: every request is checked against the
 * endpoint contract (as PVE would) and recorded; answers come from a route function. Tasks finish at once with OK.
 */
import { type GuestRef } from "../../src/core/mod.ts";
import { PveError } from "../../src/pve/types.ts";
import type { ToolContext } from "../../src/tools/registry.ts";
import { type SecretStore, SecretStoreError } from "../../src/secrets/store.ts";
import { contractApi, type Sent, toolContext, upid } from "./fake_api.ts";

export { assert, assertEquals, errorOf } from "../assert.ts";
export { type Sent, upid } from "./fake_api.ts";

/** Answers a request with `data`, or throws a PveError. Return undefined to fall through to the defaults. */
export type Route = (req: Sent) => unknown;

/** Builds a fake API over `guests`. */
export function fakeContext(opts: {
  guests: GuestRef[];
  /** Guests that exist but that the token cannot see. */
  hidden?: number[];
  route?: Route;
  configs?: Record<number, Record<string, unknown>>;
  nodes?: string[];
  secrets?: Record<string, string>;
}): { ctx: ToolContext; sent: Sent[] } {
  const { api, sent } = contractApi((s) => {
    const custom = opts.route?.(s);
    return { data: custom !== undefined ? custom : defaults(s) };
  });
  function defaults(s: Sent): unknown {
    if (s.method === "GET" && /\/tasks\/.*\/status$/.test(s.path)) return { status: "stopped", exitstatus: "OK" };
    if (s.method === "GET" && /\/tasks\/.*\/log$/.test(s.path)) return [{ n: 1, t: "TASK OK" }];
    if (s.path === "/cluster/nextid") return s.params.vmid === undefined ? 900 : nextid(Number(s.params.vmid));
    if (s.path === "/nodes") return (opts.nodes ?? ["pve1"]).map((node) => ({ node, status: "online" }));
    const cfg = /^\/nodes\/[^/]+\/(qemu|lxc)\/(\d+)\/config$/.exec(s.path);
    if (cfg && s.method === "GET") return { digest: "abc123", ...(opts.configs?.[Number(cfg[2])] ?? {}) };
    if (s.method === "GET") return [];
    const node = /^\/nodes\/([^/]+)/.exec(s.path)?.[1] ?? "pve1";
    return s.method === "PUT" && s.path.endsWith("/config") ? null : upid(node, "task", 100);
  }
  // PVE's answer: the vmid when free, else 400 "VM N already exists" (for guests the token cannot see too).
  function nextid(vmid: number): number {
    if (!opts.guests.some((g) => g.vmid === vmid) && !opts.hidden?.includes(vmid)) return vmid;
    throw new PveError("invalid", `400 GET /cluster/nextid: vmid: VM ${vmid} already exists`, {
      status: 400,
      errors: { vmid: `VM ${vmid} already exists` },
    });
  }
  const { ctx } = toolContext(api, { guests: opts.guests, ...(opts.hidden ? { hidden: opts.hidden } : {}) });
  if (opts.secrets) {
    const store = opts.secrets;
    const missing = (name: string) => new SecretStoreError("not_found", `No secret named "${name}" in the store`);
    const get = (
      name: string,
    ) => (name in store ? Promise.resolve(store[name] as string) : Promise.reject(missing(name)));
    const fakeStore: SecretStore = {
      path: "/fake/secrets.json",
      get,
      has: (name) => Promise.resolve(name in store),
      info: () => Promise.resolve(undefined),
      set: () => Promise.reject(new Error("the fake store is read-only")),
      list: () => Promise.resolve([]),
      rm: () => Promise.resolve(false),
      touchLastUsed: () => Promise.resolve(),
    };
    ctx.secrets = fakeStore;
    // The pipeline clears references before a handler runs (tests/server cover that); here every name is cleared.
    ctx.resolveSecret = (_field, ref) => get(ref.slice("secret://".length));
  }
  return { ctx, sent };
}

/** A guest ref for tests. */
export function guest(
  vmid: number,
  type: "qemu" | "lxc",
  extra: Partial<GuestRef> = {},
): GuestRef {
  return { vmid, type, node: "pve1", name: `g${vmid}`, status: "stopped", template: false, tags: [], ...extra };
}
