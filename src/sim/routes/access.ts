/**
 * Access endpoints: ticket login/renewal, the realm list and the caller's permissions.
 * @module
 */
import { privsAt, type SimPrincipal } from "../auth.ts";
import { type SimContext, SimError, type SimRoute, str } from "../router.ts";

const CAP_GROUPS: [string, string, RegExp][] = [
  ["vms", "/vms", /^VM\./],
  ["storage", "/storage", /^Datastore\./],
  ["access", "/access", /^(User|Group|Realm|Permissions)\./],
  ["nodes", "/nodes", /^Sys\./],
  ["dc", "/", /^(Sys\.Audit|Sys\.Modify|SDN\.|Pool\.)/],
  ["sdn", "/sdn", /^SDN\./],
  ["mapping", "/mapping", /^Mapping\./],
];

function cap(p: SimPrincipal): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [name, path, re] of CAP_GROUPS) {
    const privs = privsAt(p, path);
    out[name] = Object.fromEntries(Object.entries(privs).filter(([k]) => re.test(k)));
  }
  return out;
}

function login(ctx: SimContext): unknown {
  const nowS = Math.floor(ctx.sim.now() / 1000);
  const username = str(ctx, "username") ?? "";
  const password = str(ctx, "password") ?? "";
  const who = ctx.sim.principals.login(username, password, str(ctx, "realm"), nowS);
  if (!who) throw new SimError(401, "authentication failure");
  const tickets = ctx.sim.principals.tickets;
  return {
    username: who.userid,
    ticket: tickets.issueTicket(who.userid, nowS),
    CSRFPreventionToken: tickets.issueCsrf(who.userid, nowS),
    clustername: ctx.sim.state.clusterName,
    cap: cap(who),
  };
}

function permissions(ctx: SimContext): Record<string, Record<string, number>> {
  const me = ctx.principal;
  const userid = str(ctx, "userid");
  let who = me;
  if (userid !== undefined && userid !== me.id) {
    const ownToken = userid.startsWith(`${me.userid}!`);
    if (!ownToken && !ctx.sim.hasPriv(me, "/access", "Sys.Audit")) {
      throw new SimError(403, "Permission check failed (/access, Sys.Audit)");
    }
    const found = userid.includes("!") ? ctx.sim.principals.token(userid) : ctx.sim.principals.user(userid);
    if (!found) throw new SimError(500, `no such user ('${userid}')`);
    who = found;
  }
  const path = str(ctx, "path");
  const poolOf = (p: string) => {
    const m = /^\/vms\/(\d+)$/.exec(p);
    return m ? ctx.sim.state.guests.get(Number(m[1]))?.pool : undefined;
  };
  if (path !== undefined) return { [path]: privsAt(who, path, poolOf) };
  const paths = new Set(["/", ...who.acl.map((e) => e.path)]);
  const out: Record<string, Record<string, number>> = {};
  for (const p of paths) out[p] = privsAt(who, p, poolOf);
  return out;
}

const REALMS = [
  { realm: "pam", type: "pam", comment: "Linux PAM standard authentication" },
  { realm: "pve", type: "pve", comment: "Proxmox VE authentication server" },
];

/** Routes of this file. */
export const accessRoutes: SimRoute[] = [
  { method: "POST", path: "/access/ticket", handler: login },
  { method: "GET", path: "/access/ticket", handler: () => null },
  { method: "GET", path: "/access/domains", handler: () => REALMS.map((r) => ({ ...r })) },
  { method: "GET", path: "/access/permissions", handler: permissions },
];
