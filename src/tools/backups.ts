/**
 * `backup`: run a backup now (vzdump), list backup volumes, restore one (as a new guest, or over an existing one),
 * delete one.
 * @module
 */
import { type CallClass, type ChangePlan, type Effect, effect, type GuestTouch } from "../core/mod.ts";
import { z } from "zod";
import { defineTool, type ToolContext } from "./registry.ts";
import { NodeName, StorageId, VmId } from "../guard/schemas.ts";
import { pvePath } from "../pve/encode.ts";
import type { PveParamValue } from "../pve/types.ts";
import { startTask, TaskResult, taskText, WaitArg } from "./task_result.ts";
import { Cursor } from "../guard/schemas.ts";
import { PageLimit, paginate } from "./paging.ts";
import {
  DESTRUCTIVE,
  findGuest,
  guestLabel,
  guestState,
  isNotVisible,
  kind,
  matching,
  nextFreeVmid,
  pickNode,
} from "./guest_common.ts";

/** A backup volume id: `local:backup/vzdump-qemu-100-2025_01_02-03_04_05.vma.zst` or `pbs:backup/vm/100/2025-…Z`. */
export const BackupVolume = matching(
  /^[a-z][a-z0-9\-_.]*[a-z0-9]:[^\s,;=]{1,250}$/i,
  "must be a backup volume id like local:backup/vzdump-qemu-100-….vma.zst",
);

/** What a backup volume holds, read from its name; undefined when the name does not say. Pure. */
export function parseBackupVolume(volid: string): { storage: string; type: "qemu" | "lxc"; vmid: number } | undefined {
  const colon = volid.indexOf(":");
  const storage = volid.slice(0, colon);
  const rest = volid.slice(colon + 1);
  const dump = /(?:^|\/)vzdump-(qemu|lxc|openvz)-(\d+)-/.exec(rest);
  if (dump) return { storage, type: dump[1] === "qemu" ? "qemu" : "lxc", vmid: Number(dump[2]) };
  const pbs = /^backup\/(vm|ct)\/(\d+)\//.exec(rest);
  if (pbs) return { storage, type: pbs[1] === "vm" ? "qemu" : "lxc", vmid: Number(pbs[2]) };
  return undefined;
}

interface ContentRow {
  volid: string;
  vmid?: number;
  size?: number;
  ctime?: number;
  format?: string;
  notes?: string;
  protected?: number | boolean;
  content?: string;
}

const Input = z.object({
  action: z.enum(["run", "list", "restore", "delete"]),
  vmid: VmId.optional().describe("restore: target, default next free"),
  node: NodeName.optional().describe("Default: the guest's"),
  storage: StorageId.optional().describe("run/list: backup storage; restore: for disks"),
  volume: BackupVolume.optional().describe("restore/delete"),
  mode: z.enum(["snapshot", "suspend", "stop"]).default("snapshot"),
  compress: z.enum(["zstd", "gzip", "lzo", "none"]).default("zstd"),
  notes: z.string().max(1024).optional().describe("run, needs storage; {{guestname}} etc."),
  force: z.boolean().default(false).describe("restore: overwrite vmid (destructive)"),
  unique: z.boolean().default(false).describe("restore: new MACs"),
  start: z.boolean().default(false).describe("restore"),
  include_notes: z.boolean().default(false).describe("list"),
  limit: PageLimit,
  cursor: Cursor.optional(),
  wait: WaitArg,
}).strict();
type BackupArgs = z.infer<typeof Input>;

/** run/restore change things; restoring over an existing guest and deleting a backup destroy data. */
export function classifyBackup(args: Pick<BackupArgs, "action" | "force">): CallClass {
  if (args.action === "list") return "read";
  if (args.action === "delete" || (args.action === "restore" && args.force)) return "destructive";
  return "write";
}

/**
 * What a call touches. run: the guest (its source; the target when suspend/stop mode interrupts it) and the backup
 * storage. delete: the guest the backup belongs to. restore: the backed-up guest (source), the vmid restored to (new,
 * or the target it overwrites with force), the node and storage. A vmid or node left to run time, and a backup whose
 * name does not say its guest, are undetermined.
 */
export function backupEffect(args: BackupArgs): Effect {
  const cls = classifyBackup(args);
  if (args.action === "list") return effect({ cls });
  const storages = args.storage === undefined ? [] : [args.storage];
  if (args.action === "run") {
    if (args.vmid === undefined) return effect({ cls, storages, undetermined: "action=run names no vmid" });
    return effect({
      cls,
      storages,
      guests: [{ vmid: args.vmid, role: args.mode === "snapshot" ? "source" : "target" }],
    });
  }
  const info = args.volume === undefined ? undefined : parseBackupVolume(args.volume);
  if (!info) return effect({ cls, storages, undetermined: "the backup volume does not name its guest" });
  storages.push(info.storage);
  if (args.action === "delete") return effect({ cls, storages, guests: [{ vmid: info.vmid, role: "volume" }] });
  const guests: GuestTouch[] = [{ vmid: info.vmid, role: "source" }];
  const why: string[] = [];
  if (args.vmid !== undefined) guests.push({ vmid: args.vmid, role: args.force ? "target" : "new" });
  else why.push("the restored guest's vmid is picked at run time (next free): pass vmid");
  if (args.node === undefined) why.push("the restored guest's node is picked at run time: pass node");
  return effect({
    cls,
    storages,
    guests,
    nodes: args.node === undefined ? [] : [args.node],
    ...(why.length ? { undetermined: why.join("; ") } : {}),
  });
}

function need<K extends "vmid" | "volume">(args: BackupArgs, key: K): NonNullable<BackupArgs[K]> {
  const v = args[key];
  if (v === undefined) throw new TypeError(`action=${args.action} needs ${key}`);
  return v as NonNullable<BackupArgs[K]>;
}

function describeVolume(volume: string): { storage: string; type: "qemu" | "lxc"; vmid: number } {
  const info = parseBackupVolume(volume);
  if (!info) {
    throw new TypeError(`${volume.slice(0, 80)} is not a vzdump/PBS backup volume: pick one from action=list`);
  }
  return info;
}

/** Parameters of a restore request (qemu: `archive`, lxc: `ostemplate` + `restore=1`). Pure. */
export function restoreParams(
  type: "qemu" | "lxc",
  vmid: number,
  args: Pick<BackupArgs, "volume" | "storage" | "force" | "unique" | "start">,
): Record<string, PveParamValue> {
  const common = {
    vmid,
    storage: args.storage,
    force: args.force || undefined,
    unique: args.unique || undefined,
    start: args.start || undefined,
  };
  return type === "qemu" ? { ...common, archive: args.volume } : { ...common, ostemplate: args.volume, restore: true };
}

async function backupsOn(ctx: ToolContext, node: string, storage: string, vmid?: number): Promise<ContentRow[]> {
  const { data } = await ctx.pve.request<ContentRow[]>({
    method: "GET",
    path: pvePath("nodes", node, "storage", storage, "content"),
    params: { content: "backup", vmid },
    signal: ctx.signal,
  });
  return data ?? [];
}

async function listBackups(args: BackupArgs, ctx: ToolContext) {
  const guest = args.vmid === undefined ? undefined : await findGuest(ctx, args.vmid);
  const node = await pickNode(ctx, args.node ?? guest?.node, "Listing backups");
  let storages: string[];
  if (args.storage !== undefined) storages = [args.storage];
  else {
    const { data } = await ctx.pve.request<{ storage: string; active?: number }[]>({
      method: "GET",
      path: pvePath("nodes", node, "storage"),
      params: { content: "backup", enabled: true },
      signal: ctx.signal,
    });
    storages = (data ?? []).filter((s) => s.active !== 0).map((s) => s.storage).sort();
  }
  const rows: ContentRow[] = [];
  for (const s of storages) rows.push(...await backupsOn(ctx, node, s, args.vmid));
  rows.sort((a, b) => (b.ctime ?? 0) - (a.ctime ?? 0) || a.volid.localeCompare(b.volid));
  const page = paginate(rows, args.limit, args.cursor);
  return {
    node,
    total: rows.length,
    backups: page.items.map((r) => ({
      volid: r.volid,
      vmid: r.vmid ?? parseBackupVolume(r.volid)?.vmid ?? 0,
      ...(r.ctime !== undefined ? { time: r.ctime } : {}),
      ...(r.size !== undefined ? { size_mb: Math.round(r.size / 1048576) } : {}),
      ...(r.protected ? { protected: true } : {}),
      ...(args.include_notes && r.notes ? { notes: { untrusted: true as const, text: r.notes } } : {}),
    })),
    ...(page.next ? { next_cursor: page.next } : {}),
  };
}

/** Where a restore runs: the replaced guest's node, else the given one, else the backed-up guest's, else the only one. */
async function restoreNode(
  args: BackupArgs,
  ctx: ToolContext,
  existingNode: string | undefined,
  sourceVmid: number,
): Promise<string> {
  if (existingNode !== undefined) {
    if (args.node !== undefined && args.node !== existingNode) {
      throw new TypeError(`guest ${args.vmid} lives on ${existingNode}: restore over it there (omit node)`);
    }
    return existingNode;
  }
  if (args.node !== undefined) return args.node;
  // The backed-up guest only suggests a node; one this token cannot see suggests none.
  const source = await findGuest(ctx, sourceVmid).catch((e) => isNotVisible(e) ? undefined : Promise.reject(e));
  return source?.node ?? await pickNode(ctx, undefined, "Restoring a backup");
}

async function backupPlan(args: BackupArgs, ctx: ToolContext): Promise<ChangePlan> {
  if (args.action === "run") {
    const ref = await ctx.resolveGuest(need(args, "vmid"));
    const pause = { snapshot: "the guest keeps running", suspend: "the guest is paused", stop: "the guest is stopped" };
    return {
      action: `back up ${kind(ref.type)} ${ref.vmid}`,
      target: guestLabel(ref),
      current: guestState(ref),
      effect: `writes a new backup to ${args.storage ?? "the default storage"}; ${pause[args.mode]} while it runs`,
    };
  }
  const volume = need(args, "volume");
  const info = describeVolume(volume);
  if (args.action === "delete") {
    return {
      action: `delete backup ${volume}`,
      target: `backup of ${kind(info.type)} ${info.vmid} on storage ${info.storage}`,
      current: "present",
      effect: "removes the backup volume for good; it can no longer be restored",
    };
  }
  const vmid = args.vmid ?? await nextFreeVmid(ctx);
  const existing = await findGuest(ctx, vmid);
  return {
    action: `restore ${volume} over ${kind(info.type)} ${vmid}`,
    target: existing ? guestLabel(existing) : `vmid ${vmid} (does not exist yet)`,
    current: existing ? guestState(existing) : "no guest with this vmid",
    effect: existing
      ? "destroys the guest's current disks and config and replaces them with the backup's"
      : "creates a new guest from the backup",
  };
}

const Out = TaskResult.partial().extend({
  vmid: z.number().optional(),
  node: z.string().optional(),
  volid: z.string().optional(),
  total: z.number().optional(),
  backups: z.array(z.object({
    volid: z.string(),
    vmid: z.number(),
    time: z.number().optional(),
    size_mb: z.number().optional(),
    protected: z.boolean().optional(),
    notes: z.object({ untrusted: z.literal(true), text: z.string() }).optional(),
  })).optional(),
  next_cursor: z.string().optional(),
});

/** `backup`: run, list, restore, delete. */
export const backup = defineTool({
  name: "backup",
  title: "Run, list, restore or delete backups",
  description: "Back up a VM/CT now (vzdump), list backup volumes (newest first), restore one (as a new guest, or " +
    "over an existing one with force: destructive), or delete one (destructive).",
  toolset: "backups",
  annotations: DESTRUCTIVE,
  privileges: ["VM.Backup", "VM.Allocate", "Datastore.AllocateSpace", "Datastore.Audit", "Datastore.Allocate"],
  adminPrivileges: ["Datastore.Allocate"], // delete
  input: Input,
  output: Out,
  textCaps: { "backups.notes.text": 500 },
  readView: {
    actions: ["list"],
    privileges: ["Datastore.Audit"],
    params: ["vmid", "node", "storage", "include_notes", "limit", "cursor"],
    title: "List backups",
    description: "List backup volumes (newest first) of a VM/CT or on a storage.",
  },
  effect: backupEffect,
  plan: backupPlan,
  async handler(args, ctx) {
    if (args.action === "list") return await listBackups(args, ctx);
    if (args.action === "run") {
      const ref = await ctx.resolveGuest(need(args, "vmid"));
      if (args.notes !== undefined && args.storage === undefined) throw new TypeError("notes need storage");
      const res = await startTask(ctx, {
        method: "POST",
        path: pvePath("nodes", ref.node, "vzdump"),
        params: {
          vmid: String(ref.vmid),
          storage: args.storage,
          mode: args.mode,
          compress: args.compress === "none" ? "0" : args.compress,
          "notes-template": args.notes,
        },
      }, args.wait);
      let volid: string | undefined;
      if (res.ok && args.storage !== undefined) {
        volid = (await backupsOn(ctx, ref.node, args.storage, ref.vmid))
          .sort((a, b) => (b.ctime ?? 0) - (a.ctime ?? 0))[0]?.volid;
      }
      return { vmid: ref.vmid, node: ref.node, ...res, ...(volid ? { volid } : {}) };
    }
    const volume = need(args, "volume");
    const info = describeVolume(volume);
    if (args.action === "delete") {
      const node = await pickNode(ctx, args.node, "Deleting a backup");
      const res = await startTask(ctx, {
        method: "DELETE",
        // A volume id keeps its slashes in the path (PVE routes the rest of the path to {volume}).
        path: pvePath("nodes", node, "storage", info.storage, "content", ...volume.split("/")),
      }, args.wait);
      return { volid: volume, node, ...res };
    }
    // restore
    const vmid = args.vmid ?? await nextFreeVmid(ctx);
    const existing = await findGuest(ctx, vmid);
    if (existing && !args.force) {
      throw new TypeError(
        `${guestLabel(existing)} exists: omit vmid to restore as a new guest, or pass force=true to overwrite it`,
      );
    }
    if (existing && existing.type !== info.type) {
      throw new TypeError(
        `${guestLabel(existing)} is a ${existing.type} guest but the backup holds a ${info.type} one`,
      );
    }
    if (existing && existing.status !== "stopped") {
      throw new TypeError(`${guestLabel(existing)} is ${existing.status}: stop it before restoring over it`);
    }
    const node = await restoreNode(args, ctx, existing?.node, info.vmid);
    const res = await startTask(ctx, {
      method: "POST",
      path: pvePath("nodes", node, info.type),
      params: restoreParams(info.type, vmid, args),
    }, args.wait);
    return { vmid, node, volid: volume, ...res };
  },
  text: (out) => {
    if (out.backups) {
      return `${out.backups.length} of ${out.total} backups on ${out.node}` +
        (out.next_cursor ? ` (more: cursor ${out.next_cursor})` : "") + "\n" +
        out.backups.map((b) =>
          `${b.volid}\t${b.vmid}\t${b.time ? `${new Date(b.time * 1000).toISOString()} (${b.time})` : "-"}\t` +
          `${b.size_mb ?? "?"} MiB` +
          (b.protected ? "\tprotected" : "") + (b.notes ? `\tnotes (untrusted): ${b.notes.text}` : "")
        ).join("\n");
    }
    const what = out.volid ? `backup ${out.volid}` : `backup of ${out.vmid}`;
    return taskText(what, { ...out, upid: out.upid ?? "", status: out.status ?? "stopped" });
  },
});
