/**
 * Guest lifecycle beyond power and creation: `guest_manage` (convert to template, delete, migrate, next free vmid).
 * Clones are made by `guest_create` with a source.
 * @module
 */
import { type CallClass, type ChangePlan, type Effect, effect, type GuestRef } from "../core/mod.ts";
import { z } from "zod";
import { defineTool, type ToolContext } from "./registry.ts";
import { NodeName, StorageId, VmId } from "../guard/schemas.ts";
import type { PveParamValue } from "../pve/types.ts";
import { startTask, TaskResult, taskText, WaitArg } from "./task_result.ts";
import { DESTRUCTIVE, ensureVmidFree, guestLabel, guestPath, guestState, kind, nextFreeVmid } from "./guest_common.ts";

const MANAGE_ACTIONS = ["template", "delete", "migrate", "nextid"] as const;

const ManageInput = z.object({
  action: z.enum(MANAGE_ACTIONS),
  vmid: VmId.optional().describe("nextid: check it is free"),
  purge: z.boolean().default(false).describe("delete: also from jobs, HA, replication"),
  target_node: NodeName.optional().describe("migrate"),
  online: z.boolean().optional().describe("migrate: live (qemu) / restart (lxc); default when running"),
  with_local_disks: z.boolean().default(false).describe("migrate (qemu)"),
  target_storage: StorageId.optional().describe("migrate: for local disks"),
  wait: WaitArg,
}).strict();
type ManageArgs = z.infer<typeof ManageInput>;

/** Converting to a template is irreversible and deleting destroys data: both destructive. */
export function classifyManage(args: Pick<ManageArgs, "action">): CallClass {
  if (args.action === "nextid") return "read";
  return args.action === "migrate" ? "write" : "destructive";
}

/** What a call touches: the guest, and for a migration its target node and storage. */
export function manageEffect(args: ManageArgs): Effect {
  const cls = classifyManage(args);
  if (args.action === "nextid") return effect({ cls });
  if (args.vmid === undefined) return effect({ cls, undetermined: `action=${args.action} names no vmid` });
  const migrate = args.action === "migrate";
  return effect({
    cls,
    guests: [{ vmid: args.vmid, role: "target" }],
    nodes: migrate && args.target_node !== undefined ? [args.target_node] : [],
    storages: migrate && args.target_storage !== undefined ? [args.target_storage] : [],
  });
}

function needVmid(args: ManageArgs): number {
  if (args.vmid === undefined) throw new TypeError(`action=${args.action} needs vmid`);
  return args.vmid;
}

/** Parameters of a migration. Pure. */
export function migrateParams(ref: GuestRef, args: ManageArgs): Record<string, PveParamValue> {
  if (args.target_node === undefined) throw new TypeError("action=migrate needs target_node");
  if (args.target_node === ref.node) throw new TypeError(`${guestLabel(ref)} is already on ${ref.node}`);
  const running = ref.status === "running";
  const online = args.online ?? running;
  if (online && !running) throw new TypeError(`${guestLabel(ref)} is ${ref.status}: online migration needs it running`);
  if (ref.type === "qemu") {
    return {
      target: args.target_node,
      online: online || undefined,
      "with-local-disks": args.with_local_disks || undefined,
      targetstorage: args.target_storage,
    };
  }
  if (args.with_local_disks) {
    throw new TypeError("with_local_disks applies to VMs; containers always move their volumes");
  }
  if (running && !online) throw new TypeError(`${guestLabel(ref)} is running: stop it or pass online=true (restart)`);
  return { target: args.target_node, restart: online || undefined, "target-storage": args.target_storage };
}

async function managePlan(args: ManageArgs, ctx: ToolContext): Promise<ChangePlan> {
  const ref = await ctx.resolveGuest(needVmid(args));
  const what = `${kind(ref.type)} ${ref.vmid}`;
  const effects: Record<string, string> = {
    template: "converts the guest into a template: it can no longer be started, only cloned (irreversible)",
    delete:
      `destroys the guest and all its disks${args.purge ? "; removes it from backup jobs, HA and replication" : ""}` +
      " (irreversible)",
    migrate: `moves the guest to ${args.target_node}`,
  };
  return {
    action: `${args.action} ${what}`,
    target: guestLabel(ref),
    current: guestState(ref),
    effect: effects[args.action] ?? args.action,
  };
}

/** `guest_manage`: convert to template, delete, migrate, or find the next free vmid. */
export const guestManage = defineTool({
  name: "guest_manage",
  title: "Template, delete or migrate a guest; next free vmid",
  description: "template: convert a stopped guest (irreversible). delete: destroy a stopped guest. migrate: to " +
    "target_node. nextid: next free vmid.",
  toolset: "guests",
  annotations: DESTRUCTIVE,
  privileges: ["VM.Allocate", "VM.Migrate", "VM.Audit"],
  adminPrivileges: ["VM.Allocate"], // delete, template
  input: ManageInput,
  output: TaskResult.partial().extend({ vmid: z.number(), node: z.string().optional() }),
  effect: manageEffect,
  plan: managePlan,
  async handler(args, ctx) {
    if (args.action === "nextid") {
      if (args.vmid === undefined) return { vmid: await nextFreeVmid(ctx) };
      await ensureVmidFree(ctx, args.vmid);
      return { vmid: args.vmid };
    }
    const ref = await ctx.resolveGuest(needVmid(args));
    const label = guestLabel(ref);
    if (args.action === "template") {
      if (ref.template) throw new TypeError(`${label} is already a template`);
      if (ref.status !== "stopped") throw new TypeError(`${label} is ${ref.status}: stop it before converting`);
      const res = await startTask(ctx, { method: "POST", path: guestPath(ref, "template") }, args.wait);
      return { vmid: ref.vmid, node: ref.node, ...res };
    }
    if (args.action === "delete") {
      if (ref.status !== "stopped") {
        throw new TypeError(`${label} is ${ref.status}: stop it first (guest_power action=stop)`);
      }
      const res = await startTask(ctx, {
        method: "DELETE",
        path: guestPath(ref),
        params: {
          purge: args.purge || undefined,
        },
      }, args.wait);
      return { vmid: ref.vmid, node: ref.node, ...res };
    }
    const params = migrateParams(ref, args);
    const res = await startTask(ctx, { method: "POST", path: guestPath(ref, "migrate"), params }, args.wait);
    return { vmid: ref.vmid, node: args.target_node, ...res };
  },
  text: (out) =>
    out.upid === undefined || out.status === undefined
      ? `vmid ${out.vmid} is free`
      : taskText(`guest ${out.vmid}`, { ...out, upid: out.upid, status: out.status }),
});
