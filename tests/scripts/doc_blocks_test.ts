/**
 * Generated blocks: the scripts that measure rewrite only what lies between their markers, and docs/reliability.md
 * carries both blocks (bench and fuzz) filled in, so its figures come from runs, not from typing.
 */
import { equal, match, ok, throws } from "node:assert/strict";
import { replaceBlock } from "../../scripts/doc_blocks.ts";

Deno.test("replaceBlock rewrites the block between its markers and nothing else", () => {
  const page = "intro\n<!-- generated:x -->\nold 1\nold 2\n<!-- /generated:x -->\noutro\n";
  equal(replaceBlock(page, "x", "new"), "intro\n<!-- generated:x -->\n\nnew\n\n<!-- /generated:x -->\noutro\n");
  throws(() => replaceBlock(page, "y", "new"), /no block <!-- generated:y -->/);
  throws(() => replaceBlock("<!-- /generated:x --> <!-- generated:x -->", "x", "new"), /no block/);
});

Deno.test("docs/reliability.md shows the figures of a bench run and a fuzz run, in generated blocks", async () => {
  const page = await Deno.readTextFile(new URL("../../docs/reliability.md", import.meta.url));
  for (const name of ["bench", "fuzz"]) {
    const block = new RegExp(`<!-- generated:${name} -->([\\s\\S]*?)<!-- /generated:${name} -->`).exec(page);
    ok(block, `docs/reliability.md lacks the ${name} block`);
    match(block[1]!, /\| .* \| .* \|/, `the ${name} block holds no table: run the script that writes it`);
  }
});
