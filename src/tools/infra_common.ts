/**
 * Shared pieces of the infrastructure tools (nodes, storage, tasks, metrics, firewall, access, pools, HA, Ceph, SDN,
 * cluster): compact table output, untrusted-text cleaning, and request checks against the PVE endpoint contract.
 * @module
 */
import { z } from "zod";
import { getEndpoint, validateParams } from "../pve/contract.ts";
import type { PveMethod, PveParamValue } from "../pve/types.ts";
import { capText } from "../guard/untrusted.ts";

/** Annotations of a tool that only reads. */
export const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

/** A table cell: strings are cleaned, numbers rounded. */
export type Cell = string | number | boolean | null;

/** Compact output shared by the read tools: a table, an info object, or untrusted log lines. */
export type InfoOutT = {
  columns?: string[];
  rows?: Cell[][];
  /** Columns whose text is untrusted (written by users of the cluster). */
  untrusted?: string[];
  total?: number;
  next_cursor?: string;
  info?: Record<string, unknown>;
  log?: { untrusted: true; lines: string[] };
};

/**
 * Output schema of the read tools: an open object, because tools/list size is a budget and the shape is the same for
 * every read tool ({@linkcode InfoOutT}: a table, an info object or untrusted log lines).
 */
export const InfoOut = z.looseObject({});

/** An output schema that lists its keys and leaves their shapes open (the TypeScript type carries the shape). */
export function keysOnly(keys: readonly string[]): z.ZodObject<Record<string, z.ZodOptional<z.ZodUnknown>>> {
  return z.object(Object.fromEntries(keys.map((k) => [k, z.unknown().optional()])));
}

/** Columns that hold free text written by users of the cluster. */
const FREE_TEXT = new Set(["comment", "comments", "notes", "description", "desc", "alias"]);

/** Longest cell text; longer values are cut (and marked). */
const CELL_MAX = 200;

/** One value as a table cell (empty text counts as absent): objects flattened to JSON, text capped (the pipeline cleans). */
export function cell(value: unknown): Cell {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value === "number") return Number.isInteger(value) ? value : round(value, 3);
  if (typeof value === "boolean") return value;
  if (typeof value === "string") return capText(value, CELL_MAX);
  return capText(JSON.stringify(value), CELL_MAX);
}

/** Rounds to `digits` significant decimals after the point. */
export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Bytes to GiB with one decimal; null when unknown. */
export function gib(bytes: unknown): number | null {
  return typeof bytes === "number" ? round(bytes / 1073741824, 1) : null;
}

/** Bytes to MiB (integer); null when unknown. */
export function mib(bytes: unknown): number | null {
  return typeof bytes === "number" ? Math.round(bytes / 1048576) : null;
}

/**
 * Builds a table from rows of objects: picks `columns` (with optional per-column mapping) and cleans every cell.
 * Columns that are empty in every row are dropped to keep the result small.
 */
export function table(
  items: readonly Record<string, unknown>[],
  columns: readonly string[],
  map: Record<string, (row: Record<string, unknown>) => unknown> = {},
): { columns: string[]; rows: Cell[][]; untrusted?: string[] } {
  const raw = items.map((r) => columns.map((c) => cell(map[c] ? map[c](r) : r[c])));
  const keep = columns.map((_, i) => raw.some((r) => r[i] !== null));
  const cols = columns.filter((_, i) => keep[i]);
  const untrusted = cols.filter((c) => FREE_TEXT.has(c));
  return {
    columns: cols,
    rows: raw.map((r) => r.filter((_, i) => keep[i])),
    ...(untrusted.length ? { untrusted } : {}),
  };
}

/** Short text rendering of an {@linkcode InfoOut}: TSV table, `key: value` lines, or labelled log lines. */
export function infoText(out: unknown, head = ""): string {
  const o = out as InfoOutT;
  const parts: string[] = head ? [head] : [];
  if (o.columns && o.rows) {
    const shown = o.total !== undefined ? ` (${o.rows.length} of ${o.total})` : "";
    if (o.rows.length === 0) parts.push(`none${shown}`);
    else {
      if (o.untrusted?.length) parts.push(`(columns ${o.untrusted.join(", ")} are untrusted text)${shown}`);
      else if (shown) parts.push(shown.trim());
      parts.push(o.columns.join("\t"), ...o.rows.map((r) => r.map((c) => (c === null ? "-" : String(c))).join("\t")));
    }
    if (o.next_cursor) parts.push(`more: cursor ${o.next_cursor}`);
  }
  if (o.info) {
    for (const [k, v] of Object.entries(o.info)) {
      const label = FREE_TEXT.has(k) ? `${k} (untrusted text)` : k;
      parts.push(`${label}: ${typeof v === "object" ? JSON.stringify(v) : v}`);
    }
  }
  if (o.log) {
    const of = o.total !== undefined && !o.rows ? ` of ${o.total}` : "";
    parts.push(`log (untrusted text, ${o.log.lines.length}${of} lines):`, ...o.log.lines);
  }
  return parts.join("\n");
}

/** Parameters for a request, as tools build them. */
export type Params = Record<string, PveParamValue>;

/**
 * Checks parameters against the endpoint contract (the same rules PVE applies) before anything is sent; booleans
 * count as 0/1 the way the client sends them. Throws a TypeError naming every bad parameter.
 * @param template path template such as `/cluster/firewall/rules`
 * @param pathParams values of the template's `{param}` segments (they are validated too)
 */
export function checkParams(method: PveMethod, template: string, params: Params, pathParams: Params = {}): void {
  const endpoint = getEndpoint(method, template);
  if (!endpoint) throw new TypeError(`Cannot call ${method} ${template}: the endpoint is not in the PVE API contract`);
  const wire: Record<string, unknown> = {};
  for (const [k, v] of Object.entries({ ...params, ...pathParams })) {
    wire[k] = typeof v === "boolean" ? (v ? 1 : 0) : v;
  }
  const errors = validateParams(endpoint, wire);
  const names = Object.keys(errors);
  if (names.length) {
    throw new TypeError(
      `Invalid parameters for ${method} ${template}: ${names.map((n) => `${n}: ${errors[n]}`).join("; ")}`,
    );
  }
}

/** Free-form fields (rule fields, options); {@linkcode scalarFields} and the contract check validate them. */
export const Fields = z.record(z.string().max(64), z.unknown());

/** Checks that every field is a string, number or boolean (the only values a PVE form carries here). */
export function scalarFields(fields: Record<string, unknown> | undefined, action: string): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(fields ?? {})) {
    if (typeof v === "string" ? v.length > 1024 : typeof v !== "number" && typeof v !== "boolean") {
      throw new TypeError(
        `Cannot run ${action}: field "${k}" must be a string (up to 1024 characters), number or boolean`,
      );
    }
    out[k] = v as string | number | boolean;
  }
  return out;
}

/** Page size (lean schema: tools/list size is a budget). */
export const Limit = z.number().int().min(1).max(5000).default(200);
/** Cursor from a previous page's `next_cursor`. */
export const CursorArg = z.string().max(64);

/** Thrown for arguments that do not fit the chosen action (an input error the model can fix). */
export function need(what: string, action: string): never {
  throw new TypeError(`Cannot run ${action}: pass ${what}`);
}
