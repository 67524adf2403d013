/**
 * Guest selectors: vmid ranges, pools, tags and nodes that name a set of guests.
 * @module
 */

/** A selector as configured: each list may be empty; an empty selector matches nothing unless `emptyMatchesAll`. */
export interface GuestSelector {
  vmids: readonly string[];
  pools: readonly string[];
  tags: readonly string[];
  nodes?: readonly string[];
}

/** Parses `"100"` or `"100-199"` into an inclusive range; throws a clear error for anything else. */
export function parseVmidRange(spec: string): [number, number] {
  const m = /^\s*(\d{3,9})\s*(?:-\s*(\d{3,9})\s*)?$/.exec(spec);
  if (!m) throw new RangeError(`Invalid vmid selector "${spec}": use a vmid like 105 or a range like 100-199`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (hi < lo) throw new RangeError(`Invalid vmid range "${spec}": the end is below the start`);
  return [lo, hi];
}

/** True when the selector names no guest at all. */
export function isEmptySelector(sel: GuestSelector): boolean {
  return sel.vmids.length === 0 && sel.pools.length === 0 && sel.tags.length === 0 && (sel.nodes ?? []).length === 0;
}

/** True when the guest matches any entry of the selector. */
export function matchesSelector(sel: GuestSelector, guest: GuestRef): boolean {
  if (
    sel.vmids.some((spec) => {
      const [lo, hi] = parseVmidRange(spec);
      return guest.vmid >= lo && guest.vmid <= hi;
    })
  ) return true;
  if (guest.pool !== undefined && sel.pools.includes(guest.pool)) return true;
  if (guest.tags.some((t) => sel.tags.includes(t))) return true;
  return (sel.nodes ?? []).includes(guest.node);
}

/** Describes a selector for messages, e.g. `vmids 100-199, tags prod`. */
export function describeSelector(sel: GuestSelector): string {
  const parts: string[] = [];
  if (sel.vmids.length) parts.push(`vmids ${sel.vmids.join(", ")}`);
  if (sel.pools.length) parts.push(`pools ${sel.pools.join(", ")}`);
  if (sel.tags.length) parts.push(`tags ${sel.tags.join(", ")}`);
  if (sel.nodes?.length) parts.push(`nodes ${sel.nodes.join(", ")}`);
  return parts.join("; ") || "(none)";
}
import { type GuestRef } from "../core/mod.ts";
