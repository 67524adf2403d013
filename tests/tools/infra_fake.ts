/**
 * Unit-test double for the infrastructure tools: a PveApi whose every request is checked against the endpoint
 * contract (as PVE would) and recorded, answering from a route table keyed by `METHOD /decoded/path`.
 */
import { checkRequest } from "../../src/pve/contract.ts";
import { encodeParams } from "../../src/pve/encode.ts";
import type { GuestRef } from "../../src/pve/guests.ts";
import { type PveApi, PveError, type PveRequest, type PveResult } from "../../src/pve/types.ts";
import type { ProgressUpdate, ToolContext } from "../../src/tools/registry.ts";
import type { InfoOutT } from "../../src/tools/infra_common.ts";

/** A request as sent: method, decoded path and wire parameters. */
export interface Sent {
  method: string;
  path: string;
  params: Record<string, string>;
}

/** An answer: data, `{data, total}` via {@linkcode withTotal}, or a function of the request. Throw to fail. */
export type Answer = unknown | ((s: Sent) => unknown);

const TOTAL = Symbol("total");
/** An answer with a `total` next to `data`. */
export function withTotal(data: unknown, total: number): unknown {
  return { [TOTAL]: total, data };
}

/** A fake context over `routes` (`"GET /nodes/pve1/status": {...}`). Unknown routes answer 501 like PVE. */
export function fakeInfra(routes: Record<string, Answer>, opts: { guests?: GuestRef[]; maxTaskWaitMs?: number } = {}) {
  const sent: Sent[] = [];
  const progress: ProgressUpdate[] = [];
  const tasks: string[] = [];
  const api: PveApi = {
    host: "fake:8006",
    request<T>(req: PveRequest): Promise<PveResult<T>> {
      const params: Record<string, string> = {};
      for (const [k, v] of encodeParams(req.params)) params[k] = v;
      const check = checkRequest(req.method, req.path, params);
      const path = req.path.split("/").map(decodeURIComponent).join("/");
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
      const key = `${req.method} ${path}`;
      if (!(key in routes)) {
        return Promise.reject(new PveError("not_implemented", `Method '${key}' not implemented`, { status: 501 }));
      }
      try {
        const a = routes[key];
        const out = typeof a === "function" ? (a as (s: Sent) => unknown)(s) : a;
        if (out && typeof out === "object" && TOTAL in out) {
          const o = out as { [TOTAL]: number; data: T };
          return Promise.resolve({ data: o.data, total: o[TOTAL] });
        }
        return Promise.resolve({ data: structuredClone(out) as T });
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };
  const ctx: ToolContext = {
    pve: api,
    pveWrite: api,
    cluster: "default",
    resolveGuest(vmid) {
      const g = (opts.guests ?? []).find((x) => x.vmid === vmid);
      if (!g) return Promise.reject(new PveError("not_found", `Guest ${vmid} does not exist in the cluster`));
      return Promise.resolve(g);
    },
    signal: new AbortController().signal,
    principal: { id: "test", transport: "stdio" },
    progress: (u) => {
      progress.push(u);
      return Promise.resolve();
    },
    noteTask: (u) => void tasks.push(u),
    maxTaskWaitMs: opts.maxTaskWaitMs ?? 5_000,
  };
  return { ctx, sent, progress, tasks };
}

/** A guest ref for tests. */
export function guest(vmid: number, type: "qemu" | "lxc", extra: Partial<GuestRef> = {}): GuestRef {
  return { vmid, type, node: "pve1", name: `g${vmid}`, status: "running", template: false, tags: [], ...extra };
}

/** A UPID on `node`. */
export function upid(node: string, type: string, id: string | number = ""): string {
  return `UPID:${node}:0000AB12:0012D687:6700A0B1:${type}:${id}:root@pam!mcp:`;
}

export function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

export function assertEquals(actual: unknown, expected: unknown, msg = ""): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${msg}\nexpected: ${e}\nactual:   ${a}`);
}

/** The message of the error `fn` throws (fails when it does not throw). */
export async function errorOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error, got none");
}

/** A string full of characters untrusted text must lose (controls, zero-width, bidi, tag characters). */
export const HOSTILE = "ok\u0000\u001b[31m\u200b\u202eevil\u2066\u{E0041}\u{E0069}end";

/** Parses `args` with the tool's input schema (defaults applied) and runs its handler; the result typed as `T`. */
export async function callTool<T = InfoOutT>(
  def: { input: { parse(v: unknown): unknown }; handler: (args: never, ctx: ToolContext) => Promise<unknown> },
  args: Record<string, unknown>,
  ctx: ToolContext,
): Promise<T> {
  return await def.handler(def.input.parse(args) as never, ctx) as T;
}
