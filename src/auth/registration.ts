/**
 * Registration of devices that cannot be handed a token: the device asks (admin port, `POST /register`), the request
 * waits as pending with a short code the operator compares, the operator approves or denies (CLI or admin API), and
 * the device fetches its token once with the poll secret it got when asking.
 *
 * The token is made when the device asks; the server keeps only its hash and the token sealed (AES-256-GCM) under a
 * key derived from the device's poll secret, which only the device knows. Approving activates the hash; fetching
 * opens the seal once and deletes it. No plaintext token is ever written to disk.
 * @module
 */
import { randomBase64Url } from "../crypto/encoding.ts";
import { type Mode, MODES } from "../core/mod.ts";
import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv, createHash, timingSafeEqual } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import {
  checkDeviceName,
  type DeviceTokenInfo,
  type DeviceTokenStore,
  generateDeviceToken,
  hashDeviceToken,
  type RegistrationRequest,
  type TokenFileData,
} from "./device_tokens.ts";

/** A request as shown to operators. */
export type RegistrationView = Omit<RegistrationRequest, "pollHash" | "tokenHash" | "sealed"> & { fetched: boolean };

/** What the device gets back when it asks. */
export interface RegistrationTicket {
  id: string;
  code: string;
  /** Send it back when fetching; shown only once. */
  pollSecret: string;
  expires: string;
}

/** What a device's fetch returns. */
export type FetchOutcome =
  | { status: "pending" | "denied" | "unknown" | "fetched" }
  | { status: "approved"; token: string; mode?: Mode; toolsets?: string[]; expires?: string };

/** Options of {@linkcode Registrations}. */
export interface RegistrationOptions {
  /** Lifetime of a pending request, and of an approved token that was not fetched. Default 15 minutes. */
  ttlMs?: number;
  /** Most pending requests at once (new ones are refused beyond). Default 20. */
  maxPending?: number;
  /** Most pending requests from one address group ({@linkcode addressGroup}). Default 3. */
  maxPendingPerAddress?: number;
}

/**
 * The group a client address counts in for the per-address limit: an IPv4 address itself; an IPv6 address by its /64
 * (one host usually owns a whole /64); every loopback address (127.0.0.0/8, ::1) as one group, since any local process
 * can use any of them. IPv4-mapped IPv6 addresses count as their IPv4 address.
 */
export function addressGroup(remote: string | undefined): string {
  if (remote === undefined) return "unknown";
  let addr = remote.replace(/^\[|\]$/g, "").replace(/%.*$/, "").toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (mapped) addr = mapped[1]!;
  if (isIPv4(addr)) return addr.startsWith("127.") ? "loopback" : addr;
  if (!isIPv6(addr)) return addr;
  const [head = "", tail = ""] = addr.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = addr.includes("::") ? (tail === "" ? [] : tail.split(":")) : [];
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  if (groups.slice(0, 7).every((g) => /^0+$/.test(g)) && /^0*1$/.test(groups[7] ?? "")) return "loopback";
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

const CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

function randomCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  const chars = [...bytes].map((b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join("");
  return `${chars.slice(0, 4)}-${chars.slice(4)}`;
}

function seal(token: string, pollSecret: string): string {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const cipher = createCipheriv("aes-256-gcm", sha256(`pve-mcp registration\0${pollSecret}`), iv);
  const ct = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
  return [Buffer.from(iv), ct, cipher.getAuthTag()].map((b) => b.toString("base64url")).join(".");
}

function unseal(sealed: string, pollSecret: string): string {
  const [iv, ct, tag] = sealed.split(".").map((p) => Buffer.from(p, "base64url"));
  if (iv === undefined || ct === undefined || tag === undefined) throw new Error("Sealed token is malformed");
  const decipher = createDecipheriv("aes-256-gcm", sha256(`pve-mcp registration\0${pollSecret}`), iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ct), decipher.final()]).toString("utf8");
}

function view(r: RegistrationRequest): RegistrationView {
  const { pollHash: _p, tokenHash: _t, sealed, ...rest } = r;
  return { ...rest, fetched: r.status === "approved" && sealed === undefined };
}

/** The registration flow on top of a {@linkcode DeviceTokenStore} (same file, same lock). */
export class Registrations {
  readonly #ttl: number;
  readonly #maxPending: number;
  readonly #maxPerAddress: number;

  constructor(readonly store: DeviceTokenStore, opts: RegistrationOptions = {}) {
    this.#ttl = opts.ttlMs ?? 15 * 60_000;
    this.#maxPending = opts.maxPending ?? 20;
    this.#maxPerAddress = opts.maxPendingPerAddress ?? 3;
  }

  /**
   * Drops expired requests. An approved token that was never fetched by then is revoked: nobody can know it.
   */
  #prune(data: TokenFileData, now: number): RegistrationRequest[] {
    const keep: RegistrationRequest[] = [];
    for (const r of data.requests) {
      if (Date.parse(r.expires) > now) {
        keep.push(r);
        continue;
      }
      if (r.status === "approved" && r.sealed !== undefined) {
        const t = data.tokens.find((x) => x.hash === r.tokenHash && x.revoked === undefined);
        if (t !== undefined) t.revoked = new Date(now).toISOString();
      }
    }
    data.requests = keep;
    return keep;
  }

  /**
   * A device asks for a token. Throws when the name is invalid, or too many requests are pending: from the same
   * address group, or in all.
   */
  async request(opts: { name: string; remote?: string; mode?: Mode }): Promise<RegistrationTicket> {
    checkDeviceName(opts.name);
    if (opts.mode !== undefined && !MODES.includes(opts.mode)) {
      throw new RangeError(`Invalid mode "${opts.mode}": use one of ${MODES.join(", ")}`);
    }
    const now = this.store.now();
    const pollSecret = randomBase64Url(32);
    const token = generateDeviceToken();
    const req: RegistrationRequest = {
      id: randomBase64Url(12),
      code: randomCode(),
      name: opts.name,
      created: new Date(now).toISOString(),
      expires: new Date(now + this.#ttl).toISOString(),
      status: "pending",
      ...(opts.remote !== undefined && { remote: opts.remote }),
      ...(opts.mode !== undefined && { requestedMode: opts.mode }),
      pollHash: sha256(pollSecret).toString("hex"),
      tokenHash: hashDeviceToken(token),
      sealed: seal(token, pollSecret),
    };
    const group = addressGroup(opts.remote);
    await this.store.file.update((data) => {
      const pending = this.#prune(data, now).filter((r) => r.status === "pending");
      if (pending.filter((r) => addressGroup(r.remote) === group).length >= this.#maxPerAddress) {
        throw new Error(
          `Cannot accept a registration request: ${this.#maxPerAddress} requests from this address are already ` +
            "pending; ask the operator to approve or deny them, or wait until they expire",
        );
      }
      if (pending.length >= this.#maxPending) {
        throw new Error(
          `Cannot accept a registration request: ${this.#maxPending} requests are already pending; ` +
            "ask the operator to approve or deny them",
        );
      }
      data.requests.push(req);
    });
    return { id: req.id, code: req.code, pollSecret, expires: req.expires };
  }

  /** Requests that are pending, or approved and not yet fetched, or decided recently. */
  async list(): Promise<RegistrationView[]> {
    const now = this.store.now();
    return (await this.store.file.read()).requests.filter((r) => Date.parse(r.expires) > now).map(view);
  }

  #find(data: TokenFileData, idOrCode: string, now: number): RegistrationRequest {
    const key = idOrCode.toUpperCase();
    const r = this.#prune(data, now).find((x) => x.id === idOrCode || x.code === key);
    if (r === undefined) {
      throw new Error(`No registration request "${idOrCode}": it may have expired (see \`tokens requests\`)`);
    }
    return r;
  }

  /**
   * Approves a pending request (by id or code): its token becomes active with the given caps. Mode defaults to
   * read-only, whatever the device asked for.
   */
  async approve(
    idOrCode: string,
    opts: { mode?: Mode; toolsets?: string[]; expiresInMs?: number } = {},
  ): Promise<DeviceTokenInfo> {
    const now = this.store.now();
    const req = await this.store.file.update((data) => {
      const r = this.#find(data, idOrCode, now);
      if (r.status !== "pending") throw new Error(`Cannot approve request ${r.code}: it is already ${r.status}`);
      return { ...r };
    });
    const token = await this.store.addHashed({
      name: req.name,
      hash: req.tokenHash,
      mode: opts.mode ?? "read-only",
      ...(opts.toolsets !== undefined && { toolsets: opts.toolsets }),
      ...(opts.expiresInMs !== undefined && { expiresInMs: opts.expiresInMs }),
      source: "registration",
    });
    await this.store.file.update((data) => {
      const r = data.requests.find((x) => x.id === req.id);
      if (r !== undefined) {
        r.status = "approved";
        r.decided = new Date(now).toISOString();
        r.expires = new Date(now + this.#ttl).toISOString();
      }
    });
    return token;
  }

  /**
   * Empties the queue: removes every pending and denied request (a flood, or requests nobody will decide). Approved
   * requests whose token was not fetched yet are kept. Returns how many were removed.
   */
  async purge(): Promise<number> {
    const now = this.store.now();
    return await this.store.file.update((data) => {
      const before = this.#prune(data, now).length;
      data.requests = data.requests.filter((r) => r.status === "approved");
      return before - data.requests.length;
    });
  }

  /** Denies a pending request (by id or code). */
  async deny(idOrCode: string): Promise<RegistrationView> {
    const now = this.store.now();
    return await this.store.file.update((data) => {
      const r = this.#find(data, idOrCode, now);
      if (r.status !== "pending") throw new Error(`Cannot deny request ${r.code}: it is already ${r.status}`);
      r.status = "denied";
      r.decided = new Date(now).toISOString();
      delete r.sealed;
      return view(r);
    });
  }

  /** The device polls with its id and poll secret; an approved token is handed out once. */
  async fetch(id: string, pollSecret: string): Promise<FetchOutcome> {
    const now = this.store.now();
    let pruned = false;
    return await this.store.file.update((data): FetchOutcome => {
      const before = data.requests.length;
      const r = this.#prune(data, now).find((x) => x.id === id);
      pruned = data.requests.length !== before;
      if (r === undefined || !timingSafeEqual(sha256(pollSecret), Buffer.from(r.pollHash, "hex"))) {
        return { status: "unknown" };
      }
      if (r.status !== "approved") return { status: r.status };
      if (r.sealed === undefined) return { status: "fetched" };
      const token = unseal(r.sealed, pollSecret);
      delete r.sealed;
      const t = data.tokens.find((x) => x.hash === r.tokenHash && x.revoked === undefined);
      return {
        status: "approved",
        token,
        ...(t?.mode !== undefined && { mode: t.mode }),
        ...(t?.toolsets !== undefined && { toolsets: t.toolsets }),
        ...(t?.expires !== undefined && { expires: t.expires }),
      };
    }, { write: (o) => o.status === "approved" || pruned });
  }
}
