/**
 * Per-call policy: the class of the call against the mode, guest selectors, and protected guests.
 * @module
 */
import type { CallPolicy } from "../server/app.ts";
import { type CallClass, MODE_FOR_CLASS, type Mode, modeAllows } from "../tools/registry.ts";
import { describeSelector, type GuestSelector, isEmptySelector, matchesSelector } from "./guest_selector.ts";

/** Policy settings (a subset of the configuration's `policy`). */
export interface PolicySettings {
  mode: Mode;
  guests: GuestSelector;
  protected: GuestSelector;
}

/** The effective mode of a caller: the server's, lowered by the principal's cap. */
export function effectiveMode(server: Mode, cap: Mode | undefined): Mode {
  return cap !== undefined && !modeAllows(cap, server) ? cap : server;
}

/**
 * A {@linkcode CallPolicy}: changes need the mode their class needs, may only touch guests the selector names
 * (when one is configured), and never touch protected guests.
 */
export function createPolicy(settings: PolicySettings): CallPolicy {
  return {
    async check(def, args, cls: CallClass, ctx) {
      const mode = effectiveMode(settings.mode, ctx.principal.mode);
      const needed = MODE_FOR_CLASS[cls];
      if (!modeAllows(mode, needed)) {
        return `${def.name} with these arguments is a ${cls} action and needs mode ${needed}; this session runs in ${mode}`;
      }
      if (cls === "read") return undefined;
      const vmid = def.target?.(args as never);
      if (vmid === undefined) return undefined;
      const guest = await ctx.cluster.guests.resolve(vmid, ctx.signal);
      if (!isEmptySelector(settings.protected) && matchesSelector(settings.protected, guest)) {
        return `guest ${vmid} is protected by the operator (${describeSelector(settings.protected)}); it is never changed`;
      }
      if (!isEmptySelector(settings.guests) && !matchesSelector(settings.guests, guest)) {
        return `guest ${vmid} is outside the guests this server may change (${describeSelector(settings.guests)})`;
      }
      return undefined;
    },
  };
}
