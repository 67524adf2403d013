/**
 * Finding guests: vmid → node and type through ONE request to `/cluster/resources`, cached briefly. PVE lists there
 * only the guests the token may audit, so a miss is settled by asking PVE itself (`/cluster/nextid?vmid=N`): absent,
 * or present but not visible to this token.
 * @module
 */
import { type PveApi, PveError } from "./types.ts";

/** Where a guest lives, as `/cluster/resources` reports it. */
export interface GuestRef {
  vmid: number;
  type: "qemu" | "lxc";
  node: string;
  name: string;
  status: string;
  template: boolean;
  pool?: string;
  tags: string[];
}

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

/** Resolves vmids with a short-lived cache of the cluster's guest list. */
export class GuestResolver {
  #cache: { at: number; rows: Promise<VmResource[]> } | undefined;
  constructor(
    private readonly api: PveApi,
    private readonly ttlMs = 3000,
    private readonly now: () => number = Date.now,
  ) {}

  /** All guest rows, from cache when fresh. */
  rows(signal?: AbortSignal): Promise<VmResource[]> {
    const t = this.now();
    if (!this.#cache || t - this.#cache.at > this.ttlMs) {
      const rows = this.api.request<VmResource[]>({
        method: "GET",
        path: "/cluster/resources",
        params: { type: "vm" },
        ...(signal ? { signal } : {}),
      }).then((r) => r.data ?? []);
      rows.catch(() => (this.#cache = undefined));
      this.#cache = { at: t, rows };
    }
    return this.#cache.rows;
  }

  /** Forgets the cache (after a change such as create, delete or migrate). */
  invalidate(): void {
    this.#cache = undefined;
  }

  /**
   * The guest with this vmid. When `/cluster/resources` does not list it, PVE is asked whether the vmid is taken
   * (`GET /cluster/nextid?vmid=N`, which sees every guest whatever the token's rights) and the guest list is read
   * once more (it may have been created since the cached read).
   * @throws {PveError} kind `not_found` when PVE confirms no guest has this vmid.
   * @throws {PveError} kind `not_visible` when the guest exists but the token cannot see it (no `VM.Audit` on
   *   `/vms/N`): nothing is known about it (node, type, name, tags, pool), so callers must treat it as protected and
   *   refuse to act on it, never as absent.
   * @throws {PveError} any other kind when PVE could not be asked.
   */
  async resolve(vmid: number, signal?: AbortSignal): Promise<GuestRef> {
    const listed = find(await this.rows(signal), vmid);
    if (listed) return listed;
    if (!await vmidTaken(this.api, vmid, signal)) {
      throw new PveError("not_found", `Guest ${vmid} does not exist in the cluster: list guests with guest_list`, {
        host: this.api.host,
      });
    }
    this.invalidate();
    const fresh = find(await this.rows(signal), vmid);
    if (fresh) return fresh;
    throw new PveError(
      "not_visible",
      `Guest ${vmid} exists but is not visible to this token: it lacks VM.Audit on /vms/${vmid} (ask the ` +
        "PVE administrator to grant it), so the guest cannot be used",
      { host: this.api.host },
    );
  }
}

function find(rows: readonly VmResource[], vmid: number): GuestRef | undefined {
  for (const row of rows) {
    if (Number(row.vmid) !== vmid) continue;
    const ref = toGuestRef(row);
    if (ref) return ref;
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
