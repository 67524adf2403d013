/**
 * Access tools: users, groups, roles, ACLs and API tokens (read); API token creation and deletion (changes).
 * A new token's secret goes into the server's secret store and is never returned.
 * @module
 */
import { type ChangePlan, effect } from "../core/mod.ts";
import { z } from "zod";
import { defineTool, type ToolContext } from "./registry.ts";
import { log } from "../log.ts";
import { InfoOut, infoText, READ, table } from "./infra_common.ts";

type Obj = Record<string, unknown>;

/** A user id (`pve-userid`): `name@realm`. */
export const UserId = z.string().regex(/^[^\s:/@!]+@[\w.-]+$/, "must be a user id like ops@pve").max(64);
/** A token name (the part after `!`). */
export const TokenName = z.string().regex(/^[A-Za-z][\w.-]+$/, "must be a token name like mcp").max(64);

/**
 * Name under which a token's secret is stored: `pve-token.<user>.<realm>.<tokenid>` in lower case with safe characters,
 * at most 64 characters (longer names are cut and end in a short hash so they stay unique).
 */
export function tokenSecretName(userid: string, tokenid: string): string {
  const name = `pve-token.${userid.replace("@", ".")}.${tokenid}`.toLowerCase().replace(/[^a-z0-9._-]/g, "_");
  if (name.length <= 64) return name;
  let h = 0x811c9dc5; // FNV-1a
  for (const ch of `${userid}!${tokenid}`) h = Math.imul(h ^ ch.codePointAt(0)!, 0x01000193) >>> 0;
  return `${name.slice(0, 55)}-${h.toString(16).padStart(8, "0")}`;
}

/** `access_info`: users, groups, roles, ACL entries or API tokens. */
export const accessInfo = defineTool({
  name: "access_info",
  title: "Access info",
  description: "view users|groups|roles|acl|tokens (of userid, or all), or secrets: names in the server's secret " +
    "store (for secret://NAME arguments). Never shows secret values.",
  toolset: "access",
  annotations: READ,
  privileges: ["Sys.Audit"], // tokens of one userid also need User.Modify (PVE: userid-group); all tokens come via users?full=1
  input: z.object({
    view: z.enum(["users", "groups", "roles", "acl", "tokens", "secrets"]).default("users"),
    userid: UserId.optional(),
  }).strict(),
  output: InfoOut,
  async handler(args, ctx) {
    const get = async <T>(path: string, params?: Obj) =>
      (await ctx.pve.request<T>({ method: "GET", path, params: params as never, signal: ctx.signal })).data;
    switch (args.view) {
      case "users": {
        const rows = (await get<Obj[]>("/access/users", { full: 1 })).sort(by("userid"));
        return {
          total: rows.length,
          ...table(rows, ["userid", "enable", "expire", "realm-type", "groups", "tokens", "comment"], {
            tokens: (r) => (Array.isArray(r.tokens) ? r.tokens.map((t) => (t as Obj).tokenid).join(",") : null),
          }),
        };
      }
      case "groups": {
        const rows = (await get<Obj[]>("/access/groups")).sort(by("groupid"));
        return { total: rows.length, ...table(rows, ["groupid", "users", "comment"]) };
      }
      case "roles": {
        const rows = (await get<Obj[]>("/access/roles")).sort(by("roleid"));
        return { total: rows.length, ...table(rows, ["roleid", "special", "privs"]) };
      }
      case "acl": {
        const rows = (await get<Obj[]>("/access/acl")).sort(by("path"));
        return { total: rows.length, ...table(rows, ["path", "type", "ugid", "roleid", "propagate"]) };
      }
      case "secrets": {
        // Names and dates only: values never leave the store through a tool.
        const rows = ctx.secrets ? (await ctx.secrets.list()) as unknown as Obj[] : [];
        return { total: rows.length, ...table(rows, ["name", "created", "lastUsed"]) };
      }
      case "tokens": {
        let rows: Obj[];
        if (args.userid) {
          rows = (await get<Obj[]>(`/access/users/${encodeURIComponent(args.userid)}/token`))
            .map((t) => ({ ...t, tokenid: `${args.userid}!${t.tokenid}` }));
        } else {
          rows = (await get<Obj[]>("/access/users", { full: 1 })).flatMap((u) =>
            (Array.isArray(u.tokens) ? u.tokens as Obj[] : []).map((t) => ({
              ...t,
              tokenid: `${u.userid}!${t.tokenid}`,
            }))
          );
        }
        rows.sort(by("tokenid"));
        return { total: rows.length, ...table(rows, ["tokenid", "privsep", "expire", "comment"]) };
      }
    }
  },
  text: (o) => infoText(o),
});

function by(key: string): (a: Obj, b: Obj) => number {
  return (a, b) => String(a[key]).localeCompare(String(b[key]));
}

const tokenInput = z.object({
  action: z.enum(["create", "delete"]),
  userid: UserId,
  tokenid: TokenName,
  comment: z.string().max(200).optional(),
  expire: z.number().int().min(0).max(4e9).optional().describe("epoch s, 0: never"),
  privsep: z.boolean().default(true),
}).strict();
type TokenArgs = z.infer<typeof tokenInput>;

function tokenPath(args: TokenArgs): string {
  return `/access/users/${encodeURIComponent(args.userid)}/token/${encodeURIComponent(args.tokenid)}`;
}

async function tokenPlan(args: TokenArgs, ctx: ToolContext): Promise<ChangePlan> {
  const full = `${args.userid}!${args.tokenid}`;
  if (args.action === "create") {
    return {
      action: `create API token ${full} without privilege separation`,
      target: full,
      current: "does not exist",
      effect: `the token gets every privilege of ${args.userid}; its secret is stored in the secret store`,
    };
  }
  let current: string;
  try {
    const { data } = await ctx.pve.request<Obj>({ method: "GET", path: tokenPath(args), signal: ctx.signal });
    current = `exists, privsep ${data.privsep ?? 1}, expire ${data.expire || "never"}`;
  } catch {
    current = "not found";
  }
  return {
    action: `delete API token ${full}`,
    target: full,
    current,
    effect: "every client that uses this token loses access at once; this cannot be undone",
  };
}

/** `access_token`: creates an API token (secret stored, not returned) or deletes one. */
export const accessToken = defineTool({
  name: "access_token",
  title: "API token create/delete",
  description:
    "create: the secret goes to the server secret store; only secret://NAME is returned. delete, and create with privsep false, are destructive.",
  toolset: "access",
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  privileges: ["User.Modify"],
  input: tokenInput,
  output: z.object({
    tokenid: z.string(),
    action: z.string(),
    secret_ref: z.string().optional(),
    privsep: z.boolean().optional(),
    expire: z.number().optional(),
  }),
  // Tokens touch no guest, node or pool: the mode decides.
  effect: (args) => effect({ cls: args.action === "delete" || !args.privsep ? "destructive" : "write" }),
  plan: tokenPlan,
  async handler(args, ctx) {
    const full = `${args.userid}!${args.tokenid}`;
    if (args.action === "delete") {
      await ctx.pveWrite.request({ method: "DELETE", path: tokenPath(args), signal: ctx.signal });
      return { tokenid: full, action: "deleted" };
    }
    const store = ctx.secrets;
    if (!store) {
      throw new TypeError(
        `Cannot create token ${full}: no secret store is configured, and a token secret is never returned ` +
          "(configure secrets.storeFile and a master key, then retry)",
      );
    }
    const { data } = await ctx.pveWrite.request<{ value?: string; "full-tokenid"?: string; info?: Obj }>({
      method: "POST",
      path: tokenPath(args),
      params: { comment: args.comment, expire: args.expire, privsep: args.privsep },
      signal: ctx.signal,
    });
    const value = data?.value;
    if (typeof value !== "string" || value === "") {
      throw new TypeError(`Cannot create token ${full}: PVE returned no secret`);
    }
    let ref: string;
    try {
      const name = tokenSecretName(args.userid, args.tokenid);
      await store.set(name, value);
      ref = `secret://${name}`;
    } catch (e) {
      // Without a stored secret the token is useless and unrecoverable: remove it again.
      await ctx.pveWrite.request({ method: "DELETE", path: tokenPath(args), signal: ctx.signal }).catch((d) =>
        log("tools").error("Token {token} created but neither stored nor removed: {error}", {
          token: full,
          error: String(d),
        })
      );
      throw new TypeError(
        `Cannot create token ${full}: storing its secret failed, token removed again (${(e as Error).message})`,
      );
    }
    const info = data.info ?? {};
    return {
      tokenid: data["full-tokenid"] ?? full,
      action: "created",
      secret_ref: ref,
      privsep: info.privsep === undefined ? args.privsep : Boolean(Number(info.privsep)),
      ...(typeof info.expire === "number" ? { expire: info.expire } : {}),
    };
  },
  text: (o) =>
    o.action === "created"
      ? `Token ${o.tokenid} created (privsep ${o.privsep}` + (o.expire !== undefined ? `, expire ${o.expire}` : "") +
        `); secret stored as ${o.secret_ref}`
      : `Token ${o.tokenid} ${o.action}`,
});
