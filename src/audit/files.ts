/**
 * File layout of an audit log. `audit.path` names either a directory (the active file is `audit.jsonl` inside it) or
 * the active file itself (`/var/log/pve-mcp/audit.jsonl`). Rotated files sit beside the active file as
 * `<stem>-000001<ext>`, `<stem>-000002<ext>`, … and form one chain in that order, the active file last.
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

/**
 * Where `audit.path` points: an existing directory, or a path ending in `/`, or a name without an extension is the log
 * directory (active file `audit.jsonl` inside); a name with an extension (`audit.jsonl`, `mcp-audit.log`) is the
 * active file itself.
 */
export function auditLocation(path: string): AuditLocation {
  const trimmed = path.replace(/\/+$/, "") || "/";
  let isDir = path.endsWith("/");
  if (!isDir) {
    try {
      isDir = Deno.statSync(trimmed).isDirectory;
    } catch {
      isDir = false;
    }
  }
  if (!isDir && /.\.[A-Za-z0-9]{1,10}$/.test(basename(trimmed))) {
    return { dir: dirname(trimmed), active: basename(trimmed) };
  }
  return { dir: trimmed, active: ACTIVE_FILE };
}

function splitName(active: string): { stem: string; ext: string } {
  const m = /^(.+?)(\.[A-Za-z0-9]{1,10})$/.exec(active);
  return m?.[1] !== undefined && m[2] !== undefined ? { stem: m[1], ext: m[2] } : { stem: active, ext: "" };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function rotatedPattern(active: string): RegExp {
  const { stem, ext } = splitName(active);
  return new RegExp(`^${escape(stem)}-(\\d{6,})${escape(ext)}$`);
}

/** Name of the `n`-th rotated file of a log whose active file is `active` (`audit.jsonl` → `audit-000001.jsonl`). */
export function rotatedName(active: string, n: number): string {
  const { stem, ext } = splitName(active);
  return `${stem}-${String(n).padStart(6, "0")}${ext}`;
}

/** Whether `name` is a rotated file of some log (`audit-000001.jsonl`). */
export function isRotatedName(name: string): boolean {
  return /-\d{6,}(\.[A-Za-z0-9]{1,10})?$/.test(name);
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
