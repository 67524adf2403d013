/**
 * Cursor pagination for long listings: cursors are opaque offsets, limits keep a page small.
 * @module
 */
import { z } from "zod";

/** Page size argument shared by listing tools. */
export const PageLimit = z.number().int().min(1).max(5000).default(200);

/** One page of `items` starting at `cursor`, and the cursor of the next page when there is one. */
export function paginate<T>(items: readonly T[], limit: number, cursor?: string): { items: T[]; next?: string } {
  let start = 0;
  if (cursor !== undefined) {
    const m = /^o(\d{1,9})$/.exec(cursor);
    if (!m) throw new TypeError(`Invalid cursor "${cursor.slice(0, 20)}": pass the next_cursor of the previous page`);
    start = Number(m[1]);
  }
  const page = items.slice(start, start + limit);
  const end = start + page.length;
  return end < items.length ? { items: page, next: `o${end}` } : { items: page };
}
