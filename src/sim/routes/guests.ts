/**
 * Guest read endpoints for qemu and lxc: list per node, current status, config.
 * @module
 */
import { bool, guestOf, nodeOf, type SimContext, SimError, type SimRoute, str } from "../router.ts";
import { configView, guestStatus, lxcListItem, qemuListItem } from "../views.ts";
import type { GuestType } from "../model.ts";

function list(type: GuestType) {
  return (ctx: SimContext): unknown[] => {
    const node = nodeOf(ctx);
    const nowS = Math.floor(ctx.sim.now() / 1000);
    const full = bool(ctx, "full") ?? false;
    const out: unknown[] = [];
    for (const g of ctx.sim.state.guestsOn(node.name, type)) {
      if (!ctx.sim.hasPriv(ctx.principal, `/vms/${g.vmid}`, "VM.Audit")) continue;
      out.push(type === "qemu" ? qemuListItem(g, nowS, full) : lxcListItem(g, nowS));
    }
    return out;
  };
}

function status(type: GuestType) {
  return (ctx: SimContext) => guestStatus(guestOf(ctx, type), Math.floor(ctx.sim.now() / 1000));
}

function config(type: GuestType) {
  return (ctx: SimContext) => {
    const g = guestOf(ctx, type);
    const snap = str(ctx, "snapshot");
    if (snap !== undefined) throw new SimError(500, `snapshot '${snap}' does not exist`);
    return configView(g);
  };
}

/** Routes of this file. */
export const guestRoutes: SimRoute[] = [];
for (const type of ["qemu", "lxc"] as const) {
  guestRoutes.push(
    { method: "GET", path: `/nodes/{node}/${type}`, handler: list(type) },
    { method: "GET", path: `/nodes/{node}/${type}/{vmid}/status/current`, handler: status(type) },
    { method: "GET", path: `/nodes/{node}/${type}/{vmid}/config`, handler: config(type) },
  );
}
