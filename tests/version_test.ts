import { deepStrictEqual, strictEqual as assertEquals } from "node:assert/strict";
import { VERSION } from "../src/version.ts";

Deno.test("src/version.ts VERSION equals deno.json version", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assertEquals(VERSION, denoJson.version, "Update src/version.ts (or run `deno task compile --sync-version`)");
});

Deno.test("deno task compile --sync-version writes deno.json's version everywhere the release names it", async () => {
  const { syncVersion } = await import("../scripts/compile.ts");
  const root = await Deno.makeTempDir({ prefix: "pve-mcp-version-" });
  try {
    const files = ["deno.json", "src/version.ts", "packaging/mcpb/manifest.json", "server.json"];
    for (const file of files) {
      await Deno.mkdir(`${root}/${file.slice(0, file.lastIndexOf("/") + 1)}`, { recursive: true });
      await Deno.copyFile(new URL(`../${file}`, import.meta.url), `${root}/${file}`);
    }
    const denoJson = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
    await Deno.writeTextFile(`${root}/deno.json`, JSON.stringify({ ...denoJson, version: "7.8.9-rc.1" }));
    assertEquals(await syncVersion(`${root}/`), "7.8.9-rc.1");
    assertEquals((await import(`file://${root}/src/version.ts`)).VERSION, "7.8.9-rc.1");
    const manifest = JSON.parse(await Deno.readTextFile(`${root}/packaging/mcpb/manifest.json`));
    deepStrictEqual([manifest.manifest_version, manifest.version], ["0.3", "7.8.9-rc.1"]);
    const server = JSON.parse(await Deno.readTextFile(`${root}/server.json`));
    deepStrictEqual([server.version, server.packages[0].identifier], [
      "7.8.9-rc.1",
      "ghcr.io/pve-mcp/pve-mcp:7.8.9-rc.1",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
