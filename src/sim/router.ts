/**
 * The simulator's route table: handlers registered by method + path template of the contract. To add endpoints,
 * write a file in src/sim/routes/ exporting a `SimRoute[]` and list it in src/sim/routes/index.ts (or pass
 * `routes` to `startSimulator`). Requests for contract endpoints without a handler answer 501.
 * @module
 */
import { getEndpoint } from "../pve/contract.ts";
import type { Endpoint } from "../pve/contract.ts";
import type { PveMethod } from "../pve/types.ts";
import type { SimPrincipal } from "./auth.ts";
import type { ClusterState, SimGuest, SimNode, SimStorage } from "./model.ts";
import type { PrincipalDb } from "./principals.ts";
import type { StartTask, TaskManager } from "./tasks.ts";

/** An error a handler throws to answer with a status and PVE-style message (500 unless said otherwise). */
export class SimError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, string>,
  ) {
    super(message);
  }
}

/** What every handler can reach. */
export interface SimCore {
  state: ClusterState;
  tasks: TaskManager;
  /** Users, tokens and tickets. */
  principals: PrincipalDb;
  /** Milliseconds since the epoch on the simulator's clock. */
  now(): number;
  /** SHA-256 fingerprint of the served certificate (reported as each node's `ssl_fingerprint`). */
  fingerprint: string;
  /** PVE version answered by `/version`. */
  version: { version: string; release: string; repoid: string };
  /** Checks a privilege for the current principal, with pools granting to their members. */
  hasPriv(p: SimPrincipal, path: string, priv: string): boolean;
}

/** One request as a handler sees it. */
export interface SimContext {
  method: PveMethod;
  /** Concrete path without `/api2/json`. */
  path: string;
  endpoint: Endpoint;
  /** Query and body parameters merged with the path parameters (wire strings or JSON values). */
  params: Record<string, unknown>;
  principal: SimPrincipal;
  sim: SimCore;
  /** Set by a handler to add `total` to the envelope. */
  total?: number;
}

/** A handler returns the `data` of the envelope (or throws {@linkcode SimError}). */
export type SimHandler = (ctx: SimContext) => unknown | Promise<unknown>;

/** A route: method and path template exactly as in the contract. */
export interface SimRoute {
  method: PveMethod;
  path: string;
  handler: SimHandler;
}

/** Handlers by `METHOD template`. */
export class RouteTable {
  readonly #handlers = new Map<string, SimHandler>();

  /** Registers routes; throws when a route is not an endpoint of the contract (typo guard). */
  add(routes: readonly SimRoute[]): this {
    for (const r of routes) {
      if (!getEndpoint(r.method, r.path)) {
        throw new Error(`Cannot register simulator route ${r.method} ${r.path}: it is not an endpoint of the PVE API`);
      }
      this.#handlers.set(`${r.method} ${r.path}`, r.handler);
    }
    return this;
  }

  /** The handler for an endpoint, if any. */
  get(method: string, template: string): SimHandler | undefined {
    return this.#handlers.get(`${method} ${template}`);
  }

  /** `METHOD template` of every registered route, sorted. */
  keys(): string[] {
    return [...this.#handlers.keys()].sort();
  }
}

// ---- helpers for handlers ----

/** A parameter as a string (undefined when absent). */
export function str(ctx: SimContext, name: string): string | undefined {
  const v = ctx.params[name];
  return v === undefined || v === null ? undefined : Array.isArray(v) ? v.map(String).join(",") : String(v);
}

/** A parameter as an integer (validated already, so the parse is safe). */
export function int(ctx: SimContext, name: string): number | undefined {
  const v = str(ctx, name);
  return v === undefined ? undefined : parseInt(v, 10);
}

/** A boolean parameter (`1`/`0`, true/false). */
export function bool(ctx: SimContext, name: string): boolean | undefined {
  const v = ctx.params[name];
  if (v === undefined || v === null) return undefined;
  return v === true || v === 1 || v === "1";
}

/** The node named by `{node}`; 500 like PVE when it does not exist. */
export function nodeOf(ctx: SimContext): SimNode {
  const name = str(ctx, "node") ?? "";
  const node = ctx.sim.state.nodes.get(name);
  if (!node) {
    throw new SimError(
      500,
      `hostname lookup '${name}' failed - failed to get address info for: ${name}: Name or service not known`,
    );
  }
  return node;
}

/** The guest `{vmid}` of the given type on `{node}`; 500 with PVE's message when its config is not there. */
export function guestOf(ctx: SimContext, type: "qemu" | "lxc"): SimGuest {
  const node = nodeOf(ctx);
  const vmid = int(ctx, "vmid") ?? 0;
  const g = ctx.sim.state.guests.get(vmid);
  if (!g || g.type !== type || g.node !== node.name) {
    const dir = type === "qemu" ? "qemu-server" : "lxc";
    throw new SimError(500, `Configuration file 'nodes/${node.name}/${dir}/${vmid}.conf' does not exist`);
  }
  return g;
}

/** The storage `{storage}` usable from `{node}`; 500 like PVE otherwise. */
export function storageOf(ctx: SimContext): SimStorage {
  const node = nodeOf(ctx);
  const id = str(ctx, "storage") ?? "";
  const s = ctx.sim.state.storages.get(id);
  if (!s) throw new SimError(500, `storage '${id}' does not exist`);
  if (!ctx.sim.state.storageOnNode(s, node.name)) {
    throw new SimError(500, `storage '${id}' is not available on node '${node.name}'`);
  }
  return s;
}

/** Starts a task as the current principal and returns its UPID (the `data` of a worker endpoint). */
export function startTask(ctx: SimContext, req: Omit<StartTask, "user">): string {
  return ctx.sim.tasks.start({ ...req, user: ctx.principal.id }).upid;
}
