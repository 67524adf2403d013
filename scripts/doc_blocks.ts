/**
 * Generated blocks inside hand-written pages: `<!-- generated:NAME -->` … `<!-- /generated:NAME -->`. The scripts
 * that measure (bench, fuzz) rewrite the block between the markers, so no figure in docs/ is typed by hand.
 * @module
 */

/** `text` with the block `name` replaced by `content`; throws when the page lacks the markers. */
export function replaceBlock(text: string, name: string, content: string): string {
  const open = `<!-- generated:${name} -->`;
  const close = `<!-- /generated:${name} -->`;
  const a = text.indexOf(open);
  const b = text.indexOf(close);
  if (a < 0 || b < a) throw new Error(`The page has no block ${open} … ${close}`);
  return `${text.slice(0, a + open.length)}\n\n${content.trim()}\n\n${text.slice(b)}`;
}

/** Rewrites the block `name` of the page at `path` and formats the page like every other (`deno fmt`). */
export async function writeBlock(path: string, name: string, content: string): Promise<void> {
  await Deno.writeTextFile(path, replaceBlock(await Deno.readTextFile(path), name, content));
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", path] }).output();
}
