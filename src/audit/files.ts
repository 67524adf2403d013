/**
 * File layout of an audit log directory: the active file `audit.jsonl` and rotated files `audit-000001.jsonl`, … in
 * chain order.
 * @module
 */
import { join } from "node:path";

/** Name of the file new records are appended to. */
export const ACTIVE_FILE = "audit.jsonl";
const ROTATED = /^audit-(\d{6,})\.jsonl$/;

/** Name of the `n`-th rotated file. */
export function rotatedName(n: number): string {
  return `audit-${String(n).padStart(6, "0")}.jsonl`;
}

/** The log's files in chain order (oldest rotated first, active last); only files that exist. */
export async function listAuditFiles(dir: string): Promise<{ path: string; name: string; index: number }[]> {
  const rotated: { path: string; name: string; index: number }[] = [];
  let active: { path: string; name: string; index: number } | undefined;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile) continue;
    if (entry.name === ACTIVE_FILE) {
      active = { path: join(dir, entry.name), name: entry.name, index: Number.MAX_SAFE_INTEGER };
      continue;
    }
    const m = ROTATED.exec(entry.name);
    if (m?.[1] !== undefined) rotated.push({ path: join(dir, entry.name), name: entry.name, index: Number(m[1]) });
  }
  rotated.sort((a, b) => a.index - b.index);
  return active === undefined ? rotated : [...rotated, active];
}
