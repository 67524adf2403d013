/**
 * Unit-test double for the infrastructure tools: a PveApi whose every request is checked against the endpoint
 * contract (as PVE would) and recorded, answering from a route table keyed by `METHOD /decoded/path`.
 */
import { type GuestRef } from "../../src/core/mod.ts";
import { PveError } from "../../src/pve/types.ts";
import type { ToolContext } from "../../src/tools/registry.ts";
import type { InfoOutT } from "../../src/tools/infra_common.ts";
import { contractApi, type Sent, toolContext } from "./fake_api.ts";

import { cleanDeep, type TextCaps } from "../../src/guard/untrusted.ts";
export { assert, assertEquals, errorOf } from "../assert.ts";
export { type Sent, upid } from "./fake_api.ts";

/** An answer: data, `{data, total}` via {@linkcode withTotal}, or a function of the request. Throw to fail. */
export type Answer = unknown | ((s: Sent) => unknown);

const TOTAL = Symbol("total");
/** An answer with a `total` next to `data`. */
export function withTotal(data: unknown, total: number): unknown {
  return { [TOTAL]: total, data };
}

/** A fake context over `routes` (`"GET /nodes/pve1/status": {...}`). Unknown routes answer 501 like PVE. */
export function fakeInfra(routes: Record<string, Answer>, opts: { guests?: GuestRef[]; maxTaskWaitMs?: number } = {}) {
  const { api, sent } = contractApi((s) => {
    const key = `${s.method} ${s.path}`;
    if (!(key in routes)) throw new PveError("not_implemented", `Method '${key}' not implemented`, { status: 501 });
    const a = routes[key];
    const out = typeof a === "function" ? (a as (s: Sent) => unknown)(s) : a;
    if (out && typeof out === "object" && TOTAL in out) {
      const o = out as { [TOTAL]: number; data: unknown };
      return { data: o.data, total: o[TOTAL] };
    }
    return { data: structuredClone(out) };
  });
  const { ctx, progress, tasks } = toolContext(api, opts);
  return { ctx, sent, progress, tasks };
}

/** A guest ref for tests. */
export function guest(vmid: number, type: "qemu" | "lxc", extra: Partial<GuestRef> = {}): GuestRef {
  return { vmid, type, node: "pve1", name: `g${vmid}`, status: "running", template: false, tags: [], ...extra };
}

/** A string full of characters untrusted text must lose (controls, zero-width, bidi, tag characters). */
export const HOSTILE = "ok\u0000\u001b[31m\u200b\u202eevil\u2066\u{E0041}\u{E0069}end";

/**
 * Parses `args` with the tool's input schema (defaults applied), runs its handler and sanitises the result as the
 * pipeline does (the one cleaner, with the tool's caps); the result typed as `T`.
 */
export async function callTool<T = InfoOutT>(
  def: {
    input: { parse(v: unknown): unknown };
    handler: (args: never, ctx: ToolContext) => Promise<unknown>;
    textCaps?: TextCaps;
  },
  args: Record<string, unknown>,
  ctx: ToolContext,
): Promise<T> {
  return cleanDeep(await def.handler(def.input.parse(args) as never, ctx), def.textCaps) as T;
}
