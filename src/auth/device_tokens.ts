/**
 * Device tokens for the HTTP transport: 256-bit random bearer tokens (`pvemcp_…`) shown once, stored only as
 * SHA-256 hashes with metadata (created, expires, last used, mode and toolset caps) in a 0600 JSON file.
 * @module
 */
import { randomBase64Url } from "../crypto/encoding.ts";
import { type Mode, MODES, type Principal } from "../core/mod.ts";
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import { log } from "../log.ts";
import { LockedJsonFile } from "./json_file.ts";

/** One registration request as stored (no secret in it). */
export interface RegistrationRequest {
  id: string;
  /** Short code shown on the device and to the operator, to match the two. */
  code: string;
  name: string;
  created: string;
  /** A pending request, or an approved token not fetched, is dropped after this time. */
  expires: string;
  status: "pending" | "approved" | "denied";
  remote?: string;
  /** What the device asked for (the operator decides). */
  requestedMode?: Mode;
  /** SHA-256 of the poll secret, hex. */
  pollHash: string;
  /** SHA-256 of the token that approval activates, hex. */
  tokenHash: string;
  /** iv.ciphertext.tag of the token, base64url, under SHA-256(poll secret); deleted once fetched. */
  sealed?: string;
  decided?: string;
}

/** Prefix of every device token, so scanners and redaction recognise them. */
export const TOKEN_PREFIX = "pvemcp_";
const TOKEN_RE = /^pvemcp_[A-Za-z0-9_-]{43}$/;
/** Allowed device names. */
export const DEVICE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const LAST_USED_EVERY_MS = 60_000;

/** One stored token: never the token itself. */
export interface DeviceToken {
  /** Short random id (for revocation by id and for logs). */
  id: string;
  name: string;
  /** SHA-256 of the token, hex. */
  hash: string;
  created: string;
  expires?: string;
  lastUsed?: string;
  /** Mode cap: the client never gets more than this, whatever the server mode. */
  mode?: Mode;
  /** Toolset cap. */
  toolsets?: string[];
  revoked?: string;
  /** How it was made. */
  source: "cli" | "registration" | "admin";
}

/** What list/verify return: everything but the hash. */
export type DeviceTokenInfo = Omit<DeviceToken, "hash">;

/** Content of the tokens file. */
export interface TokenFileData {
  version: 1;
  tokens: DeviceToken[];
  requests: RegistrationRequest[];
}

/** Result of {@linkcode DeviceTokenStore.verify}. */
export type TokenCheck =
  | { ok: true; token: DeviceTokenInfo }
  | { ok: false; reason: "malformed" | "unknown" | "expired" | "revoked"; name?: string };

/** Options of {@linkcode DeviceTokenStore.add}. */
export interface AddTokenOptions {
  name: string;
  expiresInMs?: number;
  mode?: Mode;
  toolsets?: string[];
  source?: DeviceToken["source"];
}

/** A new token: `pvemcp_` + 256 random bits, base64url. */
export function generateDeviceToken(): string {
  return TOKEN_PREFIX + randomBase64Url(32);
}

/** SHA-256 of a token, hex. */
export function hashDeviceToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

function parseFile(value: unknown, path: string): TokenFileData {
  const v = value as Partial<TokenFileData> | null;
  if (typeof v !== "object" || v === null || v.version !== 1 || !Array.isArray(v.tokens)) {
    throw new Error(`Cannot read tokens file ${path}: expected {"version": 1, "tokens": [...]}`);
  }
  for (const t of v.tokens) {
    if (typeof t?.name !== "string" || typeof t.hash !== "string" || !/^[0-9a-f]{64}$/.test(t.hash)) {
      throw new Error(`Cannot read tokens file ${path}: an entry lacks a name or a SHA-256 hash`);
    }
  }
  return { version: 1, tokens: v.tokens, requests: Array.isArray(v.requests) ? v.requests : [] };
}

function info(t: DeviceToken): DeviceTokenInfo {
  const { hash: _hash, ...rest } = t;
  return rest;
}

/** Checks a device name; throws a std-style error. */
export function checkDeviceName(name: string): void {
  if (!DEVICE_NAME_RE.test(name)) {
    throw new RangeError(
      `Invalid device name "${
        name.slice(0, 80)
      }": use 1-64 letters, digits, dot, dash or underscore, starting with a letter or digit`,
    );
  }
}

/** The store of device tokens (and, in the same file, pending registration requests). */
export class DeviceTokenStore {
  readonly file: LockedJsonFile<TokenFileData>;
  readonly now: () => number;
  readonly #lastUsedWritten = new Map<string, number>();

  constructor(opts: { path: string; now?: () => number }) {
    this.file = new LockedJsonFile<TokenFileData>({
      path: opts.path,
      empty: () => ({ version: 1, tokens: [], requests: [] }),
      parse: parseFile,
    });
    this.now = opts.now ?? Date.now;
  }

  /** Path of the tokens file. */
  get path(): string {
    return this.file.path;
  }

  /**
   * Creates a token and returns it with its metadata. The token is returned only here: show it once.
   * Throws when the name is invalid or an active token already has it.
   */
  async add(opts: AddTokenOptions): Promise<{ token: string; info: DeviceTokenInfo }> {
    const token = generateDeviceToken();
    const entry = await this.addHashed({ ...opts, hash: hashDeviceToken(token) });
    return { token, info: entry };
  }

  /** Stores an already-hashed token (registration). */
  async addHashed(opts: AddTokenOptions & { hash: string }): Promise<DeviceTokenInfo> {
    checkDeviceName(opts.name);
    if (opts.mode !== undefined && !MODES.includes(opts.mode)) {
      throw new RangeError(`Invalid mode "${opts.mode}": use one of ${MODES.join(", ")}`);
    }
    const now = this.now();
    return await this.file.update((data) => {
      if (data.tokens.some((t) => t.name === opts.name && t.revoked === undefined && !this.#expired(t, now))) {
        throw new Error(
          `Cannot add token "${opts.name}": an active token has that name; revoke it first or pick another name`,
        );
      }
      const entry: DeviceToken = {
        id: randomBase64Url(6),
        name: opts.name,
        hash: opts.hash,
        created: new Date(now).toISOString(),
        ...(opts.expiresInMs !== undefined && { expires: new Date(now + opts.expiresInMs).toISOString() }),
        ...(opts.mode !== undefined && { mode: opts.mode }),
        ...(opts.toolsets !== undefined && { toolsets: [...opts.toolsets] }),
        source: opts.source ?? "cli",
      };
      data.tokens.push(entry);
      return info(entry);
    });
  }

  /** All tokens (without hashes), revoked and expired ones included. */
  async list(): Promise<DeviceTokenInfo[]> {
    return (await this.file.read()).tokens.map(info);
  }

  /** Revokes the active token with this name or id; throws when there is none. */
  async revoke(nameOrId: string): Promise<DeviceTokenInfo> {
    const now = this.now();
    return await this.file.update((data) => {
      const t = data.tokens.find((x) => (x.name === nameOrId || x.id === nameOrId) && x.revoked === undefined);
      if (t === undefined) {
        throw new Error(`Cannot revoke "${nameOrId}": no active token has that name or id (see \`tokens list\`)`);
      }
      t.revoked = new Date(now).toISOString();
      return info(t);
    });
  }

  /** Waits for background writes (last-use updates) to finish; call before removing the file's directory. */
  flush(): Promise<void> {
    return this.file.idle();
  }

  #expired(t: DeviceToken, now: number): boolean {
    return t.expires !== undefined && Date.parse(t.expires) <= now;
  }

  /**
   * Checks a presented token: constant-time comparison of SHA-256 digests against every stored hash. Records the
   * last use (written at most once a minute per token).
   */
  async verify(presented: string): Promise<TokenCheck> {
    if (!TOKEN_RE.test(presented)) return { ok: false, reason: "malformed" };
    const digest = Buffer.from(hashDeviceToken(presented), "hex");
    const data = await this.file.read();
    let match: DeviceToken | undefined;
    for (const t of data.tokens) {
      if (timingSafeEqual(digest, Buffer.from(t.hash, "hex"))) match = t;
    }
    if (match === undefined) return { ok: false, reason: "unknown" };
    if (match.revoked !== undefined) return { ok: false, reason: "revoked", name: match.name };
    const now = this.now();
    if (this.#expired(match, now)) return { ok: false, reason: "expired", name: match.name };
    this.#touch(match.id, now);
    return { ok: true, token: info(match) };
  }

  #touch(id: string, now: number): void {
    const last = this.#lastUsedWritten.get(id);
    if (last !== undefined && now - last < LAST_USED_EVERY_MS) return;
    this.#lastUsedWritten.set(id, now);
    this.file.update((data) => {
      const t = data.tokens.find((x) => x.id === id);
      if (t !== undefined) t.lastUsed = new Date(now).toISOString();
      return t !== undefined;
    }, { write: (changed) => changed }).catch((err) => {
      log("auth").warning("Cannot record last use of a device token: {error}", { error: (err as Error).message });
    });
  }
}

/** The principal of a device token: id `device:NAME`, with the token's mode and toolset caps. */
export function principalForDevice(token: DeviceTokenInfo): Principal {
  return {
    id: `device:${token.name}`,
    transport: "http",
    ...(token.mode !== undefined && { mode: token.mode }),
    ...(token.toolsets !== undefined && { toolsets: token.toolsets }),
  };
}

/** Default tokens file: `$XDG_CONFIG_HOME/pve-mcp/tokens.json` (or `~/.config/pve-mcp/tokens.json`). */
export function defaultTokensFile(env: Readonly<Record<string, string | undefined>> = Deno.env.toObject()): string {
  const base = env.XDG_CONFIG_HOME ?? `${env.HOME ?? "."}/.config`;
  return `${base}/pve-mcp/tokens.json`;
}
