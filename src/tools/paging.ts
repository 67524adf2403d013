/**
 * Cursor pagination for long listings: cursors are opaque offsets, limits keep a page small.
 * @module
 */
import { z } from "zod";

/**
 * Page size argument shared by listing tools. The default keeps a page's text (which carries every row) within ~16 KB
 * even with every optional column; larger pages are there for callers that ask.
 */
export const PageLimit = z.number().int().min(1).max(5000).default(100);

/** A cursor: `o<offset>`, optionally `.<snapshot>` naming the listing snapshot the pages are cut from. */
const CURSOR = /^o(\d{1,9})(?:\.([0-9a-f]{8}))?$/;

/** The offset and listing snapshot a cursor names; a clear error for anything else. */
export function parseCursor(cursor: string | undefined): { offset: number; snapshot?: string } {
  if (cursor === undefined) return { offset: 0 };
  const m = CURSOR.exec(cursor);
  if (!m) throw new TypeError(`Invalid cursor "${cursor.slice(0, 20)}": pass the next_cursor of the previous page`);
  return m[2] === undefined ? { offset: Number(m[1]) } : { offset: Number(m[1]), snapshot: m[2] };
}

/**
 * One page of `items` starting at `cursor`, and the cursor of the next page when there is one (naming `snapshot`,
 * the listing the items come from, when given).
 */
export function paginate<T>(
  items: readonly T[],
  limit: number,
  cursor?: string,
  snapshot?: string,
): { items: T[]; next?: string } {
  const start = parseCursor(cursor).offset;
  const page = items.slice(start, start + limit);
  const end = start + page.length;
  if (end >= items.length) return { items: page };
  return { items: page, next: snapshot === undefined ? `o${end}` : `o${end}.${snapshot}` };
}
