/**
 * Finding guests: vmid → node and type through `/cluster/resources`, with a map kept fresh by listings. PVE lists
 * there only the guests the token may audit, so a miss is settled by asking PVE itself (`/cluster/nextid?vmid=N`):
 * absent, or present but not visible to this token.
 * @module
 */
import { type PveApi, PveError } from "./types.ts";
import type { GuestRef } from "../core/mod.ts";

/** A row of `/cluster/resources?type=vm` (fields PVE may omit are optional). */
export interface VmResource {
  id: string;
  type: string;
  vmid?: number | string;
  node?: string;
  name?: string;
  status?: string;
  template?: number;
  pool?: string;
  tags?: string;
  cpu?: number;
  maxcpu?: number;
  mem?: number;
  maxmem?: number;
  disk?: number;
  maxdisk?: number;
  uptime?: number;
  lock?: string;
  hastate?: string;
}

/** Turns a resource row into a {@linkcode GuestRef}; undefined for non-guest rows. */
export function toGuestRef(row: VmResource): GuestRef | undefined {
  if ((row.type !== "qemu" && row.type !== "lxc") || row.vmid === undefined || row.node === undefined) return undefined;
  const ref: GuestRef = {
    vmid: Number(row.vmid),
    type: row.type,
    node: row.node,
    name: row.name ?? "",
    status: row.status ?? "unknown",
    template: row.template === 1,
    tags: row.tags ? row.tags.split(/[;, ]+/).filter(Boolean) : [],
  };
  if (row.pool) ref.pool = row.pool;
  return ref;
}

/** A listing of the cluster's guests as fetched at one moment; `id` names it in paging cursors. */
export interface GuestListing {
  id: string;
  at: number;
  rows: VmResource[];
}

/** How long a listing snapshot stays available to the cursors cut from it, and how many are kept. */
const SNAPSHOT_MS = 5 * 60_000;
const SNAPSHOTS_KEPT = 3;

/**
 * Finds guests from `/cluster/resources` and remembers where they are.
 *
 * - {@linkcode GuestResolver.resolve} answers from a listing at most `ttlMs` old (fetching one otherwise): policy
 *   checks and changes use it, so protection by tag, pool or node is decided on fresh data.
 * - {@linkcode GuestResolver.locate} answers reads from the vmid → node map of the latest listing, however old, so a
 *   status call seconds after the last one costs one request, not a 2,000-guest listing. A map answer that PVE
 *   contradicts ("does not exist" on that node: migrated, deleted) is corrected by {@linkcode GuestResolver.run}.
 * - {@linkcode GuestResolver.listing} keeps the last few listings so the pages of one cursor come from one snapshot.
 *
 * Every listing refreshes the map; {@linkcode GuestResolver.invalidate} (after any change) forgets all of it.
 */
export class GuestResolver {
  #fresh: { at: number; listing: Promise<GuestListing> } | undefined;
  /** vmid → row of the latest listing. */
  #where = new Map<number, VmResource>();
  #snapshots = new Map<string, GuestListing>();
  #generation = 0;
  constructor(
    private readonly api: PveApi,
    private readonly ttlMs = 3000,
    private readonly now: () => number = Date.now,
  ) {}

  #fetch(signal?: AbortSignal): Promise<GuestListing> {
    const at = this.now();
    const generation = this.#generation;
    const listing = this.api.request<VmResource[]>({
      method: "GET",
      path: "/cluster/resources",
      params: { type: "vm" },
      ...(signal ? { signal } : {}),
    }).then((r) => {
      const l: GuestListing = { id: crypto.randomUUID().slice(0, 8), at, rows: r.data ?? [] };
      // A listing that started before a change must not refill what the change invalidated.
      if (generation !== this.#generation) return l;
      this.#where = new Map();
      for (const row of l.rows) if (row.vmid !== undefined) this.#where.set(Number(row.vmid), row);
      this.#snapshots.set(l.id, l);
      for (const [id, s] of this.#snapshots) {
        if (this.#snapshots.size > SNAPSHOTS_KEPT || at - s.at > SNAPSHOT_MS) this.#snapshots.delete(id);
      }
      return l;
    });
    listing.catch(() => {
      if (this.#fresh?.listing === listing) this.#fresh = undefined;
    });
    this.#fresh = { at, listing };
    return listing;
  }

  /** All guest rows from a listing at most `ttlMs` old. */
  async rows(signal?: AbortSignal): Promise<VmResource[]> {
    const f = this.#fresh;
    return (f && this.now() - f.at <= this.ttlMs ? await f.listing : await this.#fetch(signal)).rows;
  }

  /**
   * The listing snapshot a paging cursor names, while it is kept; otherwise (first page, unknown or expired
   * snapshot) a new listing fetched now.
   */
  listing(signal?: AbortSignal, snapshot?: string): Promise<GuestListing> {
    const kept = snapshot === undefined ? undefined : this.#snapshots.get(snapshot);
    if (kept && this.now() - kept.at <= SNAPSHOT_MS) return Promise.resolve(kept);
    return this.#fetch(signal);
  }

  /** Forgets every listing and the map (after a change such as create, delete, migrate or a tag edit). */
  invalidate(): void {
    this.#generation++;
    this.#fresh = undefined;
    this.#where = new Map();
    this.#snapshots.clear();
  }

  /**
   * The guest with this vmid, from a listing at most `ttlMs` old. When the listing does not hold it, PVE is asked
   * whether the vmid is taken (`GET /cluster/nextid?vmid=N`, which sees every guest whatever the token's rights) and
   * the guest list is read once more (it may have been created since the cached read).
   * @throws {PveError} kind `not_found` when PVE confirms no guest has this vmid.
   * @throws {PveError} kind `not_visible` when the guest exists but the token cannot see it (no `VM.Audit` on
   *   `/vms/N`): nothing is known about it (node, type, name, tags, pool), so callers must treat it as protected and
   *   refuse to act on it, never as absent.
   * @throws {PveError} any other kind when PVE could not be asked.
   */
  async resolve(vmid: number, signal?: AbortSignal): Promise<GuestRef> {
    const listed = findRef(await this.rows(signal), vmid);
    if (listed) return listed;
    if (!await vmidTaken(this.api, vmid, signal)) {
      throw new PveError("not_found", `Guest ${vmid} does not exist in the cluster: list guests with guest_list`, {
        host: this.api.host,
      });
    }
    const fresh = findRef((await this.#fetch(signal)).rows, vmid);
    if (fresh) return fresh;
    throw new PveError(
      "not_visible",
      `Guest ${vmid} exists but is not visible to this token: it lacks VM.Audit on /vms/${vmid} (ask the ` +
        "PVE administrator to grant it), so the guest cannot be used",
      { host: this.api.host },
    );
  }

  /** Where the guest was at the latest listing (no request), else {@linkcode GuestResolver.resolve}. For reads. */
  locate(vmid: number, signal?: AbortSignal): Promise<GuestRef> {
    const row = this.#where.get(vmid);
    const ref = row && toGuestRef(row);
    return ref ? Promise.resolve(ref) : this.resolve(vmid, signal);
  }

  /**
   * Runs a tool handler with the lookup it may use: `fresh` (changes) always {@linkcode GuestResolver.resolve};
   * otherwise {@linkcode GuestResolver.locate}, and when PVE then answers "not found" for a guest the map placed,
   * the map is refreshed and the handler runs once more (reads only: running a read twice changes nothing).
   */
  async run<T>(fresh: boolean, signal: AbortSignal | undefined, fn: (lookup: Lookup) => Promise<T>): Promise<T> {
    const resolve: Lookup = (vmid) => this.resolve(vmid, signal);
    if (fresh) return fn(resolve);
    let mapped = false;
    const generation = this.#generation;
    try {
      return await fn((vmid) => {
        mapped ||= this.#where.has(vmid);
        return this.locate(vmid, signal);
      });
    } catch (e) {
      if (!mapped || !(e instanceof PveError) || e.kind !== "not_found") throw e;
      if (generation === this.#generation) this.invalidate();
      return fn(resolve);
    }
  }
}

/** A vmid lookup handed to tool handlers. */
export type Lookup = (vmid: number) => Promise<GuestRef>;

function findRef(rows: readonly VmResource[], vmid: number): GuestRef | undefined {
  for (const row of rows) {
    if (Number(row.vmid) === vmid) {
      const ref = toGuestRef(row);
      if (ref) return ref;
    }
  }
  return undefined;
}

/**
 * Whether PVE has a guest with this vmid, visible to the token or not: `GET /cluster/nextid?vmid=N` answers the vmid
 * when it is free and 400 `VM N already exists` when it is taken (any authenticated user may ask). Other failures
 * propagate.
 */
export async function vmidTaken(api: PveApi, vmid: number, signal?: AbortSignal): Promise<boolean> {
  try {
    await api.request({ method: "GET", path: "/cluster/nextid", params: { vmid }, ...(signal ? { signal } : {}) });
    return false;
  } catch (e) {
    if (e instanceof PveError && e.kind === "invalid" && /already exists/i.test(e.details.errors?.vmid ?? "")) {
      return true;
    }
    throw e;
  }
}
