/**
 * Guard 2: only clients from allowed networks (CIDRs, IPv4 and IPv6). The client address already accounts for
 * trusted proxies; an empty allowlist refuses everyone.
 * @module
 */
import type { NetworkList } from "./cidr.ts";
import { type AuditSampler, type Guard, jsonRpcError } from "./guard.ts";

/** Answers 403 when the client address is outside every allowed network. */
export function networkGuard(opts: { allow: NetworkList; sampler?: AuditSampler }): Guard {
  return (_req, ctx) => {
    if (opts.allow.contains(ctx.client)) return undefined;
    opts.sampler?.refuse(ctx.client, "client network not allowed");
    return jsonRpcError(403, "Forbidden: your network is not allowed to use this server (http.allowNetworks)");
  };
}
