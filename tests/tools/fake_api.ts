/**
 * The core of the tool unit tests' doubles (guest_fake.ts, infra_fake.ts): a PveApi that checks every request against
 * the endpoint contract (400 like PVE on a bad one) and records it, and a ToolContext over it.
 */
import { type GuestRef, type ProgressUpdate } from "../../src/core/mod.ts";
import { checkRequest } from "../../src/pve/contract.ts";
import { encodeParams } from "../../src/pve/encode.ts";
import type { VmResource } from "../../src/pve/guests.ts";
import { type PveApi, PveError, type PveRequest, type PveResult } from "../../src/pve/types.ts";
import type { ToolContext } from "../../src/tools/registry.ts";

/** A request as sent on the wire: method, decoded path and form/query values as strings. */
export interface Sent {
  method: string;
  path: string;
  params: Record<string, string>;
}

/**
 * A PveApi that validates each request against the contract, records the valid ones in `sent`, and answers with
 * `answer(sent)`; throw from `answer` to fail the request.
 */
export function contractApi(answer: (s: Sent) => PveResult<unknown>): { api: PveApi; sent: Sent[] } {
  const sent: Sent[] = [];
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
      try {
        return Promise.resolve(answer(s) as PveResult<T>);
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };
  return { api, sent };
}

/**
 * A ToolContext over `api` (reads and writes alike) that records progress updates and noted tasks. `guests` are
 * visible to the token; `hidden` vmids exist but are not (resolving them fails with `not_visible`, as GuestResolver does).
 */
export function toolContext(
  api: PveApi,
  opts: { guests?: GuestRef[]; hidden?: number[]; maxTaskWaitMs?: number } = {},
): { ctx: ToolContext; progress: ProgressUpdate[]; tasks: string[] } {
  const progress: ProgressUpdate[] = [];
  const tasks: string[] = [];
  const ctx: ToolContext = {
    pve: api,
    pveWrite: api,
    cluster: "default",
    resolveGuest(vmid) {
      const g = (opts.guests ?? []).find((x) => x.vmid === vmid);
      if (opts.hidden?.includes(vmid)) {
        return Promise.reject(new PveError("not_visible", `Guest ${vmid} exists but is not visible to this token`));
      }
      if (!g) return Promise.reject(new PveError("not_found", `Guest ${vmid} does not exist in the cluster`));
      return Promise.resolve(g);
    },
    listGuests: async () => {
      const { data } = await api.request<VmResource[]>({
        method: "GET",
        path: "/cluster/resources",
        params: { type: "vm" },
      });
      return { id: "0000000a", at: 0, rows: data ?? [] };
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
  return { ctx, progress, tasks };
}

/** A UPID on `node`. */
export function upid(node: string, type: string, id: string | number = ""): string {
  return `UPID:${node}:0000AB12:0012D687:6700A0B1:${type}:${id}:root@pam!mcp:`;
}
