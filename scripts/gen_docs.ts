/** Writes docs/tools.md from the tool registry (`deno task gen:docs`). */
import { ALL_TOOLS } from "../src/tools/all.ts";
import { renderToolsDoc } from "../src/tools/docs.ts";

const path = new URL("../docs/tools.md", import.meta.url);
await Deno.writeTextFile(path, renderToolsDoc(ALL_TOOLS));
console.error(`wrote ${path.pathname} (${ALL_TOOLS.length} tools)`);
