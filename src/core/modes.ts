/**
 * Modes, call classes and toolsets: what a session may do to the cluster, and how tools are grouped.
 * @module
 */

/** Tool modes, least to most powerful: what the server may do to the cluster. */
export const MODES = ["read-only", "operator", "admin"] as const;
/** One of {@linkcode MODES}. */
export type Mode = (typeof MODES)[number];

/** What a single call does to the cluster; decides the mode it needs and the rate-limit bucket. */
export type CallClass = "read" | "write" | "destructive";

/** The lowest mode that may run a call of a class. */
export const MODE_FOR_CLASS: Readonly<Record<CallClass, Mode>> = {
  read: "read-only",
  write: "operator",
  destructive: "admin",
};

/** True when `mode` is at least `needed`. */
export function modeAllows(mode: Mode, needed: Mode): boolean {
  return MODES.indexOf(mode) >= MODES.indexOf(needed);
}

/** The effective mode of a caller: the server's, lowered by the principal's cap. */
export function effectiveMode(server: Mode, cap: Mode | undefined): Mode {
  return cap !== undefined && !modeAllows(cap, server) ? cap : server;
}

/** Toolsets group tools so operators can switch whole areas on and off. */
export const TOOLSETS = [
  "cluster",
  "nodes",
  "guests",
  "snapshots",
  "backups",
  "storage",
  "tasks",
  "metrics",
  "agent",
  "firewall",
  "access",
  "pools",
  "ha",
  "ceph",
  "sdn",
  "raw",
  "audit",
] as const;
/** One of {@linkcode TOOLSETS}. */
export type Toolset = (typeof TOOLSETS)[number];

/** Toolsets enabled when the operator names none (the first seven of {@linkcode TOOLSETS}). */
export const DEFAULT_TOOLSETS: readonly Toolset[] = TOOLSETS.slice(0, 7);
