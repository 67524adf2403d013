/**
 * The PVE clients a handler gets: reads with the read credential (and only reads), changes with the write credential,
 * every request recorded for the audit log; plans get a client that cannot write.
 * @module
 */
import type { PveCallRecord } from "../core/mod.ts";
import { type PveApi, PveError, type PveRequest, type PveResult } from "../pve/types.ts";
import type { ToolDef } from "../tools/registry.ts";
import type { ClusterHandle } from "./app.ts";

/** A client that refuses every request (plans must only read), with the write credential's host and auth kind. */
export function noWrites(api: PveApi): PveApi {
  return {
    host: api.host,
    ...("authKind" in api ? { authKind: (api as { authKind?: unknown }).authKind } : {}),
    request: () => Promise.reject(new TypeError("internal error: a change plan tried to write to the cluster")),
  };
}

/** A PveApi wrapper that remembers which calls a tool made (for the audit record). */
function recording(api: PveApi, calls: PveCallRecord[]): PveApi {
  return {
    host: api.host,
    // How the credential authenticates ("token" | "ticket"), when the client says (pve_api checks allowtoken).
    ...("authKind" in api ? { authKind: (api as { authKind?: unknown }).authKind } : {}),
    async request<T>(req: PveRequest): Promise<PveResult<T>> {
      try {
        const res = await api.request<T>(req);
        calls.push({ method: req.method, path: req.path, status: 200 });
        return res;
      } catch (e) {
        calls.push({ method: req.method, path: req.path, status: e instanceof PveError ? e.details.status ?? 0 : 0 });
        throw e;
      }
    },
  };
}

/**
 * The two clients a handler gets. Reads always use the read credential: the read client refuses anything but GET
 * (a tool bug, surfaced as an internal error), and GETs sent through the write client go to the read credential.
 * Changes use the write credential (the read one when no separate write credential is configured).
 */
export function credentials(
  def: ToolDef,
  cluster: ClusterHandle,
  calls: PveCallRecord[],
): { read: PveApi; write: PveApi } {
  const reads = recording(cluster.read, calls);
  const changes = recording(cluster.write, calls);
  const read: PveApi = {
    ...reads,
    request<T>(req: PveRequest): Promise<PveResult<T>> {
      if (req.method !== "GET") {
        return Promise.reject(
          new Error(`${def.name} sent ${req.method} ${req.path} with the read credential; changes must use pveWrite`),
        );
      }
      return reads.request<T>(req);
    },
  };
  const write: PveApi = {
    ...changes,
    request: <T>(req: PveRequest) => req.method === "GET" ? reads.request<T>(req) : changes.request<T>(req),
  };
  return { read, write };
}
