/**
 * Exit codes of every `pve-mcp` command (documented in docs/install.md#exit-codes; scripts, systemd and Kubernetes
 * probes rely on them, so they never change meaning).
 * @module
 */

/** Exit codes by meaning. */
export const EXIT = {
  /** Success; for checks (`config check`, `doctor`, `audit verify`): everything passed. */
  OK: 0,
  /** Failure at run time: a check failed, Proxmox VE unreachable or refused, an I/O error, an unexpected error. */
  FAILURE: 1,
  /** Bad usage or configuration: unknown command or flag, a missing or invalid setting. Fix the input, not the system. */
  USAGE: 2,
  /** Interrupted by Ctrl-C (SIGINT), by the shell convention 128 + 2. */
  INTERRUPTED: 130,
} as const;
