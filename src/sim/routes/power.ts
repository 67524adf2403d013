/**
 * Guest power actions (`POST /nodes/{node}/{qemu|lxc}/{vmid}/status/{action}`): each starts a task and returns its
 * UPID; the guest's state changes when the task finishes on the simulator's clock. Preconditions follow PVE: some
 * fail at once with 500, others start a task that ends in `TASK ERROR`.
 * @module
 */
import type { GuestType, SimGuest } from "../model.ts";
import { guestOf, type SimContext, SimError, type SimRoute, startTask } from "../router.ts";
import { markRunning, markStopped } from "./guest_build.ts";

type Action = "start" | "stop" | "shutdown" | "reboot" | "suspend" | "resume" | "reset";

const QEMU_ACTIONS: Action[] = ["start", "stop", "shutdown", "reboot", "suspend", "resume", "reset"];
const LXC_ACTIONS: Action[] = ["start", "stop", "shutdown", "reboot", "suspend", "resume"];

/** Task type names PVE uses. */
const TASK_TYPE: Record<GuestType, Record<Action, string>> = {
  qemu: {
    start: "qmstart",
    stop: "qmstop",
    shutdown: "qmshutdown",
    reboot: "qmreboot",
    suspend: "qmsuspend",
    resume: "qmresume",
    reset: "qmreset",
  },
  lxc: {
    start: "vzstart",
    stop: "vzstop",
    shutdown: "vzshutdown",
    reboot: "vzreboot",
    suspend: "vzsuspend",
    resume: "vzresume",
    reset: "",
  },
};

function act(type: GuestType, action: Action) {
  return (ctx: SimContext): string => {
    const g = guestOf(ctx, type);
    const state = ctx.sim.state;
    const label = type === "qemu" ? "VM" : "CT";
    const running = g.status === "running";
    const nowS = () => Math.floor(ctx.sim.now() / 1000);
    const change = (fn: (g: SimGuest) => void) => () => state.updateGuest(g.vmid, fn);
    if (g.lock) throw new SimError(500, `${label} is locked (${g.lock})`);
    if (g.template && action === "start") {
      throw new SimError(
        500,
        type === "qemu" ? "you can't start a vm if it's a template" : "you can't start a CT if it's a template",
      );
    }
    // LXC checks run state in the API call itself; QEMU mostly inside the worker.
    if (type === "lxc") {
      if (action === "start" && running) throw new SimError(500, `CT ${g.vmid} already running`);
      if (action !== "start" && !running) throw new SimError(500, `CT ${g.vmid} not running`);
    }
    let failWith: string | undefined;
    if (type === "qemu") {
      if (action === "start" && running) failWith = `VM ${g.vmid} already running`;
      if (action !== "start" && action !== "stop" && !running) failWith = `VM ${g.vmid} not running`;
    }
    let onSuccess: (() => void) | undefined;
    switch (action) {
      case "start":
        onSuccess = change((x) => markRunning(x, nowS()));
        break;
      case "stop":
      case "shutdown":
        onSuccess = change(markStopped);
        break;
      case "reboot":
      case "reset":
        onSuccess = change((x) => {
          x.startedAt = nowS();
          if (x.type === "qemu") x.qmpstatus = "running";
        });
        break;
      case "suspend":
        onSuccess = change((x) => {
          if (x.type === "qemu") x.qmpstatus = "paused";
        });
        break;
      case "resume":
        onSuccess = change((x) => {
          if (x.type === "qemu") x.qmpstatus = "running";
        });
        break;
    }
    return startTask(ctx, {
      node: g.node,
      type: TASK_TYPE[type][action],
      id: g.vmid,
      ...(failWith !== undefined ? { failWith } : { onSuccess }),
    });
  };
}

/** Routes of this file. */
export const powerRoutes: SimRoute[] = [
  ...QEMU_ACTIONS.map((a): SimRoute => ({
    method: "POST",
    path: `/nodes/{node}/qemu/{vmid}/status/${a}`,
    handler: act("qemu", a),
  })),
  ...LXC_ACTIONS.map((a): SimRoute => ({
    method: "POST",
    path: `/nodes/{node}/lxc/{vmid}/status/${a}`,
    handler: act("lxc", a),
  })),
];
