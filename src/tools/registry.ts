/**
 * The tool registry: every tool is data ({@linkcode ToolDef}); filtering by mode, toolsets and allow/deny lists
 * happens once, here.
 * @module
 */
import { z } from "zod";
import type { PveApi } from "../pve/types.ts";
import type { GuestListing } from "../pve/guests.ts";
import type { SecretStore } from "../secrets/store.ts";
import type { TextCaps } from "../guard/untrusted.ts";
import {
  type AuditReader,
  type CallClass,
  type ChangePlan,
  type Effect,
  effect,
  type GuestRef,
  type Mode,
  MODE_FOR_CLASS,
  modeAllows,
  type Principal,
  type ProgressUpdate,
  type ToolAnnotations,
  type Toolset,
} from "../core/mod.ts";

/** What a handler gets besides its arguments. */
export interface ToolContext {
  /** Credential for reads. */
  pve: PveApi;
  /** Credential for changes (the read one when no separate write credential is configured). */
  pveWrite: PveApi;
  /** Name of the cluster this call addresses. */
  cluster: string;
  /** Resolves a vmid to its node and type (cached view of /cluster/resources). */
  resolveGuest(vmid: number): Promise<GuestRef>;
  /** The cluster's guests (`/cluster/resources?type=vm`): fetched now, or the kept snapshot a paging cursor names. */
  listGuests(snapshot?: string): Promise<GuestListing>;
  signal: AbortSignal;
  principal: Principal;
  progress(update: ProgressUpdate): Promise<void>;
  /** Records a UPID the call started (audit, cancellation). */
  noteTask(upid: string): void;
  /** Longest time a tool may wait for a PVE task, in milliseconds. */
  maxTaskWaitMs: number;
  /** True when the operator lets PVE fetch URLs on loopback, link-local and metadata addresses (`pve_api`). */
  allowInternalUrls?: boolean;
  /**
   * The server's secret store, to list names and store created secrets, when one is configured. It cannot read a
   * value: values come only through {@linkcode ToolContext.resolveSecret}.
   */
  secrets?: Omit<SecretStore, "get">;
  /**
   * The value of a `secret://NAME` reference given in argument `field` (one of the tool's
   * {@linkcode ToolDef.secretArgs}), once the pipeline has checked the secret's use policy; the value is registered
   * for the call, and scrubbed from everything the call hands back. Absent: no secret store is configured.
   */
  resolveSecret?(field: string, ref: string): Promise<string>;
  /** Reads recent audit records, when an audit log is configured. */
  auditReader?: AuditReader;
}

/** A tool, as data. `I` is the zod input object, `O` the zod output schema. */
export interface ToolDef<I extends z.ZodObject = z.ZodObject, O extends z.ZodType = z.ZodType> {
  /** snake_case, `^[a-z][a-z0-9_]{0,63}$`. */
  name: string;
  title: string;
  description: string;
  toolset: Toolset;
  annotations: ToolAnnotations;
  /** PVE privileges the credential needs (docs, `doctor`, least-privilege role). */
  privileges: readonly string[];
  /** Those of {@linkcode privileges} only destructive actions use: left out of the role for operator mode. */
  adminPrivileges?: readonly string[];
  input: I;
  output: O;
  /**
   * Read actions of a tool that also changes things: in read-only sessions the tool is listed narrowed to these
   * actions (and these privileges), with read-only annotations, instead of being hidden.
   */
  readView?: {
    actions: readonly [string, ...string[]];
    privileges: readonly string[];
    /** The enum argument that names the action (default `action`). */
    field?: string;
    /** The arguments the read actions take (default: all); the others are left out of the read-only listing. */
    params?: readonly string[];
    /** Title and description of the read-only view (default: the tool's own). */
    title?: string;
    description?: string;
  };
  /**
   * The arguments that accept `secret://NAME` (top-level strings), with `roundTrip` saying how the value can come back
   * when it does (a guest reads a file back; a guest's configuration shows its SSH keys). A reference anywhere else is
   * refused; a round trip needs the secret's explicit permission (src/secrets/policy.ts).
   */
  secretArgs?: Readonly<Record<string, { roundTrip?: string }>>;
  /**
   * Caps above UNTRUSTED_MAX (src/guard/untrusted.ts) for long strings of the structured result, by dotted path without
   * array indices (`exec.stdout`). The pipeline cleans every string a tool returns and caps the rest at UNTRUSTED_MAX.
   */
  textCaps?: TextCaps;
  /**
   * What a call does and touches (class, guests, nodes, storages, pools, a program run inside a guest), as data: policy
   * decides on this alone. Required for every tool that can change something; absent, a call's class comes from the
   * annotations and it touches nothing.
   */
  effect?: (args: z.infer<I>) => Effect;
  /**
   * Describes what a change will do. Required for tools that can be destructive: the pipeline shows it to the human
   * for confirmation and returns it for `dry_run: true`.
   */
  plan?: (args: z.infer<I>, ctx: ToolContext) => Promise<ChangePlan>;
  handler: (args: z.infer<I>, ctx: ToolContext) => Promise<z.infer<O>>;
  /** Short text rendering of the result; structured content carries the data. */
  text: (out: z.infer<O>) => string;
}

/** Identity helper that keeps the generic types of a tool definition. */
export function defineTool<I extends z.ZodObject, O extends z.ZodType>(def: ToolDef<I, O>): ToolDef<I, O> {
  return def;
}

/** The effect of a call: the tool's own declaration, else the class its annotations give and nothing touched. */
export function effectOf(def: ToolDef, args: unknown): Effect {
  if (def.effect) return def.effect(args as never);
  const cls: CallClass = def.annotations.readOnlyHint
    ? "read"
    : def.annotations.destructiveHint
    ? "destructive"
    : "write";
  return effect({ cls });
}

/** The most powerful class any call of the tool can have (decides whether it is listed in a mode). */
export function minimumClass(def: ToolDef): CallClass {
  if (def.annotations.readOnlyHint) return "read";
  // A tool that declares its effect decides per call; its destructive calls are refused below admin by policy.
  return def.annotations.destructiveHint && !def.effect ? "destructive" : "write";
}

/** Settings that decide which tools exist for a session. */
export interface ToolFilter {
  mode: Mode;
  toolsets: readonly string[];
  allowTools: readonly string[];
  denyTools: readonly string[];
}

/**
 * Why a tool is not available under a filter, or undefined when it is. Read-only wins over everything; deny wins
 * over allow; an allow list, when given, names the only tools offered.
 */
export function unavailableReason(def: ToolDef, filter: ToolFilter): string | undefined {
  const needed = MODE_FOR_CLASS[minimumClass(def)];
  if (!modeAllows(filter.mode, needed)) {
    return `tool "${def.name}" needs mode ${needed}, the server runs in ${filter.mode}`;
  }
  if (filter.denyTools.includes(def.name)) return `tool "${def.name}" is denied by the operator`;
  if (filter.allowTools.length > 0 && !filter.allowTools.includes(def.name)) {
    return `tool "${def.name}" is not in the operator's allow list`;
  }
  if (!filter.allowTools.includes(def.name) && !filter.toolsets.includes(def.toolset)) {
    return `toolset "${def.toolset}" is not enabled`;
  }
  return undefined;
}

/** The read-only view of a tool with a {@linkcode ToolDef.readView}: its `action` limited to the read actions. */
export function readOnlyView(def: ToolDef): ToolDef {
  const view = def.readView;
  if (!view) return def;
  const field = view.field ?? "action";
  const orig = def.input.shape[field] as z.ZodType | undefined;
  const dflt = (orig as { def?: { defaultValue?: unknown } } | undefined)?.def?.defaultValue;
  const action = z.enum(view.actions);
  const narrowed = typeof dflt === "string" && view.actions.includes(dflt) ? action.default(dflt as never) : action;
  const keep = view.params ? Object.fromEntries([...view.params, field].map((k) => [k, true as const])) : undefined;
  const base = keep ? def.input.pick(keep as Record<string, true> & Record<number, never>) : def.input;
  return {
    ...def,
    title: view.title ?? def.title,
    description: view.description ?? def.description,
    input: base.extend({ [field]: orig?.description ? narrowed.describe(orig.description) : narrowed }),
    annotations: { ...def.annotations, readOnlyHint: true, destructiveHint: false, idempotentHint: true },
    privileges: view.privileges,
  };
}

/**
 * The tools available under a filter, in registry order. In read-only mode, tools with read actions
 * ({@linkcode ToolDef.readView}) appear as their read-only view.
 */
export function selectTools(all: readonly ToolDef[], filter: ToolFilter): ToolDef[] {
  const out: ToolDef[] = [];
  for (const def of all) {
    if (unavailableReason(def, filter) === undefined) out.push(def);
    else if (def.readView && unavailableReason(readOnlyView(def), filter) === undefined) out.push(readOnlyView(def));
  }
  return out;
}
