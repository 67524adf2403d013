/**
 * `deno task mcpb`: MCP Bundles (`.mcpb`) for Claude Desktop, one per release binary found in dist/: the manifest
 * (packaging/mcpb/manifest.json, narrowed to the binary's platform) plus the binary as `server/pve-mcp[.exe]`, packed
 * with the `@anthropic-ai/mcpb` package (which validates the manifest). The bundles are added to dist/SHA256SUMS.
 * Without binaries it stops with a message: build them first with `deno task compile` (which needs `denort`).
 *
 * Usage: deno task mcpb [--dist DIR] [--target T[,T…]] [--help]
 * @module
 */
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { writeSha256Sums } from "./checksums.ts";
import { outputName, type Target, targetOs, TARGETS } from "./compile.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The manifest in the repository (all platforms; its version is src/version.ts's, checked by a test). */
export const MANIFEST_PATH = join(ROOT, "packaging", "mcpb", "manifest.json");

/** An MCPB manifest as far as this script touches it. */
export interface McpbManifest {
  version: string;
  server: { entry_point: string; mcp_config: { command: string } & Record<string, unknown> } & Record<string, unknown>;
  compatibility?: { platforms?: string[] } & Record<string, unknown>;
  [key: string]: unknown;
}

/** The `process.platform` name MCPB uses for a target's OS. */
export function mcpbPlatform(target: Target): "darwin" | "win32" | "linux" {
  const os = targetOs(target);
  return os === "windows" ? "win32" : os;
}

/** The repository's manifest. */
export async function readManifest(path = MANIFEST_PATH): Promise<McpbManifest> {
  return JSON.parse(await Deno.readTextFile(path)) as McpbManifest;
}

/** The manifest packed with one target's binary: entry point named for that OS, platforms narrowed to it. */
export function manifestFor(manifest: McpbManifest, target: Target): McpbManifest {
  const copy = structuredClone(manifest);
  copy.server.entry_point = `server/pve-mcp${targetOs(target) === "windows" ? ".exe" : ""}`;
  copy.compatibility = { ...copy.compatibility, platforms: [mcpbPlatform(target)] };
  return copy;
}

/** `pve-mcp-<version>-<target>.mcpb`. */
export function bundleName(version: string, target: Target): string {
  return `pve-mcp-${version}-${target}.mcpb`;
}

/** Packs one bundle from `binary` into `out`; throws when the packer refuses (e.g. an invalid manifest). */
export async function packBundle(manifest: McpbManifest, target: Target, binary: string, out: string): Promise<void> {
  const { packExtension } = await import("@anthropic-ai/mcpb");
  const stage = await Deno.makeTempDir({ prefix: "pve-mcp-mcpb-" });
  const tmp = `${out}.${crypto.randomUUID()}.tmp`;
  try {
    const packed = manifestFor(manifest, target);
    await Deno.writeTextFile(join(stage, "manifest.json"), JSON.stringify(packed, null, 2) + "\n");
    await Deno.mkdir(join(stage, "server"));
    const dest = join(stage, packed.server.entry_point);
    await Deno.copyFile(binary, dest);
    await Deno.chmod(dest, 0o755);
    await Deno.copyFile(join(ROOT, "LICENSE"), join(stage, "LICENSE"));
    if (!(await packExtension({ extensionPath: stage, outputPath: tmp, silent: true }))) {
      throw new Error(`Cannot pack ${basename(out)}: the MCPB packer refused it (run npx @anthropic-ai/mcpb validate)`);
    }
    await Deno.rename(tmp, out);
  } finally {
    await Deno.remove(tmp).catch(() => {});
    await Deno.remove(stage, { recursive: true });
  }
}

/** Names listed in a directory's SHA256SUMS (none when it has no such file). */
async function listedFiles(dir: string): Promise<string[]> {
  try {
    const text = await Deno.readTextFile(join(dir, "SHA256SUMS"));
    return text.split("\n").map((l) => /^[0-9a-f]{64} [ *](.+)$/.exec(l)?.[1]).filter((n): n is string => !!n);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** Packs a bundle for each target whose binary is in `dist`; returns the bundles' paths. */
export async function packAll(opts: { dist: string; version: string; targets: readonly Target[] }): Promise<string[]> {
  const found = opts.targets.map((target) => ({ target, binary: join(opts.dist, outputName(opts.version, target)) }))
    .filter(({ binary }) => {
      try {
        return Deno.statSync(binary).isFile;
      } catch {
        return false;
      }
    });
  if (found.length === 0) {
    throw new Error(
      `Cannot pack MCP Bundles: no release binary of pve-mcp ${opts.version} in ${opts.dist} ` +
        `(looked for ${opts.targets.map((t) => outputName(opts.version, t)).join(", ")}). Build them first with ` +
        `deno task compile, which needs the Deno runtime denort (docs/install.md, "Building from source").`,
    );
  }
  const manifest = { ...(await readManifest()), version: opts.version };
  const bundles: string[] = [];
  for (const { target, binary } of found) {
    const out = join(opts.dist, bundleName(opts.version, target));
    await packBundle(manifest, target, binary, out);
    bundles.push(out);
  }
  const names = new Set([...(await listedFiles(opts.dist)), ...bundles.map((b) => basename(b))]);
  await writeSha256Sums(opts.dist, [...names].map((n) => join(opts.dist, n)));
  return bundles;
}

const HELP = `Usage: deno task mcpb [options]

Packs an MCP Bundle (.mcpb) for Claude Desktop from each release binary in dist/ (built by deno task compile) and adds
them to dist/SHA256SUMS.

  --dist DIR                 Where the binaries are and the bundles go (default: dist)
  --target T[,T…]            Only these targets (default: every target with a binary): ${TARGETS.join(", ")}`;

async function cli(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        dist: { type: "string", default: "dist" },
        target: { type: "string", multiple: true },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\nRun deno task mcpb --help for the options.`);
    return 2;
  }
  if (values.help) return console.log(HELP), 0;
  const targets = (values.target ?? [...TARGETS]).flatMap((t) => t.split(",")).map((t) => t.trim());
  const unknown = targets.filter((t) => !(TARGETS as readonly string[]).includes(t));
  if (unknown.length > 0) {
    return console.error(`Unknown --target ${unknown.join(", ")}: use one of ${TARGETS.join(", ")}`), 2;
  }
  try {
    const { VERSION } = await import("../src/version.ts");
    const bundles = await packAll({ dist: resolve(ROOT, values.dist), version: VERSION, targets: targets as Target[] });
    for (const b of bundles) console.log(`${basename(b)}  ${((await Deno.stat(b)).size / 1048576).toFixed(1)} MiB`);
    console.log("SHA256SUMS");
    return 0;
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await cli(Deno.args));
