/**
 * Finding guests: vmid → node and type through ONE request to `/cluster/resources`, cached briefly.
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

  /** The guest with this vmid, or a clear not-found error. */
  async resolve(vmid: number, signal?: AbortSignal): Promise<GuestRef> {
    const rows = await this.rows(signal);
    for (const row of rows) {
      if (Number(row.vmid) === vmid) {
        const ref = toGuestRef(row);
        if (ref) return ref;
      }
    }
    throw new PveError("not_found", `Guest ${vmid} does not exist in the cluster: list guests with guest_list`, {
      host: this.api.host,
    });
  }
}
