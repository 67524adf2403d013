/** Writes docs/tools.md from the tool registry and the raw API class table into docs/safety.md (`deno task gen:docs`). */
import { ALL_TOOLS } from "../src/tools/all.ts";
import { renderToolsDoc } from "../src/tools/docs.ts";
import { replaceRawTable } from "../src/tools/raw_doc.ts";

const path = new URL("../docs/tools.md", import.meta.url);
await Deno.writeTextFile(path, renderToolsDoc(ALL_TOOLS));
console.error(`wrote ${path.pathname} (${ALL_TOOLS.length} tools)`);
const safety = new URL("../docs/safety.md", import.meta.url);
await Deno.writeTextFile(safety, replaceRawTable(await Deno.readTextFile(safety)));
console.error(`wrote the raw API table into ${safety.pathname} (run deno fmt docs/safety.md)`);
