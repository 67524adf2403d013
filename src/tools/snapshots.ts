/**
 * `snapshot`: list, create (with or without RAM), roll back to, or delete guest snapshots.
 * @module
 */
import { type CallClass, type ChangePlan, effect, type GuestRef } from "../core/mod.ts";
import { z } from "zod";
import { defineTool, type ToolContext } from "./registry.ts";
import { VmId } from "../guard/schemas.ts";
import { startTask, TaskResult, taskText, WaitArg } from "./task_result.ts";
import { DESTRUCTIVE, guestLabel, guestPath, guestState, kind, matching } from "./guest_common.ts";

/** A snapshot name (`pve-configid`, at most 40 characters; `current` is reserved). */
export const SnapName = matching(/^(?!current$)[a-z][a-z0-9_-]{0,39}$/i, "must be a name like before_upgrade", 40);

/** One row of `GET .../snapshot`. */
export interface SnapshotRow {
  name: string;
  parent?: string;
  snaptime?: number;
  description?: string;
  vmstate?: number;
  running?: number;
}

const Input = z.object({
  vmid: VmId,
  action: z.enum(["list", "create", "rollback", "delete"]).default("list"),
  name: SnapName.optional(),
  description: z.string().max(8192).optional().describe("create"),
  vmstate: z.boolean().default(false).describe("create: with RAM (qemu)"),
  start: z.boolean().default(false).describe("rollback: start after"),
  include_notes: z.boolean().default(false).describe("list: descriptions"),
  wait: WaitArg,
}).strict();
type SnapArgs = z.infer<typeof Input>;

/** list is a read, create a write, rollback and delete destroy state: destructive. */
export function classifySnapshot(args: Pick<SnapArgs, "action">): CallClass {
  if (args.action === "list") return "read";
  return args.action === "create" ? "write" : "destructive";
}

/** One snapshot as the tool returns it. */
export const SnapshotOut = z.object({
  name: z.string(),
  parent: z.string().optional(),
  time: z.number().optional(),
  ram: z.boolean().optional(),
  description: z.object({ untrusted: z.literal(true), text: z.string() }).optional(),
});

async function listSnapshots(ctx: ToolContext, ref: GuestRef): Promise<SnapshotRow[]> {
  const { data } = await ctx.pve.request<SnapshotRow[]>({
    method: "GET",
    path: guestPath(ref, "snapshot"),
    signal: ctx.signal,
  });
  return data ?? [];
}

/** Orders snapshots along the parent chain (oldest first); `current` marks where the guest is now. Pure. */
export function orderSnapshots(rows: readonly SnapshotRow[]): SnapshotRow[] {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const depth = (r: SnapshotRow): number => {
    let d = 0;
    for (let p = r.parent; p !== undefined && d < rows.length; p = byName.get(p)?.parent) d++;
    return d;
  };
  return rows.slice().sort((a, b) =>
    depth(a) - depth(b) || (a.snaptime ?? Infinity) - (b.snaptime ?? Infinity) || a.name.localeCompare(b.name)
  );
}

/**
 * A guest's snapshots, oldest first along the parent chain, and the one the current state descends from.
 * Descriptions (untrusted text) only when asked for, cleaned and labelled. Read-only; reusable by read tools.
 */
export async function snapshotList(
  ctx: ToolContext,
  ref: GuestRef,
  includeNotes: boolean,
): Promise<{ snapshots: z.infer<typeof SnapshotOut>[]; current_parent?: string }> {
  const rows = orderSnapshots(await listSnapshots(ctx, ref));
  const current = rows.find((r) => r.name === "current");
  return {
    snapshots: rows.filter((r) => r.name !== "current").map((r) => ({
      name: r.name,
      ...(r.parent !== undefined ? { parent: r.parent } : {}),
      ...(r.snaptime !== undefined ? { time: r.snaptime } : {}),
      ...(r.vmstate ? { ram: true } : {}),
      ...(includeNotes && r.description ? { description: { untrusted: true as const, text: r.description } } : {}),
    })),
    ...(current?.parent !== undefined ? { current_parent: current.parent } : {}),
  };
}

function needName(args: SnapArgs): string {
  if (args.name === undefined) throw new TypeError(`action=${args.action} needs name`);
  return args.name;
}

function findSnapshot(ref: GuestRef, rows: SnapshotRow[], name: string): SnapshotRow {
  const row = rows.find((r) => r.name === name && name !== "current");
  if (!row) {
    const names = rows.filter((r) => r.name !== "current").map((r) => r.name);
    throw new TypeError(`${guestLabel(ref)} has no snapshot "${name}" (has: ${names.join(", ") || "none"})`);
  }
  return row;
}

function when(t: number | undefined): string {
  return t === undefined ? "unknown time" : new Date(t * 1000).toISOString().replace(".000Z", "Z");
}

async function snapshotPlan(args: SnapArgs, ctx: ToolContext): Promise<ChangePlan> {
  const ref = await ctx.resolveGuest(args.vmid);
  const rows = await listSnapshots(ctx, ref);
  const name = needName(args);
  const count = rows.filter((r) => r.name !== "current").length;
  const head = {
    action: `${args.action} snapshot "${name}" of ${kind(ref.type)} ${ref.vmid}`,
    target: guestLabel(ref),
    current: `${guestState(ref)}, ${count} snapshot${count === 1 ? "" : "s"}`,
  };
  if (args.action === "create") {
    return { ...head, effect: `records disks and config${args.vmstate ? " and RAM" : ""} as snapshot "${name}"` };
  }
  const snap = findSnapshot(ref, rows, name);
  const effect = args.action === "rollback"
    ? `reverts disks and config to snapshot "${name}" taken ${when(snap.snaptime)}: every change since is lost` +
      (snap.vmstate ? "; the guest resumes from the saved RAM" : args.start ? "; then starts the guest" : "")
    : `deletes snapshot "${name}" taken ${when(snap.snaptime)}; it can no longer be rolled back to`;
  return { ...head, effect };
}

/** `snapshot`: list, create, rollback, delete. */
export const snapshot = defineTool({
  name: "snapshot",
  title: "List, create, roll back or delete snapshots",
  description: "List (parent chain, oldest first), create, rollback or delete snapshots of a VM/CT. rollback and " +
    "delete are destructive.",
  toolset: "snapshots",
  annotations: DESTRUCTIVE,
  privileges: ["VM.Snapshot", "VM.Snapshot.Rollback", "VM.Audit"],
  adminPrivileges: ["VM.Snapshot.Rollback"],
  input: Input,
  output: TaskResult.partial().extend({
    vmid: z.number(),
    snapshots: z.array(SnapshotOut).optional(),
    current_parent: z.string().optional(),
  }),
  textCaps: { "snapshots.description.text": 500 },
  readView: {
    actions: ["list"],
    privileges: ["VM.Audit"],
    params: ["vmid", "include_notes"],
    title: "List snapshots",
    description: "List the snapshots of a VM/CT (parent chain, oldest first).",
  },
  effect: (args) => effect({ cls: classifySnapshot(args), guests: [{ vmid: args.vmid, role: "target" }] }),
  plan: snapshotPlan,
  async handler(args, ctx) {
    const ref = await ctx.resolveGuest(args.vmid);
    if (args.action === "list") return { vmid: ref.vmid, ...await snapshotList(ctx, ref, args.include_notes) };
    const name = needName(args);
    if (args.action === "create") {
      if (args.vmstate && ref.type === "lxc") throw new TypeError("vmstate (RAM) applies to VMs only");
      const res = await startTask(ctx, {
        method: "POST",
        path: guestPath(ref, "snapshot"),
        params: { snapname: name, description: args.description, vmstate: args.vmstate || undefined },
      }, args.wait);
      return { vmid: ref.vmid, ...res };
    }
    findSnapshot(ref, await listSnapshots(ctx, ref), name);
    const res = args.action === "rollback"
      ? await startTask(ctx, {
        method: "POST",
        path: guestPath(ref, "snapshot", name, "rollback"),
        params: { start: args.start || undefined },
      }, args.wait)
      : await startTask(ctx, {
        method: "DELETE",
        path: guestPath(ref, "snapshot", name),
      }, args.wait);
    return { vmid: ref.vmid, ...res };
  },
  text: (out) => {
    if (out.snapshots) {
      if (out.snapshots.length === 0) return `guest ${out.vmid}: no snapshots`;
      return `guest ${out.vmid}: ${out.snapshots.length} snapshots (current after ${out.current_parent ?? "none"})\n` +
        out.snapshots.map((s) =>
          `${s.name}\tparent=${s.parent ?? "-"}\t${when(s.time)}${s.time ? ` (${s.time})` : ""}${
            s.ram ? "\tram" : ""
          }` +
          (s.description ? `\tnotes (untrusted): ${s.description.text}` : "")
        ).join("\n");
    }
    return taskText(`snapshot of ${out.vmid}`, { ...out, upid: out.upid ?? "", status: out.status ?? "stopped" });
  },
});
