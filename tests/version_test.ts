import { strictEqual as assertEquals } from "node:assert/strict";
import { VERSION } from "../src/version.ts";

Deno.test("src/version.ts VERSION equals deno.json version", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assertEquals(VERSION, denoJson.version, "Update src/version.ts (or run `deno task compile --sync-version`)");
});
