/**
 * `guest_power`: one tool for every power action of VMs and containers.
 * @module
 */
import { type CallClass, type ChangePlan, effect, type GuestRef } from "../core/mod.ts";
import { z } from "zod";
import { defineTool, type ToolContext } from "./registry.ts";
import { VmId } from "../guard/schemas.ts";
import type { PveParamValue } from "../pve/types.ts";
import { startTask, TaskResult, taskText, WaitArg } from "./task_result.ts";
import { DESTRUCTIVE, guestLabel, guestPath, guestState, kind } from "./guest_common.ts";

/** Power actions, in the order they are offered. */
export const POWER_ACTIONS = ["start", "shutdown", "stop", "reboot", "suspend", "resume", "reset"] as const;
/** One of {@linkcode POWER_ACTIONS}. */
export type PowerAction = (typeof POWER_ACTIONS)[number];

const Input = z.object({
  vmid: VmId,
  action: z.enum(POWER_ACTIONS),
  timeout: z.number().int().min(0).max(7200).optional().describe("shutdown/reboot/stop, s"),
  force: z.boolean().default(false).describe("shutdown: hard stop after timeout"),
  to_disk: z.boolean().default(false).describe("suspend: hibernate (qemu)"),
  wait: WaitArg,
}).strict();
type PowerArgs = z.infer<typeof Input>;

/** stop, reset and a forced shutdown can lose unsaved data in the guest: destructive. */
export function classifyPower(args: Pick<PowerArgs, "action" | "force">): CallClass {
  return args.action === "stop" || args.action === "reset" || (args.action === "shutdown" && args.force)
    ? "destructive"
    : "write";
}

const EFFECT: Record<PowerAction, string> = {
  start: "boots the guest",
  shutdown: "asks the guest OS to shut down (ACPI / init)",
  stop: "hard power-off: unsaved data in the guest is lost",
  reboot: "asks the guest OS to reboot",
  suspend: "pauses the guest (memory stays allocated)",
  resume: "continues a paused or suspended guest",
  reset: "hard reset: like pressing the reset button, unsaved data in the guest is lost",
};

/**
 * The PVE parameters of a power action, or a TypeError naming what the guest type does not support.
 * Pure, so the mapping is unit-tested against the schema.
 */
export function powerParams(type: "qemu" | "lxc", args: PowerArgs): Record<string, PveParamValue> {
  const { action, timeout, force, to_disk: toDisk } = args;
  if (type === "lxc" && action === "reset") {
    throw new TypeError("reset is not available for containers: use action=reboot or action=stop");
  }
  if (toDisk && !(type === "qemu" && action === "suspend")) {
    throw new TypeError("to_disk applies to action=suspend of QEMU VMs only");
  }
  if (force && action !== "shutdown") throw new TypeError("force applies to action=shutdown only");
  if (timeout !== undefined && !["shutdown", "reboot", "stop"].includes(action)) {
    throw new TypeError("timeout applies to shutdown, reboot and stop only");
  }
  switch (action) {
    case "shutdown":
      return { timeout, forceStop: force || undefined };
    case "reboot":
      return { timeout };
    case "stop":
      if (type === "lxc" && timeout !== undefined) {
        throw new TypeError("timeout is not available for stopping containers (it is immediate)");
      }
      return { timeout };
    case "suspend":
      return type === "qemu" && toDisk ? { todisk: true } : {};
    default:
      return {};
  }
}

function refuseTemplate(ref: GuestRef, action: PowerAction): void {
  if (ref.template) {
    throw new TypeError(
      `${guestLabel(ref)} is a template and cannot ${action}: clone it with guest_create source=${ref.vmid} first`,
    );
  }
}

async function powerPlan(args: PowerArgs, ctx: ToolContext): Promise<ChangePlan> {
  const ref = await ctx.resolveGuest(args.vmid);
  const effect = args.action === "shutdown" && args.force
    ? `${EFFECT.shutdown}, then hard power-off after ${args.timeout ?? "the default"} s: unsaved data may be lost`
    : EFFECT[args.action];
  return {
    action: `${args.action} ${kind(ref.type)} ${ref.vmid}`,
    target: guestLabel(ref),
    current: guestState(ref),
    effect,
  };
}

/** `guest_power`: start, shutdown, stop, reboot, suspend, resume or reset a guest. */
export const guestPower = defineTool({
  name: "guest_power",
  title: "Change a guest's power state",
  description: "Power a VM/CT: start, shutdown, stop (hard off), reboot, suspend, resume, reset (qemu). stop, reset " +
    "and forced shutdown are destructive.",
  toolset: "guests",
  annotations: DESTRUCTIVE,
  privileges: ["VM.PowerMgmt"],
  input: Input,
  output: TaskResult,
  effect: (args) => effect({ cls: classifyPower(args), guests: [{ vmid: args.vmid, role: "target" }] }),
  plan: powerPlan,
  async handler(args, ctx) {
    const ref = await ctx.resolveGuest(args.vmid);
    refuseTemplate(ref, args.action);
    const params = powerParams(ref.type, args);
    const res = await startTask(ctx, {
      method: "POST",
      path: guestPath(ref, "status", args.action),
      params,
    }, args.wait);
    return res;
  },
  text: (out) => taskText("guest_power", out),
});
