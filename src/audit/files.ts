/**
 * File layout of an audit log. `audit.path` names either a directory (the active file is `audit.jsonl` inside it) or
 * the active file itself (`/var/log/pve-mcp/audit.jsonl`). Rotated files sit beside the active file as
 * `<stem>-000001.jsonl`, `<stem>-000002.jsonl`, … and form one chain in that order, the active file last.
 * @module
 */
import { basename, dirname, join } from "node:path";

/** Name of the active file when `audit.path` is a directory. */
export const ACTIVE_FILE = "audit.jsonl";

/** Where a log lives. */
export interface AuditLocation {
  /** Directory holding the active and rotated files. */
  dir: string;
  /** File name of the active file, e.g. `audit.jsonl`. */
  active: string;
}

/** A path ending in `.jsonl` names the active file; anything else names the log directory. */
export function auditLocation(path: string): AuditLocation {
  const trimmed = path.replace(/\/+$/, "") || "/";
  if (trimmed.endsWith(".jsonl") && !path.endsWith("/")) return { dir: dirname(trimmed), active: basename(trimmed) };
  return { dir: trimmed, active: ACTIVE_FILE };
}

function stem(active: string): string {
  return active.replace(/\.jsonl$/, "");
}

function rotatedPattern(active: string): RegExp {
  return new RegExp(`^${stem(active).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-(\\d{6,})\\.jsonl$`);
}

/** Name of the `n`-th rotated file of a log whose active file is `active`. */
export function rotatedName(active: string, n: number): string {
  return `${stem(active)}-${String(n).padStart(6, "0")}.jsonl`;
}

/** Whether `name` is a rotated file of some log (`audit-000001.jsonl`). */
export function isRotatedName(name: string): boolean {
  return /-\d{6,}\.jsonl$/.test(name);
}

/** One file of a log. `index` is the rotation number (the active file has `Infinity`). */
export interface AuditFile {
  path: string;
  name: string;
  index: number;
}

/** The log's files in chain order (oldest rotated first, active last); only files that exist. */
export async function listAuditFiles(loc: AuditLocation): Promise<AuditFile[]> {
  const pattern = rotatedPattern(loc.active);
  const rotated: AuditFile[] = [];
  let active: AuditFile | undefined;
  try {
    for await (const entry of Deno.readDir(loc.dir)) {
      if (!entry.isFile) continue;
      if (entry.name === loc.active) {
        active = { path: join(loc.dir, entry.name), name: entry.name, index: Infinity };
        continue;
      }
      const m = pattern.exec(entry.name);
      if (m?.[1] !== undefined) {
        rotated.push({ path: join(loc.dir, entry.name), name: entry.name, index: Number(m[1]) });
      }
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  rotated.sort((a, b) => a.index - b.index);
  return active === undefined ? rotated : [...rotated, active];
}
