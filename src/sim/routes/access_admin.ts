/**
 * Access administration endpoints (users, groups, roles, ACL, API tokens) and pool changes (create, update
 * membership, delete). Tokens created here are listed and deletable; they do not authenticate requests.
 * @module
 */
import { randomUUID } from "node:crypto";
import { bool, int, type SimContext, SimError, type SimRoute, str } from "../router.ts";
import { infraOf, type SimUser } from "./infra_state.ts";

type Obj = Record<string, unknown>;

/** Users, with the simulator's own API tokens (ids only) merged in once. */
function usersOf(ctx: SimContext): Map<string, SimUser> {
  const infra = infraOf(ctx.sim.state) as ReturnType<typeof infraOf> & { tokensMerged?: boolean };
  if (!infra.tokensMerged) {
    infra.tokensMerged = true;
    for (const cred of Object.values(ctx.sim.principals.tokenCredentials)) {
      const [userid = "", tokenid = ""] = cred.tokenId.split("!");
      let u = infra.users.get(userid);
      if (!u) infra.users.set(userid, u = { userid, enable: 1, expire: 0, groups: [], tokens: new Map() });
      u.tokens.set(tokenid, { expire: 0, privsep: userid === "root@pam" ? 0 : 1, comment: "simulator token" });
    }
  }
  return infra.users;
}

function userOf(ctx: SimContext): SimUser {
  const userid = str(ctx, "userid") ?? "";
  const u = usersOf(ctx).get(userid);
  if (!u) throw new SimError(500, `no such user ('${userid}')`);
  return u;
}

function tokenView(tokenid: string, t: { comment?: string; expire: number; privsep: number }): Obj {
  return { tokenid, expire: t.expire, privsep: t.privsep, ...(t.comment ? { comment: t.comment } : {}) };
}

function listUsers(ctx: SimContext): Obj[] {
  const full = bool(ctx, "full") ?? false;
  const enabled = bool(ctx, "enabled");
  const out: Obj[] = [];
  for (const u of [...usersOf(ctx).values()].sort((a, b) => a.userid.localeCompare(b.userid))) {
    if (enabled !== undefined && (u.enable === 1) !== enabled) continue;
    const o: Obj = { userid: u.userid, enable: u.enable, expire: u.expire, "realm-type": u.userid.split("@")[1] };
    if (u.comment) o.comment = u.comment;
    if (u.email) o.email = u.email;
    if (u.groups.length) o.groups = u.groups.join(",");
    if (full) o.tokens = [...u.tokens].map(([id, t]) => tokenView(id, t));
    out.push(o);
  }
  return out;
}

function listGroups(ctx: SimContext): Obj[] {
  const infra = infraOf(ctx.sim.state);
  const users = usersOf(ctx);
  return [...infra.groups].map(([groupid, g]) => {
    const members = [...users.values()].filter((u) => u.groups.includes(groupid)).map((u) => u.userid);
    return {
      groupid,
      ...(g.comment ? { comment: g.comment } : {}),
      ...(members.length ? { users: members.join(",") } : {}),
    };
  });
}

function listRoles(ctx: SimContext): Obj[] {
  return [...infraOf(ctx.sim.state).roles].map(([roleid, r]) => ({
    roleid,
    privs: r.privs.join(","),
    special: r.special,
  }));
}

function listAcl(ctx: SimContext): Obj[] {
  const infra = infraOf(ctx.sim.state);
  const tokens: Obj[] = [];
  for (const cred of Object.values(ctx.sim.principals.tokenCredentials)) {
    const p = ctx.sim.principals.token(cred.tokenId);
    for (const e of p?.acl ?? []) {
      const roleid = e.privs.includes("*") ? "Administrator" : e.privs.length > 20 ? "MCPOperator" : "PVEAuditor";
      tokens.push({
        path: e.path,
        type: "token",
        ugid: cred.tokenId,
        roleid,
        propagate: e.propagate === false ? 0 : 1,
      });
    }
  }
  return [...infra.acl.map((e) => ({ ...e })), ...tokens];
}

function listTokens(ctx: SimContext): Obj[] {
  return [...userOf(ctx).tokens].map(([id, t]) => tokenView(id, t));
}

function getToken(ctx: SimContext): Obj {
  const u = userOf(ctx);
  const tokenid = str(ctx, "tokenid") ?? "";
  const t = u.tokens.get(tokenid);
  if (!t) throw new SimError(500, `no such token '${tokenid}' for user '${u.userid}'`);
  return { expire: t.expire, privsep: t.privsep, ...(t.comment ? { comment: t.comment } : {}) };
}

function createToken(ctx: SimContext): Obj {
  const u = userOf(ctx);
  const tokenid = str(ctx, "tokenid") ?? "";
  if (u.tokens.has(tokenid)) throw new SimError(500, `Token already exists.`);
  const comment = str(ctx, "comment");
  const t = {
    expire: int(ctx, "expire") ?? u.expire,
    privsep: bool(ctx, "privsep") === false ? 0 : 1,
    ...(comment ? { comment } : {}),
  };
  u.tokens.set(tokenid, t);
  ctx.sim.state.touch();
  return { "full-tokenid": `${u.userid}!${tokenid}`, info: { ...t }, value: randomUUID() };
}

function deleteToken(ctx: SimContext): null {
  const u = userOf(ctx);
  const tokenid = str(ctx, "tokenid") ?? "";
  if (!u.tokens.delete(tokenid)) throw new SimError(500, `no such token '${tokenid}' for user '${u.userid}'`);
  ctx.sim.state.touch();
  return null;
}

function poolName(ctx: SimContext): string {
  return str(ctx, "poolid") ?? "";
}

function createPool(ctx: SimContext): null {
  const name = poolName(ctx);
  const { pools } = ctx.sim.state;
  if (pools.has(name)) throw new SimError(500, `create pool failed: pool '${name}' already exists`);
  const comment = str(ctx, "comment");
  pools.set(name, comment ? { comment } : {});
  ctx.sim.state.touch();
  return null;
}

function updatePool(ctx: SimContext): null {
  const name = poolName(ctx);
  const state = ctx.sim.state;
  const pool = state.pools.get(name);
  if (!pool) throw new SimError(500, `update pools failed: pool '${name}' does not exist`);
  const remove = bool(ctx, "delete") ?? false;
  const move = bool(ctx, "allow-move") ?? false;
  const comment = str(ctx, "comment");
  if (comment !== undefined) pool.comment = comment;
  for (const id of (str(ctx, "vms") ?? "").split(/[,;\s]+/).filter(Boolean).map(Number)) {
    const g = state.guests.get(id);
    if (!g) throw new SimError(500, `update pools failed: VM ${id} does not exist`);
    if (remove) {
      if (g.pool !== name) throw new SimError(500, `update pools failed: VM ${id} is not a pool member`);
      state.updateGuest(id, (x) => delete x.pool);
    } else {
      if (g.pool !== undefined && g.pool !== name && !move) {
        throw new SimError(
          500,
          `update pools failed: VM ${id} belongs already to pool '${g.pool}' and allow-move is not set`,
        );
      }
      state.updateGuest(id, (x) => (x.pool = name));
    }
  }
  const storages = infraOf(state).poolStorages;
  for (const sid of (str(ctx, "storage") ?? "").split(/[,;\s]+/).filter(Boolean)) {
    if (!state.storages.has(sid)) throw new SimError(500, `update pools failed: storage '${sid}' does not exist`);
    let set = storages.get(name);
    if (!set) storages.set(name, set = new Set());
    if (remove) set.delete(sid);
    else set.add(sid);
  }
  state.touch();
  return null;
}

function deletePool(ctx: SimContext): null {
  const name = poolName(ctx);
  const state = ctx.sim.state;
  if (!state.pools.has(name)) throw new SimError(500, `delete pool failed: pool '${name}' does not exist`);
  const members = [...state.guests.values()].some((g) => g.pool === name) ||
    (infraOf(state).poolStorages.get(name)?.size ?? 0) > 0;
  if (members) throw new SimError(500, `delete pool failed: pool '${name}' is not empty`);
  state.pools.delete(name);
  state.touch();
  return null;
}

/** Routes of this file. */
export const accessAdminRoutes: SimRoute[] = [
  { method: "GET", path: "/access/users", handler: listUsers },
  { method: "GET", path: "/access/groups", handler: listGroups },
  { method: "GET", path: "/access/roles", handler: listRoles },
  { method: "GET", path: "/access/acl", handler: listAcl },
  { method: "GET", path: "/access/users/{userid}/token", handler: listTokens },
  { method: "GET", path: "/access/users/{userid}/token/{tokenid}", handler: getToken },
  { method: "POST", path: "/access/users/{userid}/token/{tokenid}", handler: createToken },
  { method: "DELETE", path: "/access/users/{userid}/token/{tokenid}", handler: deleteToken },
  { method: "POST", path: "/pools", handler: createPool },
  { method: "PUT", path: "/pools", handler: updatePool },
  { method: "DELETE", path: "/pools", handler: deletePool },
];
