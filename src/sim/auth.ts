/**
 * Simulator authentication and authorisation: API tokens, tickets and CSRF tokens as PVE forms them, per-principal
 * ACLs (path → privileges, propagating down, pools granting to their members), and PVE's permission checks.
 * @module
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Permission } from "../pve/contract.ts";

/** One ACL entry: privileges on a path (`*` = every privilege). Propagates to sub-paths unless `propagate: false`. */
export interface AclEntry {
  path: string;
  privs: string[];
  propagate?: boolean;
}

/** A user or an API token the simulator knows. */
export interface SimPrincipal {
  /** `user@realm` or `user@realm!token`. */
  id: string;
  userid: string;
  tokenid?: string;
  acl: AclEntry[];
}

/** Ticket lifetime (PVE: 2 h) and clock grace (5 min). */
export const TICKET_LIFETIME_S = 7200;
const GRACE_S = 300;

/** Every privilege PVE 9 knows (what `*` expands to). */
export const ALL_PRIVS = [
  "Datastore.Allocate",
  "Datastore.AllocateSpace",
  "Datastore.AllocateTemplate",
  "Datastore.Audit",
  "Group.Allocate",
  "Mapping.Audit",
  "Mapping.Modify",
  "Mapping.Use",
  "Permissions.Modify",
  "Pool.Allocate",
  "Pool.Audit",
  "Realm.Allocate",
  "Realm.AllocateUser",
  "SDN.Allocate",
  "SDN.Audit",
  "SDN.Use",
  "Sys.AccessNetwork",
  "Sys.Audit",
  "Sys.Console",
  "Sys.Incoming",
  "Sys.Modify",
  "Sys.PowerMgmt",
  "Sys.Syslog",
  "User.Modify",
  "VM.Allocate",
  "VM.Audit",
  "VM.Backup",
  "VM.Clone",
  "VM.Config.CDROM",
  "VM.Config.CPU",
  "VM.Config.Cloudinit",
  "VM.Config.Disk",
  "VM.Config.HWType",
  "VM.Config.Memory",
  "VM.Config.Network",
  "VM.Config.Options",
  "VM.Console",
  "VM.GuestAgent.Audit",
  "VM.GuestAgent.FileRead",
  "VM.GuestAgent.FileSystemMgmt",
  "VM.GuestAgent.FileWrite",
  "VM.GuestAgent.Unrestricted",
  "VM.Migrate",
  "VM.PowerMgmt",
  "VM.Replicate",
  "VM.Snapshot",
  "VM.Snapshot.Rollback",
];

/** Privileges of PVE's built-in PVEAuditor role (read-only). */
export const AUDITOR_PRIVS = ["VM.Audit", "Sys.Audit", "Datastore.Audit", "Pool.Audit", "SDN.Audit", "Mapping.Audit"];
/** An "operator": everything a day-to-day operator needs, without allocating/removing guests or changing the host. */
export const OPERATOR_PRIVS = [
  ...AUDITOR_PRIVS,
  "VM.PowerMgmt",
  "VM.Console",
  "VM.Config.Options",
  "VM.Config.Memory",
  "VM.Config.CPU",
  "VM.Config.Network",
  "VM.Config.Disk",
  "VM.Config.CDROM",
  "VM.Config.Cloudinit",
  "VM.Snapshot",
  "VM.Snapshot.Rollback",
  "VM.Backup",
  "VM.Clone",
  "VM.Migrate",
  "VM.GuestAgent.Audit",
  "Datastore.AllocateSpace",
];

const sha256 = (s: string) => createHash("sha256").update(s).digest();

/** Constant-time comparison of two secrets (fixed-length digests). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

const hex8 = (n: number) => (n >>> 0).toString(16).toUpperCase().padStart(8, "0");

/** Issues and checks tickets and CSRF prevention tokens, signed with keys made at start. */
export class TicketAuthority {
  readonly #ticketKey = randomBytes(32);
  readonly #csrfKey = randomBytes(32);

  #sign(key: Uint8Array, text: string): string {
    return createHmac("sha256", key).update(text).digest("base64");
  }

  /** `PVE:<user>:<8 hex time>::<base64 signature>` (PVE's layout; the signature is an HMAC here, not RSA). */
  issueTicket(userid: string, nowSeconds: number): string {
    const plain = `PVE:${userid}:${hex8(nowSeconds)}`;
    return `${plain}::${this.#sign(this.#ticketKey, plain)}`;
  }

  /** The user of a valid, unexpired ticket; undefined otherwise. */
  verifyTicket(ticket: string, nowSeconds: number): string | undefined {
    const m = /^(PVE:([^:\s]+):([0-9A-F]{8}))::(\S+)$/.exec(ticket);
    if (!m) return undefined;
    const [, plain = "", user = "", time = "", sig = ""] = m;
    if (!secretsEqual(sig, this.#sign(this.#ticketKey, plain))) return undefined;
    const age = nowSeconds - parseInt(time, 16);
    return age >= -GRACE_S && age <= TICKET_LIFETIME_S ? user : undefined;
  }

  /** `<8 hex time>:<base64 HMAC>` bound to the user. */
  issueCsrf(userid: string, nowSeconds: number): string {
    const t = hex8(nowSeconds);
    return `${t}:${this.#sign(this.#csrfKey, `${t}:${userid}`)}`;
  }

  /** True for a CSRF token issued to this user within the ticket lifetime. */
  verifyCsrf(token: string, userid: string, nowSeconds: number): boolean {
    const m = /^([0-9A-F]{8}):(\S+)$/.exec(token);
    if (!m) return false;
    const [, t = "", sig = ""] = m;
    if (!secretsEqual(sig, this.#sign(this.#csrfKey, `${t}:${userid}`))) return false;
    const age = nowSeconds - parseInt(t, 16);
    return age >= -GRACE_S && age <= TICKET_LIFETIME_S;
  }
}

/** Looks up pools of guests/storages so ACLs on `/pool/<name>` apply to their members. */
export type PoolOf = (aclPath: string) => string | undefined;

function entryApplies(entry: AclEntry, path: string): boolean {
  if (entry.path === path) return true;
  if (entry.propagate === false) return false;
  return entry.path === "/" || path.startsWith(entry.path.endsWith("/") ? entry.path : `${entry.path}/`);
}

/** True when the principal holds `priv` on `path` (directly, by propagation, or through the member's pool). */
export function hasPriv(p: SimPrincipal, path: string, priv: string, poolOf?: PoolOf): boolean {
  const pool = poolOf?.(path);
  const poolPath = pool === undefined ? undefined : `/pool/${pool}`;
  for (const e of p.acl) {
    if (!e.privs.includes(priv) && !e.privs.includes("*")) continue;
    if (entryApplies(e, path) || (poolPath !== undefined && entryApplies(e, poolPath))) return true;
  }
  return false;
}

/** The privileges the principal holds on a path, with PVE's propagate flag (1) as `/access/permissions` shows. */
export function privsAt(p: SimPrincipal, path: string, poolOf?: PoolOf): Record<string, number> {
  const out: Record<string, number> = {};
  for (const priv of ALL_PRIVS) if (hasPriv(p, path, priv, poolOf)) out[priv] = 1;
  return out;
}

/** True when the principal holds every privilege on `/` (an administrator). */
export function isAdmin(p: SimPrincipal): boolean {
  return p.acl.some((e) => e.path === "/" && e.privs.includes("*"));
}

function fill(template: string, params: Record<string, unknown>): string {
  return template.replace(/\{([^}]+)\}/g, (m, name: string) => {
    const v = params[name];
    return v === undefined || v === null ? m : String(v);
  });
}

/**
 * Evaluates a contract permission for a principal.
 * @returns undefined when allowed, else the parenthesised part of PVE's 403 message, e.g. `/vms/100, VM.PowerMgmt`.
 */
export function checkPermission(
  perm: Permission,
  p: SimPrincipal,
  params: Record<string, unknown>,
  poolOf?: PoolOf,
): string | undefined {
  switch (perm.kind) {
    case "world":
    case "all":
      return undefined;
    case "root":
      return p.id === "root@pam" ? undefined : "user != root@pam";
    case "privs": {
      const path = fill(perm.path, params);
      const ok = perm.any
        ? perm.privs.some((x) => hasPriv(p, path, x, poolOf))
        : perm.privs.every((x) => hasPriv(p, path, x, poolOf));
      if (ok) return undefined;
      // PVE names the first missing privilege, or all of them joined by `|` when any one would do.
      if (perm.any) return `${path}, ${perm.privs.join("|")}`;
      return `${path}, ${perm.privs.find((x) => !hasPriv(p, path, x, poolOf))}`;
    }
    case "and": {
      for (const c of perm.checks) {
        const fail = checkPermission(c, p, params, poolOf);
        if (fail !== undefined) return fail;
      }
      return undefined;
    }
    case "or": {
      let last: string | undefined;
      for (const c of perm.checks) {
        last = checkPermission(c, p, params, poolOf);
        if (last === undefined) return undefined;
      }
      return last;
    }
    case "special":
      // userid-group / perm-modify need PVE's user and group database; the simulator grants them to admins only.
      return isAdmin(p)
        ? undefined
        : `${perm.path ? fill(perm.path, params) : "/access"}, ${perm.privs?.join("|") ?? perm.name}`;
  }
}

/** Parses `Authorization: PVEAPIToken=user@realm!id=secret` (also with a space, URL-escaped) into id and secret. */
export function parseTokenHeader(header: string | null): { tokenId: string; secret: string } | undefined {
  if (!header) return undefined;
  const m = /(?:^|\s)PVEAPIToken(?:=| )([^;]*)/.exec(header);
  if (!m?.[1]) return undefined;
  let value: string;
  try {
    value = decodeURIComponent(m[1].trim());
  } catch {
    return undefined;
  }
  const eq = value.lastIndexOf("=");
  if (eq <= 0) return undefined;
  return { tokenId: value.slice(0, eq), secret: value.slice(eq + 1) };
}

/** The ticket from the `PVEAuthCookie` cookie, or from `Authorization: PVEAuthCookie=...` when there is no cookie. */
export function ticketFrom(cookie: string | null, authorization: string | null): string | undefined {
  for (const part of (cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === "PVEAuthCookie") {
      try {
        return decodeURIComponent(v.join("="));
      } catch {
        return undefined;
      }
    }
  }
  const m = /(?:^|\s)PVEAuthCookie=([^;\s]+)/.exec(authorization ?? "");
  if (!m?.[1]) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
}
