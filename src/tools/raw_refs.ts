/**
 * What a raw API call names: every guest, volume, storage, node and pool, found through the parameter formats of
 * the official schema (`pve-vmid`, `pve-vmid-list`, `pve-volume-id`, `pve-storage-id`, `pve-node`, `pve-poolid`,
 * HA resource ids `vm:105`, replication job ids `105-0`, property strings whose keys hold volumes, …) in the path
 * and in the query/body parameters. Nothing here knows a tool or an endpoint by name, except the few parameters the
 * schema leaves without a format ({@linkcode UNFORMATTED}).
 * @module
 */
import type { GuestRole, GuestTouch } from "../core/mod.ts";
import { type Endpoint, type ParamSpec, paramSpec } from "../pve/contract.ts";

/** What a call names. */
export interface RawRefs {
  guests: GuestTouch[];
  nodes: string[];
  storages: string[];
  pools: string[];
  /** Why some referenced object cannot be determined (host paths, unparsable lists). */
  undetermined: string[];
}

type Params = Readonly<Record<string, unknown>>;

/** How a value of one format names objects. */
type Kind =
  | "vmid"
  | "vmid-list"
  | "volume"
  | "storage"
  | "storage-list"
  | "storage-pairs"
  | "node"
  | "node-list"
  | "ha-node-list"
  | "pool"
  | "ha-id"
  | "ha-id-list"
  | "replication-id"
  | "upid";

/** Schema formats that name guests, volumes, storages, nodes or pools. Exported for the schema-walking test. */
export const REF_FORMATS: Readonly<Record<string, Kind>> = {
  "pve-vmid": "vmid",
  "pve-vmid-list": "vmid-list",
  "pve-volume-id": "volume",
  "pve-volume-id-or-qm-path": "volume",
  "pve-volume-id-or-absolute-path": "volume",
  "pve-lxc-mp-string": "volume",
  "pve-storage-id": "storage",
  "pve-storage-id-list": "storage-list",
  "storage-pair-list": "storage-pairs",
  "pve-node": "node",
  "pve-node-list": "node-list",
  "pve-ha-node-list": "ha-node-list",
  "pve-poolid": "pool",
  "pve-ha-resource-id": "ha-id",
  "pve-ha-resource-or-vm-id": "ha-id",
  "pve-ha-resource-id-list": "ha-id-list",
  "pve-replication-job-id": "replication-id",
};

/**
 * Parameters the schema gives no format although they name objects: `[path pattern, parameter, kind]`. Everything
 * else is found by format.
 */
export const UNFORMATTED: readonly (readonly [RegExp, string, Kind])[] = [
  [/\/storage\/\{storage\}\//, "volume", "volume"],
  [/\/storage\/\{storage\}\/content\/\{volume\}$/, "target", "volume"],
  [/\/vzdump\/extractconfig$/, "volume", "volume"],
  [/^\/nodes\/\{node\}\/qemu$/, "archive", "volume"],
  [/^\/nodes\/\{node\}\/lxc$/, "ostemplate", "volume"],
  [/^\/nodes\/\{node\}\/vzdump$|^\/cluster\/backup/, "pool", "pool"],
  [/\/tasks\/\{upid\}$/, "upid", "upid"],
];

/** Parameters that name the guest a call creates (matched by its vmid before it exists). */
const NEW_GUEST = new Set(["newid"]);
/** Where a vmid parameter names members of a pool, an HA rule or resource set. */
const MEMBERS = /^\/pools|^\/cluster\/ha\//;
/** Where vmids name the guests a job or a backup reads. */
const SOURCES = /\/vzdump$|^\/cluster\/backup|\/clone$/;

const VOLUME_OWNER =
  /(?:^|[/:])(?:vm|base|subvol|basevol)-(\d+)-|vzdump-(?:qemu|lxc|openvz)-(\d+)-|(?:^|\/)(?:vm|ct)\/(\d+)\//g;

/** PVE's reading of a boolean parameter. */
export function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0) return false;
  return !/^(?:0|false|no|off|)$/i.test(String(v).trim());
}

/** The parameters with the schema's defaults filled in for those not given (what PVE will act on). */
export function withDefaults(endpoint: Endpoint, params: Params): Record<string, unknown> {
  const out: Record<string, unknown> = { ...params };
  for (const [name, spec] of Object.entries(endpoint.params)) {
    if (out[name] === undefined && spec.default !== undefined) out[name] = spec.default;
  }
  return out;
}

/** Collects what one call names. `params` should carry the schema's defaults ({@linkcode withDefaults}). */
export function collectRefs(endpoint: Endpoint, pathParams: Readonly<Record<string, string>>, params: Params): RawRefs {
  const refs: RawRefs = { guests: [], nodes: [], storages: [], pools: [], undetermined: [] };
  const all: Record<string, unknown> = { ...params, ...pathParams };
  for (const [name, value] of Object.entries(all)) {
    if (value === undefined || value === null) continue;
    const spec = paramSpec(endpoint, name);
    const role = roleOf(endpoint, name, all);
    const gap = UNFORMATTED.find(([re, p]) => p === name && re.test(endpoint.path));
    if (gap && !spec?.enum) {
      // A `{volume}` under `/storage/{storage}/` may be given without its storage prefix.
      const bare = gap[2] === "volume" && pathParams.storage !== undefined && !String(value).includes(":");
      addKind(refs, gap[2], bare ? `${pathParams.storage}:${value}` : value, role, name);
      continue;
    }
    if (spec) visit(refs, spec, value, role, name);
  }
  return dedupe(refs);
}

/** How a vmid parameter touches its guest. */
function roleOf(endpoint: Endpoint, name: string, all: Params): GuestRole {
  if (NEW_GUEST.has(name)) return "new";
  // A remote migration's target vmid is created on the other cluster; a disk move's joins an existing guest.
  if (name === "target-vmid") return endpoint.path.endsWith("/remote_migrate") ? "new" : "target";
  const create = /^\/nodes\/\{node\}\/(?:qemu|lxc)$/.test(endpoint.path) && endpoint.method === "POST";
  if (create && name === "vmid") {
    return truthy(all.force) || truthy(all.restore) || all.archive !== undefined ? "target" : "new";
  }
  if (MEMBERS.test(endpoint.path)) return "member";
  if (SOURCES.test(endpoint.path)) return "source";
  return "target";
}

function visit(refs: RawRefs, spec: ParamSpec, value: unknown, role: GuestRole, name: string): void {
  if (Array.isArray(value)) {
    for (const v of value) visit(refs, spec.items ?? spec, v, role, name);
    return;
  }
  const kind = spec.format === undefined ? undefined : REF_FORMATS[spec.format];
  if (kind) return addKind(refs, kind, value, role, name);
  const ps = spec.propertyString;
  if (ps?.formats && typeof value === "string") {
    for (const [key, v] of propertyEntries(value, ps.defaultKey)) {
      const f = ps.formats[key];
      const k = f === undefined ? undefined : REF_FORMATS[f];
      if (k) addKind(refs, k, v, role, `${name}.${key}`);
    }
  }
}

/** `key=value` pairs of a property string; a bare value belongs to the default key. */
function propertyEntries(text: string, defaultKey: string | undefined): [string, string][] {
  const out: [string, string][] = [];
  for (const part of text.split(",")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq < 0) {
      if (defaultKey !== undefined) out.push([defaultKey, part]);
    } else out.push([part.slice(0, eq).trim(), part.slice(eq + 1)]);
  }
  return out;
}

const list = (v: unknown) => String(v).split(/[,;\s]+/).map((s) => s.trim()).filter((s) => s !== "");

function guest(refs: RawRefs, text: string, role: GuestRole, name: string): void {
  const t = text.trim();
  if (/^\d+$/.test(t) && Number(t) >= 1) refs.guests.push({ vmid: Number(t), role });
  else refs.undetermined.push(`${name} holds "${t.slice(0, 40)}", not a vmid`);
}

function addKind(refs: RawRefs, kind: Kind, value: unknown, role: GuestRole, name: string): void {
  const text = String(value);
  switch (kind) {
    case "vmid":
      return guest(refs, text, role, name);
    case "vmid-list":
      return list(text).forEach((v) => guest(refs, v, role, name));
    case "volume":
      return volume(refs, text, name);
    case "storage":
      refs.storages.push(text);
      return;
    case "storage-list":
      refs.storages.push(...list(text));
      return;
    case "storage-pairs":
      for (const pair of list(text)) refs.storages.push(...pair.split(":").filter((s) => s !== "" && s !== "1"));
      return;
    case "node":
      refs.nodes.push(text);
      return;
    case "node-list":
      refs.nodes.push(...list(text));
      return;
    case "ha-node-list":
      refs.nodes.push(...list(text).map((n) => n.split(":")[0] ?? n));
      return;
    case "pool":
      refs.pools.push(text);
      return;
    case "ha-id":
    case "ha-id-list":
      return list(text).forEach((v) => guest(refs, v.replace(/^(?:vm|ct):/, ""), role, name));
    case "upid": {
      // `UPID:node:pid:pstart:starttime:type:id:user:` — a numeric id is the guest the task works on.
      const id = text.split(":")[6] ?? "";
      if (/^\d+$/.test(id)) refs.guests.push({ vmid: Number(id), role: "target" });
      return;
    }
    case "replication-id": {
      const m = /^(\d+)-\d+$/.exec(text.trim());
      if (m) refs.guests.push({ vmid: Number(m[1]), role });
      else refs.undetermined.push(`${name} holds "${text.slice(0, 40)}", not a replication job id`);
      return;
    }
  }
}

/**
 * A volume id (`local-lvm:vm-112-disk-0`, `local:backup/vzdump-qemu-112-….vma.zst`, `pbs:backup/vm/112/…`,
 * `local-lvm:32` for a new disk): its storage and every guest that owns it. Host paths cannot be checked.
 */
function volume(refs: RawRefs, text: string, name: string): void {
  const t = text.trim();
  if (t === "none" || t === "cdrom") return;
  const m = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.*)$/i.exec(t);
  if (!m) {
    refs.undetermined.push(`${name} names "${t.slice(0, 60)}", a host path or device, not a storage volume`);
    return;
  }
  refs.storages.push(m[1]!);
  for (const o of m[2]!.matchAll(VOLUME_OWNER)) {
    refs.guests.push({ vmid: Number(o[1] ?? o[2] ?? o[3]), role: "volume" });
  }
}

function dedupe(refs: RawRefs): RawRefs {
  const uniq = (xs: string[]) => [...new Set(xs)];
  const seen = new Set<string>();
  return {
    guests: refs.guests.filter((g) => {
      const k = `${g.vmid}:${g.role}`;
      return seen.has(k) ? false : (seen.add(k), true);
    }),
    nodes: uniq(refs.nodes),
    storages: uniq(refs.storages),
    pools: uniq(refs.pools),
    undetermined: uniq(refs.undetermined),
  };
}
