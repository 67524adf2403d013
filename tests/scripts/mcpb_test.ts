/**
 * The Claude Desktop MCP Bundle: packaging/mcpb/manifest.json (and each target's variant) validates with the
 * `@anthropic-ai/mcpb` package's own schema, carries src/version.ts's version and the settings form; the launch
 * configuration a host derives from it (the package's `getMcpConfigForManifest`, with the user's answers) starts the
 * server against the simulator and lists tools; `deno task mcpb` packs what the packer accepts and fails cleanly
 * without binaries.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getMcpConfigForManifest, MANIFEST_SCHEMAS } from "@anthropic-ai/mcpb/browser";
import { bundleRunArgs } from "../../scripts/bundle.ts";
import { verifySha256Sums } from "../../scripts/checksums.ts";
import { outputName, TARGETS } from "../../scripts/compile.ts";
import { bundleName, manifestFor, packAll, readManifest } from "../../scripts/mcpb.ts";
import { startSimulator } from "../../src/sim/mod.ts";
import { VERSION } from "../../src/version.ts";
import { sandboxBundle } from "../sandbox/bundle_cache.ts";
import { connectStdio, denoEnv } from "../sandbox/mcp_stdio.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function problems(manifest: unknown): string[] {
  const result = MANIFEST_SCHEMAS["0.3"].safeParse(manifest);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

Deno.test("manifest.json: valid MCPB 0.3 (the mcpb package's schema) for every target; version and settings", async () => {
  const manifest = await readManifest();
  deepStrictEqual(problems(manifest), []);
  strictEqual(manifest.version, VERSION, "packaging/mcpb/manifest.json's version must be src/version.ts's");
  for (const target of TARGETS) {
    const packed = manifestFor(manifest, target);
    deepStrictEqual(problems(packed), [], target);
    deepStrictEqual(packed.compatibility?.platforms, [
      target.includes("windows") ? "win32" : target.includes("apple") ? "darwin" : "linux",
    ]);
  }
  const config = manifest.user_config as Record<string, { type: string; required?: boolean; sensitive?: boolean }>;
  deepStrictEqual(Object.keys(config).sort(), ["ca_file", "host", "mode", "port", "token_id", "token_secret"]);
  strictEqual(config.token_secret?.sensitive, true, "the token secret goes to the keychain");
  strictEqual(config.ca_file?.type, "file");
  for (const key of ["host", "token_id", "token_secret"]) strictEqual(config[key]?.required, true, key);
  strictEqual(manifest.server.type, "binary");
  // The schema itself refuses what Claude Desktop would refuse (the check can fail).
  ok(problems({ ...manifest, server: { ...manifest.server, type: "deno" } }).length > 0);
});

Deno.test("the launch configuration Claude Desktop derives from the manifest starts the server and lists tools", async () => {
  const sim = await startSimulator({ nodes: 1, guests: 3 });
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-mcpb-launch-" });
  try {
    const caFile = join(dir, "pve-root-ca.pem");
    await Deno.writeTextFile(caFile, sim.caCertPem);
    const manifest = manifestFor(await readManifest(), "x86_64-unknown-linux-gnu");
    const launch = await getMcpConfigForManifest({
      manifest: manifest as never,
      extensionPath: join(dir, "extension"),
      systemDirs: {},
      userConfig: {
        host: "127.0.0.1",
        port: sim.port,
        token_id: sim.tokens.auditor.tokenId,
        token_secret: sim.tokens.auditor.secret,
        ca_file: caFile,
      },
      pathSeparator: "/",
    });
    ok(launch, "all required settings given");
    strictEqual(launch.command, join(dir, "extension", "server", "pve-mcp"));
    deepStrictEqual(launch.args, ["serve"]);
    const env = launch.env ?? {};
    ok(
      !Object.values(env).some((v) => v.includes("${")),
      `every placeholder filled: ${JSON.stringify(Object.keys(env))}`,
    );
    strictEqual(env.PROXMOX_MCP_MODE, "read-only");
    // The binary cannot be built here: the bundle under the flags it bakes in stands for it (as in clients_test).
    const bundle = await sandboxBundle();
    const session = await connectStdio(
      Deno.execPath(),
      bundleRunArgs(bundle, { profile: "release" }, launch.args ?? []),
      { ...denoEnv(), HOME: dir, ...env },
      dir,
    );
    try {
      const { tools } = await session.client.listTools();
      ok(tools.some((t) => t.name === "guest_list"), tools.map((t) => t.name).join(", "));
    } finally {
      await session.close();
    }
    // A missing required answer: the host does not start the server at all.
    const incomplete = await getMcpConfigForManifest({
      manifest: manifest as never,
      extensionPath: dir,
      systemDirs: {},
      userConfig: { host: "127.0.0.1" },
      pathSeparator: "/",
    });
    strictEqual(incomplete, undefined);
  } finally {
    await sim.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task mcpb without binaries: one message naming deno task compile, exit 1, nothing written", async () => {
  const dist = await Deno.makeTempDir({ prefix: "pve-mcp-mcpb-empty-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "mcpb", "--dist", dist],
      cwd: ROOT,
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    strictEqual(out.code, 1);
    const stderr = new TextDecoder().decode(out.stderr);
    match(stderr, /Cannot pack MCP Bundles: no release binary of pve-mcp \S+ in .*deno task compile/);
    ok(!/^\s+at |Uncaught/m.test(stderr), stderr);
    deepStrictEqual([...Deno.readDirSync(dist)], []);
  } finally {
    await Deno.remove(dist, { recursive: true });
  }
});

Deno.test("packs a bundle per binary found: the packer's zip holds the manifest and an executable server", async () => {
  const dist = await Deno.makeTempDir({ prefix: "pve-mcp-mcpb-" });
  try {
    const linux = join(dist, outputName("9.9.9", "x86_64-unknown-linux-gnu"));
    const windows = join(dist, outputName("9.9.9", "x86_64-pc-windows-msvc"));
    await Deno.writeTextFile(linux, "#!/bin/sh\necho stand-in\n");
    await Deno.writeTextFile(windows, "MZ stand-in");
    await Deno.writeTextFile(
      join(dist, "SHA256SUMS"),
      `${"0".repeat(64)}  ${outputName("9.9.9", "x86_64-unknown-linux-gnu")}\n`,
    );
    const bundles = await packAll({ dist, version: "9.9.9", targets: TARGETS });
    deepStrictEqual(bundles.map((b) => b.slice(dist.length + 1)), [
      bundleName("9.9.9", "x86_64-unknown-linux-gnu"),
      bundleName("9.9.9", "x86_64-pc-windows-msvc"),
    ]);
    const { unpackExtension } = await import("@anthropic-ai/mcpb");
    for (const [bundle, entry] of [[bundles[0], "server/pve-mcp"], [bundles[1], "server/pve-mcp.exe"]] as const) {
      const out = join(dist, `unpacked-${entry.length}`);
      ok(await unpackExtension({ mcpbPath: bundle ?? "", outputDir: out, silent: true }));
      const manifest = JSON.parse(await Deno.readTextFile(join(out, "manifest.json")));
      strictEqual(manifest.version, "9.9.9");
      strictEqual(manifest.server.entry_point, entry);
      deepStrictEqual(problems(manifest), []);
      if (entry === "server/pve-mcp") ok(((await Deno.stat(join(out, entry))).mode ?? 0) & 0o100, "executable");
    }
    // SHA256SUMS keeps every file it listed (hashed again) and adds the bundles.
    const sums = await Deno.readTextFile(join(dist, "SHA256SUMS"));
    deepStrictEqual(
      sums.trim().split("\n").map((l) => l.split("  ")[1]).sort(),
      [
        outputName("9.9.9", "x86_64-unknown-linux-gnu"),
        bundleName("9.9.9", "x86_64-pc-windows-msvc"),
        bundleName("9.9.9", "x86_64-unknown-linux-gnu"),
      ].sort(),
    );
    deepStrictEqual(await verifySha256Sums(dist, sums), []);
  } finally {
    await Deno.remove(dist, { recursive: true });
  }
});
