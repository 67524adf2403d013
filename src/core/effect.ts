/**
 * Effects, not tool names: what one call does (its class) and every object it touches. Policy decides on effects
 * only; named tools declare theirs as data (a function of the parsed arguments), the raw API tool derives its own
 * from the official schema.
 * @module
 */
import type { CallClass } from "./modes.ts";

/** How a call touches a guest. */
export type GuestRole =
  /** The guest the call acts on (power, config, snapshot, delete, …). */
  | "target"
  /** A guest the call creates (create, clone, restore to a new vmid): matched by vmid (and its node/pool). */
  | "new"
  /** A guest read or copied from (clone source, backup source). */
  | "source"
  /** Named through one of its volumes (`local-lvm:vm-112-disk-0`) or backups. */
  | "volume"
  /** Joins or leaves a pool, an HA resource set or a job. */
  | "member";

/** One guest a call touches. */
export interface GuestTouch {
  vmid: number;
  role: GuestRole;
}

/** A call that acts inside a guest through its guest agent (needs the operator's opt-in of that guest). */
export interface InGuest {
  vmid: number;
  /** `exec` runs a program; `files` reads or writes files. */
  what: "exec" | "files";
  /** exec: the program (`argv[0]`), matched exactly against the operator's allowlist. */
  program?: string;
}

/** What a call does and what it touches. */
export interface Effect {
  cls: CallClass;
  /** Why the call has this class (denials, plans, docs). */
  why?: string;
  /** Set when the call must never be sent; says what to use instead. */
  refuse?: string;
  guests: GuestTouch[];
  /** Nodes the call acts on or moves guests to (migration targets, the node of a new guest). */
  nodes: string[];
  storages: string[];
  pools: string[];
  /** Set when the call acts on guests it does not name (every guest of a node, `all=1`): why. */
  mass?: string;
  /** Set when some object the call touches cannot be determined: why (fail closed while anything is fenced). */
  undetermined?: string;
  /** Set when the call runs a program or touches files inside a guest (guest agent). */
  inGuest?: InGuest;
}

/** What a tool declares: the class plus whatever it touches (absent lists are empty). */
export type EffectSpec = { cls: CallClass } & Partial<Omit<Effect, "cls">>;

/** A complete effect from a declaration. */
export function effect(spec: EffectSpec): Effect {
  return { guests: [], nodes: [], storages: [], pools: [], ...spec };
}
