/**
 * `deno task compile`: single-file binaries for the six `deno compile` targets, with a permission profile baked in
 * (src/permissions/profiles.ts), plus `SHA256SUMS`, a CycloneDX SBOM and the baked flags as JSON.
 *
 * `deno compile` needs the Deno runtime (`denort`) of each target. This script never downloads it unless told to
 * (`--download`); it takes, per target, in this order:
 *   1. `DENORT_BIN`: a denort executable (serves one target: pass `--target`) or a directory holding
 *      `denort-<target>` / `denort-<target>.exe` for each target;
 *   2. Deno's cache: `<DENO_DIR>/dl/release/v<deno version>/denort-<target>.zip` (the file from dl.deno.land);
 * and otherwise stops with a message naming `DENORT_BIN`. It never passes `--env-file` (that would embed values).
 *
 * Usage: deno task compile [--profile release|locked] [--target T[,T…]] [--out-dir DIR] [--download]
 *                          [--pve-host … --config-dir … --data-dir … (locked)] [--sync-version] [--help]
 * @module
 */
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  LOCKED_PARSE_OPTIONS,
  permissionFlags,
  PROFILE_ARG_HELP,
  profileFromArgs,
  type ProfileOptions,
  type TargetOs,
} from "../src/permissions/profiles.ts";
import { writeSha256Sums } from "./checksums.ts";
import { programSbom } from "./sbom.ts";

/** The six targets `deno compile` supports. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
  "aarch64-pc-windows-msvc",
] as const;
/** One of {@linkcode TARGETS}. */
export type Target = (typeof TARGETS)[number];

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The OS a target runs on. */
export function targetOs(target: Target): TargetOs {
  return target.includes("windows") ? "windows" : target.includes("apple") ? "darwin" : "linux";
}

/** `pve-mcp-<version>-<target>[.exe]`. */
export function outputName(version: string, target: Target): string {
  return `pve-mcp-${version}-${target}${targetOs(target) === "windows" ? ".exe" : ""}`;
}

/** Where the runtime of one target comes from. */
export type DenortSource =
  | { target: Target; kind: "file"; path: string }
  | { target: Target; kind: "cache"; path: string }
  | { target: Target; kind: "download" };

/** Deno's cache file of a target's runtime. */
export function cachedDenortPath(denoDir: string, target: Target, denoVersion = Deno.version.deno): string {
  return join(denoDir, "dl", "release", `v${denoVersion}`, `denort-${target}.zip`);
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function isDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/**
 * Finds the runtime of each target. Returns the sources found and a message for what is missing (undefined when
 * every target is covered).
 */
export function resolveDenort(
  targets: readonly Target[],
  opts: { denortBin: string | undefined; denoDir: string; allowDownload: boolean },
): { sources: DenortSource[]; problem?: string } {
  const sources: DenortSource[] = [];
  const missing: Target[] = [];
  const hints: string[] = [];
  if (opts.denortBin !== undefined && opts.denortBin !== "" && isFile(opts.denortBin)) {
    if (targets.length !== 1) {
      return {
        sources,
        problem: `DENORT_BIN is the file "${opts.denortBin}", which serves one target, but ${targets.length} targets ` +
          `were asked for: pass --target <one of them>, or set DENORT_BIN to a directory holding ` +
          `denort-<target> (denort-<target>.exe for Windows) for each target`,
      };
    }
    return { sources: [{ target: targets[0] as Target, kind: "file", path: opts.denortBin }] };
  }
  if (opts.denortBin !== undefined && opts.denortBin !== "" && !isDir(opts.denortBin)) {
    return { sources, problem: `DENORT_BIN is "${opts.denortBin}", which does not exist: fix or unset it` };
  }
  for (const target of targets) {
    if (opts.denortBin !== undefined && opts.denortBin !== "") {
      const exe = join(opts.denortBin, `denort-${target}${targetOs(target) === "windows" ? ".exe" : ""}`);
      if (isFile(exe)) {
        sources.push({ target, kind: "file", path: exe });
        continue;
      }
      if (isFile(join(opts.denortBin, `denort-${target}.zip`))) {
        hints.push(
          `${opts.denortBin}/denort-${target}.zip is a zip: unzip it there, or copy it to ` +
            cachedDenortPath(opts.denoDir, target),
        );
      }
    }
    const cached = cachedDenortPath(opts.denoDir, target);
    if (isFile(cached)) sources.push({ target, kind: "cache", path: cached });
    else if (opts.allowDownload) sources.push({ target, kind: "download" });
    else missing.push(target);
  }
  if (missing.length === 0) return { sources };
  const base = `https://dl.deno.land/release/v${Deno.version.deno}`;
  return {
    sources,
    problem: [
      `Cannot compile for ${missing.join(", ")}: the Deno runtime (denort ${Deno.version.deno}) of ` +
      `${missing.length === 1 ? "this target is" : "these targets is"} not available and downloads are off.`,
      `Fix one of:`,
      `  - set DENORT_BIN to a denort ${Deno.version.deno} executable and pass --target <that target>;`,
      `  - set DENORT_BIN to a directory with denort-<target> files (unzipped ${base}/denort-<target>.zip);`,
      `  - put the zips into Deno's cache: ${cachedDenortPath(opts.denoDir, "TARGET" as Target)};`,
      `  - or pass --download to let deno compile fetch them from ${base}/.`,
      ...hints.map((h) => `Note: ${h}`),
    ].join("\n"),
  };
}

/** The `deno compile` arguments of one target (no `--env-file`, ever). */
export function compileArgs(opts: { target: Target; output: string; flags: string[]; entry?: string }): string[] {
  const args = [
    "compile",
    "--frozen-lockfile",
    "--exclude-unused-npm",
    "--target",
    opts.target,
    "--output",
    opts.output,
    ...opts.flags,
    opts.entry ?? "src/main.ts",
  ];
  if (args.some((a) => a.startsWith("--env-file"))) {
    throw new Error("Refusing to compile with --env-file: it would embed the file's values into the binary");
  }
  return args;
}

/** Options of {@linkcode compileAll}. */
export interface CompileOptions {
  profile: ProfileOptions;
  targets: readonly Target[];
  outDir: string;
  version: string;
  denortBin: string | undefined;
  denoDir: string;
  allowDownload: boolean;
  /** Program entry, relative to the repository (default src/main.ts; tests build a tiny program). */
  entry?: string;
  /** Run the binary built for this machine with `--version` and require the version (default true). */
  verifyHost?: boolean;
  /** Progress lines (default: stderr). */
  report?: (line: string) => void;
}

/** What was built. */
export interface CompileResult {
  binaries: { target: Target; path: string; bytes: number }[];
  sbom: string;
  permissions: string;
  sums: string;
}

/**
 * Builds every target; throws with the message to show when a runtime is missing or `deno compile` fails. A failed
 * build leaves nothing behind: every file this run wrote is removed again (a half-written or unverified binary, e.g.
 * one built with a plain `deno` standing in for `denort`, would otherwise sit in dist/ looking like a release), and so
 * is the output directory when this run created it.
 */
export async function compileAll(opts: CompileOptions): Promise<CompileResult> {
  const { sources, problem } = resolveDenort(opts.targets, opts);
  if (problem !== undefined) throw new Error(problem);
  const created = !isDir(opts.outDir);
  await Deno.mkdir(opts.outDir, { recursive: true });
  const written: string[] = [];
  try {
    return await build(opts, sources, written);
  } catch (error) {
    if (created) await Deno.remove(opts.outDir, { recursive: true }).catch(() => {});
    else for (const path of written) await Deno.remove(path).catch(() => {});
    throw error;
  }
}

async function build(opts: CompileOptions, sources: DenortSource[], written: string[]): Promise<CompileResult> {
  const report = opts.report ?? ((line: string) => console.error(line));
  const binaries: CompileResult["binaries"] = [];
  const baked: Record<string, string[]> = {};
  for (const source of sources) {
    const flags = permissionFlags(
      opts.profile.profile === "locked" ? { ...opts.profile, os: targetOs(source.target) } : opts.profile,
    );
    const output = join(opts.outDir, outputName(opts.version, source.target));
    written.push(output);
    // The child gets our environment minus DENORT_BIN, which is set only for a target that uses a file.
    const env: Record<string, string> = { ...Deno.env.toObject(), DENO_NO_UPDATE_CHECK: "1" };
    delete env.DENORT_BIN;
    if (source.kind === "file") env.DENORT_BIN = source.path;
    report(`Compiling ${basename(output)} (${source.kind === "file" ? source.path : source.kind})`);
    const out = await new Deno.Command(Deno.execPath(), {
      args: compileArgs({ target: source.target, output, flags, ...(opts.entry ? { entry: opts.entry } : {}) }),
      cwd: ROOT,
      env,
      clearEnv: true,
      stdout: "inherit",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`Cannot compile ${source.target}: deno compile failed:\n${new TextDecoder().decode(out.stderr)}`);
    }
    if (opts.verifyHost !== false && source.target === Deno.build.target) {
      await verifyVersion(output, opts.version);
      report(`${basename(output)} --version prints ${opts.version}`);
    }
    binaries.push({ target: source.target, path: output, bytes: (await Deno.stat(output)).size });
    baked[source.target] = flags;
  }
  const sbom = join(opts.outDir, `pve-mcp-${opts.version}.cdx.json`);
  const permissions = join(opts.outDir, `pve-mcp-${opts.version}.permissions.json`);
  written.push(sbom, permissions, join(opts.outDir, "SHA256SUMS"));
  await Deno.writeTextFile(
    sbom,
    JSON.stringify(await programSbom(ROOT, { runtime: true, ...(opts.entry ? { entry: opts.entry } : {}) }), null, 2) +
      "\n",
  );
  await Deno.writeTextFile(
    permissions,
    JSON.stringify({ profile: opts.profile.profile, version: opts.version, flags: baked }, null, 2) + "\n",
  );
  await writeSha256Sums(opts.outDir, [...binaries.map((b) => b.path), sbom, permissions]);
  return { binaries, sbom, permissions, sums: join(opts.outDir, "SHA256SUMS") };
}

/** Runs `binary --version` (no environment, 10 s at most) and requires it to print `version`. */
export async function verifyVersion(binary: string, version: string): Promise<void> {
  const out = await new Deno.Command(binary, {
    args: ["--version"],
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(10_000),
  }).output();
  const printed = new TextDecoder().decode(out.stdout).trim();
  if (!out.success || printed !== version) {
    throw new Error(
      `The compiled ${basename(binary)} printed "${printed.split("\n")[0]?.slice(0, 80)}" for --version (exit ` +
        `${out.code}), expected "${version}": the runtime used is not a denort ${Deno.version.deno}, or the build is broken`,
    );
  }
}

/** deno.json's version, checked against src/version.ts. */
export async function readVersion(root = ROOT): Promise<string> {
  const denoJson = JSON.parse(await Deno.readTextFile(join(root, "deno.json"))) as { version?: string };
  if (typeof denoJson.version !== "string") throw new Error("Cannot read the version: deno.json has no version");
  return denoJson.version;
}

/**
 * Writes deno.json's version into src/version.ts, the MCP Bundle manifest (packaging/mcpb/manifest.json) and the MCP
 * Registry entry (server.json: its version and its image tag).
 */
export async function syncVersion(root = ROOT): Promise<string> {
  const version = await readVersion(root);
  const edit = async (path: string, ...edits: [RegExp, string][]) => {
    let text = await Deno.readTextFile(join(root, path));
    for (const [pattern, replacement] of edits) text = text.replace(pattern, replacement);
    await Deno.writeTextFile(join(root, path), text);
  };
  await edit("src/version.ts", [/VERSION = "[^"]*"/, `VERSION = "${version}"`]);
  await edit("packaging/mcpb/manifest.json", [/"version": "[^"]*"/, `"version": "${version}"`]);
  await edit("server.json", [/"version": "[^"]*"/, `"version": "${version}"`], [
    /("identifier": "ghcr\.io\/[^":]+:)[^"]*"/,
    `$1${version}"`,
  ]);
  return version;
}

async function denoDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stderr: "inherit" }).output();
  return (JSON.parse(new TextDecoder().decode(out.stdout)) as { denoDir: string }).denoDir;
}

const HELP = `Usage: deno task compile [options]

Builds dist/pve-mcp-<version>-<target>[.exe] for each target, SHA256SUMS, an SBOM and the baked permissions.

  --target T[,T…]            Targets (default: all six): ${TARGETS.join(", ")}
  --out-dir DIR              Output directory (default: dist, or dist/locked for the locked profile)
  --download                 Let deno compile download missing runtimes from dl.deno.land
  --sync-version             Write deno.json's version into src/version.ts, the MCPB manifest and server.json
  --entry FILE               Program entry (default: src/main.ts)
${PROFILE_ARG_HELP}

Runtimes: DENORT_BIN (a denort file for one --target, or a directory of denort-<target>[.exe]) or Deno's cache.`;

async function cli(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      profile: { type: "string", default: "release" },
      target: { type: "string", multiple: true },
      "out-dir": { type: "string" },
      download: { type: "boolean", default: false },
      "sync-version": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
      entry: { type: "string" },
      ...LOCKED_PARSE_OPTIONS,
    },
  });
  if (values.help) return console.log(HELP), 0;
  if (values["sync-version"]) {
    return console.log(`src/version.ts, packaging/mcpb/manifest.json and server.json now say ${await syncVersion()}`),
      0;
  }
  const version = await readVersion();
  const { VERSION } = await import("../src/version.ts");
  if (VERSION !== version) {
    console.error(`Cannot compile: src/version.ts says ${VERSION} but deno.json says ${version}; run \
deno task compile --sync-version`);
    return 2;
  }
  const targets = (values.target ?? [...TARGETS]).flatMap((t) => t.split(",")).map((t) => t.trim());
  const unknown = targets.filter((t) => !(TARGETS as readonly string[]).includes(t));
  if (unknown.length > 0) {
    console.error(`Unknown --target ${unknown.join(", ")}: use one of ${TARGETS.join(", ")}`);
    return 2;
  }
  let profile: ProfileOptions;
  try {
    profile = profileFromArgs(values);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  try {
    const result = await compileAll({
      profile,
      targets: targets as Target[],
      outDir: resolve(ROOT, values["out-dir"] ?? (profile.profile === "locked" ? "dist/locked" : "dist")),
      ...(values.entry === undefined ? {} : { entry: values.entry }),
      version,
      denortBin: Deno.env.get("DENORT_BIN"),
      denoDir: await denoDir(),
      allowDownload: values.download,
    });
    for (const b of result.binaries) console.log(`${basename(b.path)}  ${(b.bytes / 1048576).toFixed(1)} MiB`);
    console.log(`${basename(result.sbom)}\n${basename(result.permissions)}\nSHA256SUMS`);
    return 0;
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await cli(Deno.args));
