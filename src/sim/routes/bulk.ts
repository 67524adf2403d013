/**
 * Many guests at once and cluster-wide membership, minimal but faithful to the schema: `startall` (`vms`, `force`),
 * bulk start/shutdown (`vms`), HA resources and rules (create), and `remote_migrate`, which the simulator refuses as
 * a PVE without a reachable remote would. Enough for the adversarial tests to show what an unguarded call would do.
 * @module
 */
import type { SimGuest } from "../model.ts";
import { bool, type SimContext, SimError, type SimRoute, startTask, str } from "../router.ts";
import { markRunning, markStopped } from "./guest_build.ts";
import { infraOf } from "./infra_state.ts";

/** The vmids of a `vms` parameter (a pve-vmid-list string or an array), or undefined when absent. */
function vmsOf(ctx: SimContext): number[] | undefined {
  const v = ctx.params.vms;
  if (v === undefined || v === null || v === "") return undefined;
  const parts = Array.isArray(v) ? v.map(String) : String(v).split(/[,;\s]+/).filter(Boolean);
  return parts.map(Number);
}

function guestsFor(ctx: SimContext, node: string | undefined): SimGuest[] {
  const vms = vmsOf(ctx);
  const all = [...ctx.sim.state.guests.values()].filter((g) => node === undefined || g.node === node);
  return vms === undefined ? all : all.filter((g) => vms.includes(g.vmid));
}

function powerAll(action: "start" | "shutdown", node: (ctx: SimContext) => string | undefined, type: string) {
  return (ctx: SimContext): string => {
    const onNode = node(ctx);
    const force = bool(ctx, "force") ?? false;
    const nowS = () => Math.floor(ctx.sim.now() / 1000);
    const targets = guestsFor(ctx, onNode).filter((g) =>
      !g.template &&
      (action === "start"
        ? g.status !== "running" && (force || vmsOf(ctx) !== undefined || String(g.config.onboot ?? "0") === "1")
        : g.status === "running")
    );
    const state = ctx.sim.state;
    return startTask(ctx, {
      node: onNode ?? [...state.nodes.keys()][0] ?? "localhost",
      type,
      log: targets.map((g) => `${action === "start" ? "Starting" : "Shutting down"} ${g.type} ${g.vmid}`),
      onSuccess: () => {
        for (const g of targets) {
          state.updateGuest(g.vmid, (x) => action === "start" ? markRunning(x, nowS()) : markStopped(x));
        }
      },
    });
  };
}

function addHaResource(ctx: SimContext): null {
  const sid = str(ctx, "sid") ?? "";
  const m = /^(?:(vm|ct):)?(\d+)$/.exec(sid);
  if (!m) throw new SimError(400, "Parameter verification failed.", { sid: "invalid HA resource id" });
  const g = ctx.sim.state.guests.get(Number(m[2]));
  if (!g) throw new SimError(500, `unable to find VM '${m[2]}'`);
  const type = g.type === "qemu" ? "vm" : "ct";
  const full = `${type}:${g.vmid}`;
  const infra = infraOf(ctx.sim.state);
  if (infra.haResources.has(full)) throw new SimError(500, `resource ID '${full}' already defined`);
  infra.haResources.set(full, {
    sid: full,
    type,
    state: str(ctx, "state") ?? "started",
    max_restart: 1,
    max_relocate: 1,
    failback: 1,
  });
  ctx.sim.state.updateGuest(g.vmid, (x) => (x.hastate = str(ctx, "state") ?? "started"));
  return null;
}

function addHaRule(ctx: SimContext): null {
  const rule = str(ctx, "rule") ?? "";
  const infra = infraOf(ctx.sim.state);
  if (infra.haRules.some((r) => r.rule === rule)) throw new SimError(500, `HA rule '${rule}' already defined`);
  const entry: Record<string, unknown> = { rule, type: str(ctx, "type"), resources: str(ctx, "resources") };
  for (const k of ["nodes", "affinity", "comment"]) if (str(ctx, k) !== undefined) entry[k] = str(ctx, k);
  infra.haRules.push(entry as never);
  ctx.sim.state.touch();
  return null;
}

function remoteMigrate(): never {
  throw new SimError(500, "failed to connect to remote endpoint: the simulator has no remote cluster");
}

/** Routes of this file. */
export const bulkRoutes: SimRoute[] = [
  { method: "POST", path: "/nodes/{node}/startall", handler: powerAll("start", (c) => str(c, "node"), "startall") },
  {
    method: "POST",
    path: "/cluster/bulk-action/guest/start",
    handler: powerAll("start", () => undefined, "bulkstart"),
  },
  {
    method: "POST",
    path: "/cluster/bulk-action/guest/shutdown",
    handler: powerAll("shutdown", () => undefined, "bulkshutdown"),
  },
  { method: "POST", path: "/cluster/ha/resources", handler: addHaResource },
  { method: "POST", path: "/cluster/ha/rules", handler: addHaRule },
  { method: "POST", path: "/nodes/{node}/qemu/{vmid}/remote_migrate", handler: remoteMigrate },
  { method: "POST", path: "/nodes/{node}/lxc/{vmid}/remote_migrate", handler: remoteMigrate },
];
