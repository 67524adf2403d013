/**
 * UPIDs: the ids of PVE worker tasks, `UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:`
 * (pve-common `UPID.pm`; pstart grows to 9 hex digits after ~497 days of uptime).
 * @module
 */

/** The parts of a UPID. */
export interface Upid {
  /** The UPID as given. */
  upid: string;
  /** Node that runs the task (poll its `/nodes/{node}/tasks/...`). */
  node: string;
  /** Worker process id. */
  pid: number;
  /** Process start time in clock ticks since boot. */
  pstart: number;
  /** Task start, seconds since the epoch. */
  starttime: number;
  /** Task start as a Date. */
  startedAt: Date;
  /** Task type, e.g. `qmstart`, `vzdump`. */
  type: string;
  /** Object id, e.g. the vmid; may be empty. */
  id: string;
  /** User that started it, `user@realm` (without the token part). */
  user: string;
  /** Token name when an API token started it (`user@realm!tokenid` → `tokenid`). */
  tokenId?: string;
}

/** pve-common's UPID regex (WIRE.md section 7). */
export const UPID_PATTERN =
  /^UPID:([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

/** Whether `value` is a well-formed UPID string. */
export function isUpid(value: unknown): value is string {
  return typeof value === "string" && UPID_PATTERN.test(value);
}

function shown(s: string): string {
  // deno-lint-ignore no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
  return JSON.stringify(clean.length > 100 ? clean.slice(0, 100) + "…" : clean);
}

/**
 * Parses a UPID. Throws a `TypeError` that says what is wrong when the text is not one
 * (e.g. `Invalid UPID "UPID:pve1:…": expected UPID:<node>:<pid 8 hex>:…`).
 */
export function parseUpid(value: string): Upid {
  if (typeof value !== "string") throw new TypeError("Invalid UPID: expected a string");
  const m = UPID_PATTERN.exec(value);
  if (!m) {
    const why = !value.startsWith("UPID:")
      ? 'it must start with "UPID:"'
      : !value.endsWith(":")
      ? "it must end with ':'"
      : "expected UPID:<node>:<pid 8 hex>:<pstart 8-9 hex>:<starttime 8 hex>:<type>:<id>:<user>:";
    throw new TypeError(`Invalid UPID ${shown(value)}: ${why}`);
  }
  const starttime = parseInt(m[5]!, 16);
  const principal = m[8]!;
  const bang = principal.indexOf("!");
  return {
    upid: value,
    node: m[1]!,
    pid: parseInt(m[3]!, 16),
    pstart: parseInt(m[4]!, 16),
    starttime,
    startedAt: new Date(starttime * 1000),
    type: m[6]!,
    id: m[7]!,
    user: bang < 0 ? principal : principal.slice(0, bang),
    ...(bang < 0 ? {} : { tokenId: principal.slice(bang + 1) }),
  };
}
