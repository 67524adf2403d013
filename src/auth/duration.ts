/**
 * Durations as operators type them: `30d`, `12h`, `90m`, `2w`, `45s`.
 * @module
 */

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds of a duration such as `30d`; throws with a std-style message on anything else. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,6})\s*([smhdw])$/.exec(text.trim());
  if (m === null || m[1] === undefined || m[2] === undefined || Number(m[1]) === 0) {
    throw new RangeError(`Invalid duration "${text}": use a positive number and a unit s, m, h, d or w, e.g. 30d`);
  }
  return Number(m[1]) * (UNITS[m[2]] as number);
}
