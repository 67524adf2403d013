/**
 * Per-call policy, decided on the call's {@linkcode Effect} alone (never on the tool's name or arguments): the class
 * against the mode, refusals, the guest-agent opt-in and program allowlist, and — while guest selectors or protected
 * guests are configured — every guest, node and pool the call touches, failing closed on what cannot be determined.
 * @module
 */
import {
  type CallPolicy,
  type Effect,
  effectiveMode,
  type GuestRef,
  type GuestTouch,
  type InGuest,
  type Mode,
  MODE_FOR_CLASS,
  modeAllows,
  type PolicyContext,
} from "../core/mod.ts";
import { PveError } from "../pve/types.ts";
import {
  describeSelector,
  type GuestSelector,
  isEmptySelector,
  matchesSelector,
  parseVmidRange,
} from "./guest_selector.ts";

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

/** What a lookup of a vmid found: the guest, nothing (PVE confirms no guest has it), or a reason to refuse. */
type Lookup = { ref: GuestRef } | { absent: true } | { refuse: string };

/**
 * Looks a guest up with the read credential. A guest that exists but that the read token cannot see, and a lookup
 * that fails for any other reason, are reasons to refuse: never "not protected".
 */
async function lookup(vmid: number, ctx: PolicyContext): Promise<Lookup> {
  try {
    return { ref: await ctx.cluster.guests.resolve(vmid, ctx.signal) };
  } catch (e) {
    if (e instanceof PveError && e.kind === "not_found") return { absent: true };
    if (e instanceof PveError && e.kind === "not_visible") {
      return {
        refuse: `guest ${vmid} exists but the read token cannot see it (it lacks VM.Audit on /vms/${vmid}), so ` +
          "whether it is protected or selected cannot be checked: it is treated as protected",
      };
    }
    const why = e instanceof PveError ? e.message : "unexpected error";
    return { refuse: `guest ${vmid} could not be looked up (${why}), so the call is refused` };
  }
}

/** The guest-agent opt-in (and for exec, the program allowlist) of the guest a call acts inside. */
async function checkInGuest(settings: AgentExecSettings | undefined, inGuest: InGuest, ctx: PolicyContext) {
  const found = await lookup(inGuest.vmid, ctx);
  if ("refuse" in found) return found.refuse;
  const guest = "ref" in found ? found.ref : { vmid: inGuest.vmid, tags: [] };
  return inGuest.what === "files"
    ? checkAgentOptIn(settings, guest, "file access")
    : checkAgentExec(settings, guest, inGuest.program === undefined ? [] : [inGuest.program]);
}

/**
 * A {@linkcode CallPolicy}. Every call needs the mode its class needs; a refused effect is never sent; acting inside
 * a guest needs its opt-in (and an allowlisted program). While a guest selector or protected guests are configured
 * ("fenced"), a change must also:
 * - determine everything it touches and name its guests (an `undetermined` or `mass` effect is refused);
 * - touch only guests the selector names and none that are protected, whatever the role (target, source, volume
 *   owner, pool member, or a new vmid: a new guest is matched by its vmid, its node and its pool). A guest the read
 *   token cannot see, or that cannot be looked up, counts as protected;
 * - name only nodes and pools the selector lists (when it lists any) and no protected node or pool: a guest is never
 *   created on or moved to a node outside the selector, nor moved into or out of a protected pool.
 * Storages are recorded in the effect but not fenced: selectors name guests, nodes and pools, not storages.
 */
export function createPolicy(settings: PolicySettings): CallPolicy {
  const sel = settings.guests;
  const prot = settings.protected;
  const selecting = !isEmptySelector(sel);
  const protecting = !isEmptySelector(prot);
  const fence = () =>
    [selecting && `guests ${describeSelector(sel)}`, protecting && `protected ${describeSelector(prot)}`]
      .filter(Boolean).join("; ");

  function checkPlaces(eff: Effect): string | undefined {
    for (const node of eff.nodes) {
      if ((prot.nodes ?? []).includes(node)) return `node "${node}" is protected by the operator (${fence()})`;
      if ((sel.nodes ?? []).length && !(sel.nodes ?? []).includes(node)) {
        return `node "${node}" is outside the nodes this server may place or change guests on (${fence()})`;
      }
    }
    for (const pool of eff.pools) {
      if (prot.pools.includes(pool)) {
        return `pool "${pool}" is protected by the operator (${fence()}): no guest is moved into or out of it, ` +
          "and it is never changed";
      }
      if (sel.pools.length && !sel.pools.includes(pool)) {
        return `pool "${pool}" is outside the pools this server may change (${fence()})`;
      }
    }
    return undefined;
  }

  async function checkGuest(g: GuestTouch, eff: Effect, ctx: PolicyContext): Promise<string | undefined> {
    const found = await lookup(g.vmid, ctx);
    if ("refuse" in found) return found.refuse;
    const exists = "ref" in found;
    // A guest that does not exist yet is known by its vmid and, when the call creates it, its node and pool.
    const guest: GuestRef = exists ? found.ref : {
      vmid: g.vmid,
      type: "qemu",
      node: g.role === "new" ? eff.nodes[0] ?? "" : "",
      name: "",
      status: "absent",
      template: false,
      tags: [],
      ...(g.role === "new" && eff.pools[0] !== undefined ? { pool: eff.pools[0] } : {}),
    };
    const as = g.role === "target" ? "" : ` (the call names it as ${ROLE[g.role]})`;
    if (protecting && matchesSelector(prot, guest)) {
      return `guest ${g.vmid} is protected by the operator (${describeSelector(prot)}); it is never changed${as}`;
    }
    if (selecting && !matchesSelector(sel, guest)) {
      const how = exists ? "" : g.role === "new" ? "; a new guest is matched by its vmid, node and pool" : "";
      return `guest ${g.vmid} is outside the guests this server may change (${describeSelector(sel)})${as}${how}`;
    }
    return undefined;
  }

  return {
    async check(tool, eff, ctx) {
      const mode = effectiveMode(settings.mode, ctx.principal.mode);
      const needed = MODE_FOR_CLASS[eff.cls];
      if (!modeAllows(mode, needed)) {
        return `${tool} with these arguments is a ${eff.cls} action and needs mode ${needed}; this session runs in ${mode}`;
      }
      if (eff.refuse !== undefined) return `${tool}: ${eff.refuse}`;
      if (eff.inGuest) {
        const refused = await checkInGuest(settings.agentExec, eff.inGuest, ctx);
        if (refused) return refused;
      }
      if (eff.cls === "read" || !(selecting || protecting)) return undefined;
      if (eff.mass !== undefined) {
        return `${tool}: this call acts on many guests at once (${eff.mass}), which is refused while guest ` +
          `selectors or protected guests are configured (${fence()}); act on guests one by one`;
      }
      if (eff.undetermined !== undefined) {
        return `${tool}: ${eff.undetermined}; a change whose targets cannot all be determined is refused while ` +
          `guest selectors or protected guests are configured (${fence()})`;
      }
      const place = checkPlaces(eff);
      if (place) return place;
      for (const g of eff.guests) {
        const refused = await checkGuest(g, eff, ctx);
        if (refused) return refused;
      }
      return undefined;
    },
  };
}

const ROLE: Record<GuestTouch["role"], string> = {
  target: "its target",
  new: "the vmid of the guest it creates",
  source: "its source (copied or backed up)",
  volume: "the owner of a volume it names",
  member: "a guest joining or leaving a pool or group",
};
