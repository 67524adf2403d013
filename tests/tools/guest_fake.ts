/**
 * A small in-memory PveApi and ToolContext for unit tests of the guest tools: every request is checked against the
 * endpoint contract (as PVE would) and recorded; answers come from a route function. Tasks finish at once with OK.
 */
import { checkRequest } from "../../src/pve/contract.ts";
import { encodeParams } from "../../src/pve/encode.ts";
import type { GuestRef } from "../../src/pve/guests.ts";
import { type PveApi, PveError, type PveRequest, type PveResult } from "../../src/pve/types.ts";
import type { ToolContext } from "../../src/tools/registry.ts";
import { type SecretStore, SecretStoreError } from "../../src/secrets/store.ts";

/** A request as sent on the wire: method, path and form/query values as strings. */
export interface Sent {
  method: string;
  path: string;
  params: Record<string, string>;
}

/** Answers a request with `data`, or throws a PveError. Return undefined to fall through to the defaults. */
export type Route = (req: Sent) => unknown;

export function upid(node: string, type: string, id: string | number): string {
  return `UPID:${node}:0000AB12:0012D687:6700A0B1:${type}:${id}:root@pam!mcp:`;
}

/** Builds a fake API over `guests`. */
export function fakeContext(opts: {
  guests: GuestRef[];
  route?: Route;
  configs?: Record<number, Record<string, unknown>>;
  nodes?: string[];
  secrets?: Record<string, string>;
}): { ctx: ToolContext; sent: Sent[] } {
  const sent: Sent[] = [];
  const api: PveApi = {
    host: "fake:8006",
    request<T>(req: PveRequest): Promise<PveResult<T>> {
      const params: Record<string, string> = {};
      for (const [k, v] of encodeParams(req.params)) params[k] = v;
      const path = decodeURIComponent(req.path);
      const check = checkRequest(req.method, req.path, params);
      if (Object.keys(check.errors).length) {
        return Promise.reject(
          new PveError("invalid", `400 ${req.method} ${path}: ${JSON.stringify(check.errors)}`, {
            status: 400,
            errors: check.errors,
          }),
        );
      }
      const s: Sent = { method: req.method, path, params };
      sent.push(s);
      try {
        const custom = opts.route?.(s);
        if (custom !== undefined) return Promise.resolve({ data: custom as T });
        return Promise.resolve({ data: defaults(s) as T });
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };
  function defaults(s: Sent): unknown {
    if (s.method === "GET" && /\/tasks\/.*\/status$/.test(s.path)) return { status: "stopped", exitstatus: "OK" };
    if (s.method === "GET" && /\/tasks\/.*\/log$/.test(s.path)) return [{ n: 1, t: "TASK OK" }];
    if (s.path === "/cluster/nextid") return 900;
    if (s.path === "/nodes") return (opts.nodes ?? ["pve1"]).map((node) => ({ node, status: "online" }));
    const cfg = /^\/nodes\/[^/]+\/(qemu|lxc)\/(\d+)\/config$/.exec(s.path);
    if (cfg && s.method === "GET") return { digest: "abc123", ...(opts.configs?.[Number(cfg[2])] ?? {}) };
    if (s.method === "GET") return [];
    const node = /^\/nodes\/([^/]+)/.exec(s.path)?.[1] ?? "pve1";
    return s.method === "PUT" && s.path.endsWith("/config") ? null : upid(node, "task", 100);
  }
  const ctx: ToolContext & { secrets?: SecretStore } = {
    pve: api,
    pveWrite: api,
    cluster: "default",
    resolveGuest(vmid) {
      const g = opts.guests.find((x) => x.vmid === vmid);
      if (!g) return Promise.reject(new PveError("not_found", `Guest ${vmid} does not exist in the cluster`));
      return Promise.resolve(g);
    },
    signal: new AbortController().signal,
    principal: { id: "test", transport: "stdio" },
    progress: () => Promise.resolve(),
    noteTask: () => {},
    maxTaskWaitMs: 5_000,
  };
  if (opts.secrets) {
    const store = opts.secrets;
    const missing = (name: string) => new SecretStoreError("not_found", `No secret named "${name}" in the store`);
    const fakeStore: SecretStore = {
      path: "/fake/secrets.json",
      get: (name) => (name in store ? Promise.resolve(store[name] as string) : Promise.reject(missing(name))),
      has: (name) => Promise.resolve(name in store),
      set: () => Promise.reject(new Error("the fake store is read-only")),
      list: () => Promise.resolve([]),
      rm: () => Promise.resolve(false),
      touchLastUsed: () => Promise.resolve(),
    };
    ctx.secrets = fakeStore;
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

export function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

export function assertEquals(actual: unknown, expected: unknown, msg = ""): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${msg}\nexpected: ${e}\nactual:   ${a}`);
}

/** Runs `fn` and returns the error message it throws (fails when it does not throw). */
export async function errorOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error, got none");
}
