/**
 * Resource pool tools: list and members (read); create, update membership/comment, delete (changes).
 * Membership changes name one guest per call, so guest selectors and protection apply to it.
 * @module
 */
import { type ChangePlan, effect } from "../core/mod.ts";
import { z } from "zod";
import { defineTool, type ToolContext } from "./registry.ts";
import { PoolId, StorageId, VmId } from "../guard/schemas.ts";
import { InfoOut, infoText, READ, table } from "./infra_common.ts";

type Obj = Record<string, unknown>;

async function getPool(poolid: string, ctx: ToolContext): Promise<Obj | undefined> {
  const { data } = await ctx.pve.request<Obj[]>({
    method: "GET",
    path: "/pools",
    params: { poolid },
    signal: ctx.signal,
  });
  return data.find((p) => p.poolid === poolid);
}

/** `pool_info`: all pools with member counts, or one pool's members. */
export const poolInfo = defineTool({
  name: "pool_info",
  title: "Pool info",
  description: "No poolid: pools with member counts. With poolid: its guests and storages.",
  toolset: "pools",
  annotations: READ,
  privileges: ["Pool.Audit"],
  input: z.object({ poolid: PoolId.optional() }).strict(),
  output: InfoOut,
  async handler(args, ctx) {
    if (args.poolid === undefined) {
      const { data } = await ctx.pve.request<Obj[]>({ method: "GET", path: "/pools", signal: ctx.signal });
      const rows = [...data].sort((a, b) => String(a.poolid).localeCompare(String(b.poolid)));
      return {
        total: rows.length,
        ...table(rows, ["poolid", "guests", "storages", "comment"], {
          guests: (r) => members(r).filter((m) => m.type !== "storage").length,
          storages: (r) => members(r).filter((m) => m.type === "storage").length,
        }),
      };
    }
    const pool = await getPool(args.poolid, ctx);
    if (!pool) throw new TypeError(`Pool "${args.poolid}" does not exist: list pools with pool_info`);
    const rows = members(pool).sort((a, b) => String(a.id).localeCompare(String(b.id)));
    return {
      total: rows.length,
      ...table(rows, ["id", "type", "vmid", "name", "node", "storage", "status"]),
      ...(typeof pool.comment === "string" ? { info: { comment: pool.comment } } : {}),
    };
  },
  text: (o) => infoText(o),
});

function members(pool: Obj): Obj[] {
  return Array.isArray(pool.members) ? pool.members as Obj[] : [];
}

const changeInput = z.object({
  action: z.enum(["create", "update", "delete"]),
  poolid: PoolId,
  comment: z.string().max(512).optional(),
  vmid: VmId.optional(),
  storage: StorageId.optional(),
  remove: z.boolean().default(false),
}).strict();
type ChangeArgs = z.infer<typeof changeInput>;

async function changePlan(args: ChangeArgs, ctx: ToolContext): Promise<ChangePlan> {
  const pool = await getPool(args.poolid, ctx).catch(() => undefined);
  const n = pool ? members(pool).length : 0;
  return {
    action: `${args.action} pool ${args.poolid}`,
    target: `pool ${args.poolid}`,
    current: pool ? `exists, ${n} members` : "does not exist",
    effect: n > 0 ? "PVE refuses to delete a pool that still has members" : "the empty pool is removed",
  };
}

/** `pool_change`: creates a pool, updates its comment or membership (one guest/storage per call), or deletes it. */
export const poolChange = defineTool({
  name: "pool_change",
  title: "Pool change",
  description:
    "create; delete (empty pool only; destructive); update: comment, or add/remove (remove: true) one vmid or storage.",
  toolset: "pools",
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  privileges: ["Pool.Allocate"],
  input: changeInput,
  output: z.object({ done: z.string() }),
  // The pool itself, and on update the guest that joins or leaves it (a guest in another pool is moved out of that one).
  effect: (args) =>
    effect({
      cls: args.action === "delete" ? "destructive" : "write",
      pools: [args.poolid],
      guests: args.action === "update" && args.vmid !== undefined ? [{ vmid: args.vmid, role: "member" }] : [],
      storages: args.action === "update" && args.storage !== undefined ? [args.storage] : [],
    }),
  plan: changePlan,
  async handler(args, ctx) {
    const req = (method: "POST" | "PUT" | "DELETE", params: Obj) =>
      ctx.pveWrite.request({ method, path: "/pools", params: params as never, signal: ctx.signal });
    if (args.action === "create") {
      await req("POST", { poolid: args.poolid, comment: args.comment });
      return { done: `created pool ${args.poolid}` };
    }
    if (args.action === "delete") {
      await req("DELETE", { poolid: args.poolid });
      return { done: `deleted pool ${args.poolid}` };
    }
    if (args.comment === undefined && args.vmid === undefined && args.storage === undefined) {
      throw new TypeError(`Cannot update pool ${args.poolid}: pass comment, vmid or storage`);
    }
    const params: Obj = { poolid: args.poolid, comment: args.comment, vms: args.vmid, storage: args.storage };
    if (args.remove) params.delete = true;
    else if (args.vmid !== undefined) params["allow-move"] = true;
    await req("PUT", params);
    const what = [args.vmid && `guest ${args.vmid}`, args.storage && `storage ${args.storage}`].filter(Boolean).join(
      ", ",
    );
    return {
      done: what
        ? `${args.remove ? "removed" : "added"} ${what} ${args.remove ? "from" : "to"} pool ${args.poolid}`
        : `updated pool ${args.poolid}`,
    };
  },
  text: (o) => `Done: ${o.done}`,
});
