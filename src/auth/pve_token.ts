/**
 * PVE-token mode (opt-in): a client authenticates with its own Proxmox VE API token
 * (`Authorization: PVEAPIToken=USER@REALM!ID=SECRET`); the server checks it against PVE (`GET /version`,
 * `GET /access/permissions`), caches the answer briefly, and uses that token for the client's PVE calls so PVE's own
 * permissions apply. Only the token id is ever logged or audited, never the secret.
 * @module
 */
import { type Principal } from "../core/mod.ts";
import { createHash } from "node:crypto";
import { log } from "../log.ts";
import { type PveApi, PveError } from "../pve/types.ts";

/** A PVE API token as presented by a client. */
export interface PveTokenCredential {
  /** `USER@REALM!TOKENID`. */
  tokenId: string;
  secret: string;
}

const TOKEN_ID_RE = /^[^\s@!=:;,]{1,64}@[A-Za-z0-9._-]{1,32}![A-Za-z][A-Za-z0-9._-]{0,63}$/;

/**
 * Parses an `Authorization` value the way PVE does: `PVEAPIToken=ID=SECRET` or `PVEAPIToken ID=SECRET`, URL-unescaped,
 * split at the last `=`. Returns undefined when it is not a PVE token or the id is malformed.
 */
export function parsePveTokenHeader(header: string): PveTokenCredential | undefined {
  const m = /^PVEAPIToken(?:=|\s+)(.+)$/i.exec(header.trim());
  if (m?.[1] === undefined) return undefined;
  let value: string;
  try {
    value = decodeURIComponent(m[1].trim());
  } catch {
    return undefined;
  }
  const at = value.lastIndexOf("=");
  if (at <= 0 || at === value.length - 1) return undefined;
  const tokenId = value.slice(0, at);
  const secret = value.slice(at + 1);
  if (!TOKEN_ID_RE.test(tokenId) || secret.length > 256 || /\s/.test(secret)) return undefined;
  return { tokenId, secret };
}

/** Who a verified PVE token is. */
export interface PveTokenIdentity {
  tokenId: string;
  /** A client that sends this token on every PVE call. */
  api: PveApi;
  /** `/access/permissions`: privileges by ACL path. */
  permissions: Record<string, Record<string, number>>;
  principal: Principal;
}

/** Outcome of {@linkcode PveTokenVerifier.verify}. */
export type PveTokenCheck =
  | { ok: true; identity: PveTokenIdentity }
  | { ok: false; status: 401 | 403 | 503; reason: string };

/** Options of {@linkcode PveTokenVerifier}. */
export interface PveTokenVerifierOptions {
  /** Makes a PVE client for a token (the configured default cluster's host and TLS settings). */
  connect: (cred: PveTokenCredential) => PveApi & { close?: () => void };
  /** How long a verified token is trusted without asking PVE again. Default 60 s. */
  cacheMs?: number;
  /** How long a rejected token stays rejected without asking PVE again. Default 10 s. */
  negativeCacheMs?: number;
  /** Most tokens cached at once. Default 1000. */
  maxEntries?: number;
  now?: () => number;
}

type Entry = { until: number; result: PveTokenCheck; close?: () => void };

/** Verifies PVE tokens against PVE with a short cache; concurrent checks of one token share one round trip. */
export class PveTokenVerifier {
  readonly #cache = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<PveTokenCheck>>();
  readonly #now: () => number;

  constructor(readonly opts: PveTokenVerifierOptions) {
    this.#now = opts.now ?? Date.now;
  }

  #key(cred: PveTokenCredential): string {
    return createHash("sha256").update(`${cred.tokenId}\0${cred.secret}`).digest("hex");
  }

  /** Checks a token (cached). */
  verify(cred: PveTokenCredential): Promise<PveTokenCheck> {
    const key = this.#key(cred);
    const now = this.#now();
    const hit = this.#cache.get(key);
    if (hit !== undefined && hit.until > now) return Promise.resolve(hit.result);
    if (hit !== undefined) this.#drop(key);
    const pending = this.#pending.get(key);
    if (pending !== undefined) return pending;
    const run = this.#check(cred, key).finally(() => this.#pending.delete(key));
    this.#pending.set(key, run);
    return run;
  }

  #drop(key: string): void {
    const e = this.#cache.get(key);
    this.#cache.delete(key);
    e?.close?.();
  }

  #store(key: string, entry: Entry): void {
    const max = this.opts.maxEntries ?? 1000;
    while (this.#cache.size >= max) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#drop(oldest);
    }
    this.#cache.set(key, entry);
  }

  async #check(cred: PveTokenCredential, key: string): Promise<PveTokenCheck> {
    const api = this.opts.connect(cred);
    const now = this.#now();
    const negative = (result: PveTokenCheck): PveTokenCheck => {
      api.close?.();
      this.#store(key, { until: now + (this.opts.negativeCacheMs ?? 10_000), result });
      return result;
    };
    try {
      await api.request({ method: "GET", path: "/version" });
      const perms = await api.request<Record<string, Record<string, number>>>({
        method: "GET",
        path: "/access/permissions",
      });
      const permissions = perms.data ?? {};
      if (Object.keys(permissions).length === 0) {
        return negative({
          ok: false,
          status: 403,
          reason: `PVE token ${cred.tokenId} has no privileges on any path; grant it a role on PVE`,
        });
      }
      const result: PveTokenCheck = {
        ok: true,
        identity: {
          tokenId: cred.tokenId,
          api,
          permissions,
          principal: { id: `pve:${cred.tokenId}`, transport: "http" },
        },
      };
      this.#store(key, {
        until: now + (this.opts.cacheMs ?? 60_000),
        result,
        ...(api.close !== undefined && { close: () => api.close?.() }),
      });
      return result;
    } catch (err) {
      if (err instanceof PveError && (err.kind === "auth" || err.kind === "permission")) {
        return negative({ ok: false, status: 401, reason: `PVE rejected token ${cred.tokenId}` });
      }
      api.close?.();
      log("auth").warning("Cannot check PVE token {tokenId}: {error}", {
        tokenId: cred.tokenId,
        error: err instanceof Error ? err.message : String(err),
      });
      return { ok: false, status: 503, reason: `Cannot check PVE token ${cred.tokenId}: PVE did not answer` };
    }
  }

  /** Forgets every cached answer and closes cached clients. */
  clear(): void {
    for (const key of [...this.#cache.keys()]) this.#drop(key);
  }
}
