/**
 * scripts/bundle.ts: the bundle builds with every network route to a registry cut (so it comes from Deno's cache),
 * is one self-contained file, and runs `--version` under the release flags.
 */
import { match, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { buildBundle, bundleRunArgs, bundleVersion } from "../../scripts/bundle.ts";
import { VERSION } from "../../src/version.ts";

Deno.test("deno task bundle: offline build, one file, runs --version under the release profile", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-bundle-" });
  try {
    const dead = "http://127.0.0.1:9/";
    const { path, bytes } = await buildBundle({
      out: join(dir, "pve-mcp.js"),
      // Every download would go through a proxy that does not exist. (Changing NPM_CONFIG_REGISTRY instead would
      // change the cache directory Deno looks in.)
      env: { HTTPS_PROXY: dead, HTTP_PROXY: dead, https_proxy: dead, http_proxy: dead, NO_PROXY: "", no_proxy: "" },
    });
    ok(bytes > 100_000, `bundle size ${bytes}`);
    const text = await Deno.readTextFile(path);
    ok(!/from\s*["'](npm|jsr|https?):/.test(text), "no import left to fetch at run time");
    strictEqual(await bundleVersion(path, { profile: "release" }), VERSION);
    const args = bundleRunArgs(path, { profile: "release" }, ["--version"]);
    ok(args.includes("--no-config") && args.includes("--deny-run"), args.join(" "));
    console.log(`bundle: ${(bytes / 1024).toFixed(0)} KiB`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed bundle reports deno's message and leaves no file behind", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-bundle-" });
  try {
    let message = "";
    try {
      await buildBundle({ out: join(dir, "x.js"), entry: "scripts/does_not_exist.ts" });
    } catch (error) {
      message = (error as Error).message;
    }
    match(message, /Cannot bundle scripts\/does_not_exist\.ts: deno bundle failed/);
    strictEqual([...Deno.readDirSync(dir)].length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
