/** docs/safety.md shows the raw API class table exactly as the code has it (`deno task gen:docs` writes it). */
import { deepStrictEqual, ok } from "node:assert/strict";
import { RAW_TABLE_BEGIN, RAW_TABLE_END, renderRawTable } from "../../src/tools/raw_doc.ts";

Deno.test("docs/safety.md's raw API table is generated from src/tools/raw_classes.ts", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/safety.md", import.meta.url));
  const begin = doc.indexOf(RAW_TABLE_BEGIN);
  const end = doc.indexOf(RAW_TABLE_END);
  ok(begin >= 0 && end > begin, "the raw-table markers are missing from docs/safety.md");
  // deno fmt re-wraps the list; compare the words.
  const words = (s: string) => s.trim().split(/\s+/).join(" ");
  deepStrictEqual(
    words(doc.slice(begin + RAW_TABLE_BEGIN.length, end)),
    words(renderRawTable()),
    "docs/safety.md is out of date: run `deno task gen:docs` and commit the result",
  );
});
