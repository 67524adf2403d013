/**
 * The goals docs/benchmarks.md checks (issues 3, 6, 7, 12) and how a verdict is written.
 * @module
 */

/** KB as the issues use it: 1,000 bytes (the stricter reading). */
export const KB = 1000;
/** "Flat" memory: the second half of a run grows by less than this per 1,000 calls. */
export const FLAT_KIB_PER_1000 = 100;

/** `**met**` or `**not met**`. */
export const verdict = (ok: boolean) => (ok ? "**met**" : "**not met**");
/** Goals of issue 12. */
export const GOALS = { startupXNode: 1.8, rssMB: 80, statusMs: 0.5, listingMs: 5 } as const;
/** 80 MB as the issue writes it, in KiB (1 MB = 1,000,000 bytes: the stricter reading). */
export const RSS_GOAL_KIB = (GOALS.rssMB * 1e6) / 1024;
