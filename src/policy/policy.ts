/**
 * Per-call policy: the class of the call against the mode, guest selectors, protected guests, guest-agent exec
 * opt-in and program allowlist, and node-wide raw actions.
 * @module
 */
import {
  type CallClass,
  type CallPolicy,
  effectiveMode,
  type GuestRef,
  type Mode,
  MODE_FOR_CLASS,
  modeAllows,
  type PolicedTool,
  type PolicyContext,
} from "../core/mod.ts";
import { PveError } from "../pve/types.ts";
import { findEndpoint, isPveMethod } from "../pve/contract.ts";
import {
  describeSelector,
  type GuestSelector,
  isEmptySelector,
  matchesSelector,
  parseVmidRange,
} from "./guest_selector.ts";
import { classifyRaw } from "../tools/raw_classes.ts";

/** Which guests may run guest-agent commands, and which programs (config `policy.agentExec`). */
export interface AgentExecSettings {
  vmids: readonly string[];
  tags: readonly string[];
  programs: readonly string[];
}

/** Policy settings (a subset of the configuration's `policy`). */
export interface PolicySettings {
  mode: Mode;
  guests: GuestSelector;
  protected: GuestSelector;
  /** Absent = no guest is opted in to agent exec. */
  agentExec?: AgentExecSettings;
}

/**
 * Whether guest-agent exec may run `argv` on `guest`: the guest must be opted in (vmid or tag in
 * `policy.agentExec`) and `argv[0]` must equal an allowlisted program exactly (no basename matching: `/tmp/x/ls`
 * is not `ls`). Returns the reason to refuse, or undefined when allowed.
 */
export function checkAgentExec(
  settings: AgentExecSettings | undefined,
  guest: Pick<GuestRef, "vmid" | "tags">,
  argv: readonly string[],
): string | undefined {
  const s = settings ?? { vmids: [], tags: [], programs: [] };
  const notOptedIn = checkAgentOptIn(s, guest, "exec");
  if (notOptedIn) return notOptedIn;
  const program = argv[0];
  if (program === undefined || program === "") return "guest-agent exec needs a program as the first argv element";
  if (!s.programs.includes(program)) {
    const allowed = s.programs.length ? s.programs.map((p) => JSON.stringify(p)).join(", ") : "none";
    return `program ${JSON.stringify(program.slice(0, 200))} is not allowlisted for guest-agent exec (allowed: ` +
      `${allowed}; config policy.agentExec.programs / PROXMOX_MCP_AGENT_EXEC_PROGRAMS)`;
  }
  return undefined;
}

/** Whether the guest is opted in to guest-agent `what` (exec, file access); the reason to refuse, or undefined. */
export function checkAgentOptIn(
  settings: AgentExecSettings | undefined,
  guest: Pick<GuestRef, "vmid" | "tags">,
  what: string,
): string | undefined {
  const s = settings ?? { vmids: [], tags: [], programs: [] };
  const optedIn = s.vmids.some((spec) => {
    const [lo, hi] = parseVmidRange(spec);
    return guest.vmid >= lo && guest.vmid <= hi;
  }) || guest.tags.some((t) => s.tags.includes(t));
  if (optedIn) return undefined;
  return `guest ${guest.vmid} is not opted in to guest-agent ${what}; the operator opts guests in with ` +
    "PROXMOX_MCP_AGENT_EXEC_VMIDS or PROXMOX_MCP_AGENT_EXEC_TAGS (config policy.agentExec)";
}

/** The guest a call targets; a guest that does not exist yet (create) is known by its vmid only. */
async function guestOf(vmid: number, ctx: PolicyContext): Promise<{ guest: GuestRef; exists: boolean }> {
  try {
    return { guest: await ctx.cluster.guests.resolve(vmid, ctx.signal), exists: true };
  } catch (e) {
    if (e instanceof PveError && e.kind === "not_found") {
      return {
        guest: { vmid, type: "qemu", node: "", name: "", status: "absent", template: false, tags: [] },
        exists: false,
      };
    }
    throw e;
  }
}

function rawInfo(def: PolicedTool, args: Record<string, unknown>) {
  if (def.toolset !== "raw" || typeof args.method !== "string" || typeof args.path !== "string") return undefined;
  const method = args.method.toUpperCase();
  if (!isPveMethod(method)) return undefined;
  const match = findEndpoint(method, args.path);
  const params = (args.params ?? {}) as Record<string, unknown>;
  return classifyRaw(method, match?.endpoint.path, params);
}

/**
 * A {@linkcode CallPolicy}: calls need the mode their class needs; changes may only touch guests the selector names
 * (when one is configured) and never protected guests; guest-agent exec (any `agent` tool call with an `argv`)
 * needs an opted-in guest and an allowlisted program; raw actions on every guest of a node are refused while
 * selectors or protection are configured (they would reach guests the operator fenced off).
 */
export function createPolicy(settings: PolicySettings): CallPolicy {
  const fenced = !isEmptySelector(settings.guests) || !isEmptySelector(settings.protected);
  return {
    async check(def, args, cls: CallClass, ctx) {
      const mode = effectiveMode(settings.mode, ctx.principal.mode);
      const needed = MODE_FOR_CLASS[cls];
      if (!modeAllows(mode, needed)) {
        return `${def.name} with these arguments is a ${cls} action and needs mode ${needed}; this session runs in ${mode}`;
      }
      const vmid = def.target?.(args as never);
      // Running programs and touching files inside a guest need the guest's opt-in (and, for programs, the allowlist).
      const agentFile = def.toolset === "agent" && (args.action === "file_read" || args.action === "file_write");
      if (def.toolset === "agent" && (Array.isArray(args.argv) || agentFile)) {
        if (vmid === undefined) return `${def.name} acts inside a guest but names no guest`;
        const { guest } = await guestOf(vmid, ctx);
        const refused = agentFile
          ? checkAgentOptIn(settings.agentExec, guest, "file access")
          : checkAgentExec(settings.agentExec, guest, args.argv as string[]);
        if (refused) return refused;
      }
      if (cls === "read") return undefined;
      if (fenced && rawInfo(def, args)?.mass) {
        return `${def.name}: this endpoint acts on many guests at once, which is refused while guest selectors or ` +
          "protected guests are configured; act on guests one by one";
      }
      if (vmid === undefined) return undefined;
      const { guest, exists } = await guestOf(vmid, ctx);
      if (!isEmptySelector(settings.protected) && matchesSelector(settings.protected, guest)) {
        return `guest ${vmid} is protected by the operator (${
          describeSelector(settings.protected)
        }); it is never changed`;
      }
      if (!isEmptySelector(settings.guests) && !matchesSelector(settings.guests, guest)) {
        const why = exists ? "" : " (a new guest is matched by vmid only)";
        return `guest ${vmid} is outside the guests this server may change (${
          describeSelector(settings.guests)
        })${why}`;
      }
      return undefined;
    },
  };
}
