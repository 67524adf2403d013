/**
 * The shape of an HTTP guard: a small check that either answers the request (403, 401, 429, …) or lets it pass,
 * and the shared helpers guards use (JSON-RPC error bodies, audit sampling).
 * @module
 */
import { type Principal } from "../../core/mod.ts";
import type { AuditEntry, AuditWriter } from "../../audit/types.ts";
import type { PveApi } from "../../pve/types.ts";

/** What guards learn about a request as it passes them. */
export interface HttpRequestContext {
  /** TCP peer address. */
  peer: string;
  /** Client address: the peer, or the client behind trusted proxies (from `X-Forwarded-For`). */
  client: string;
  /** Set by the authentication guard. */
  principal?: Principal;
  /** Credential label for logs (`device:laptop`, `pve:ops@pve!mcp`) and the per-client PVE client in PVE-token mode. */
  auth?: { label: string; pve?: PveApi };
}

/** A guard answers with a Response to stop the request, or undefined to let it pass. */
export type Guard = (req: Request, ctx: HttpRequestContext) => Response | undefined | Promise<Response | undefined>;

/** Runs guards in order; the first answer wins. */
export async function runGuards(
  guards: readonly Guard[],
  req: Request,
  ctx: HttpRequestContext,
): Promise<Response | undefined> {
  for (const g of guards) {
    const answer = await g(req, ctx);
    if (answer !== undefined) return answer;
  }
  return undefined;
}

/** A JSON-RPC error response (`id: null` unless given) with an HTTP status, as MCP clients expect from the transport. */
export function jsonRpcError(
  status: number,
  message: string,
  headers: Record<string, string> = {},
  code = -32000,
  id: string | number | null = null,
): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/**
 * Audits perimeter refusals without letting a flood flood the log: the first refusal per (client, reason) is
 * written, then at most one per `everyMs` carrying how many were refused in between.
 */
export class AuditSampler {
  readonly #last = new Map<string, { at: number; skipped: number }>();
  constructor(
    readonly audit: AuditWriter | undefined,
    readonly now: () => number = Date.now,
    readonly everyMs = 60_000,
    readonly maxKeys = 10_000,
  ) {}

  /** Writes (or counts) a refusal. Never throws. */
  refuse(client: string, reason: string, extra: Partial<AuditEntry> = {}): void {
    if (this.audit === undefined) return;
    const key = `${client}\0${reason}`;
    const now = this.now();
    const seen = this.#last.get(key);
    if (seen !== undefined && now - seen.at < this.everyMs) {
      seen.skipped++;
      return;
    }
    if (this.#last.size >= this.maxKeys) this.#last.clear();
    this.#last.set(key, { at: now, skipped: 0 });
    const note = seen !== undefined && seen.skipped > 0 ? ` (${seen.skipped} more refused since the last record)` : "";
    this.audit.write({
      phase: "auth",
      principal: "anonymous",
      transport: "http",
      decision: "denied",
      reason: `${reason}${note}`,
      remote: client,
      ...extra,
    }).catch(() => {});
  }
}
