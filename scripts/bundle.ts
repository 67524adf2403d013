/**
 * `deno task bundle`: the whole program as one JavaScript file, `dist/pve-mcp.js`, built offline from Deno's cache
 * (`deno bundle` uses esbuild, itself an npm package Deno caches like any dependency). Then it proves the file runs:
 * `deno run <profile flags> dist/pve-mcp.js --version` must print the version. The bundle is how CI checks the
 * program under each profile's exact flags where the compile runtime (`denort`) is unavailable.
 *
 * Usage: deno task bundle [--out FILE] [--minify] [--profile release|locked …locked options] [--help]
 * @module
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  LOCKED_PARSE_OPTIONS,
  permissionFlags,
  PROFILE_ARG_HELP,
  profileFromArgs,
  type ProfileOptions,
} from "../src/permissions/profiles.ts";
import { sha256File } from "./checksums.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Default output of the bundle. */
export const DEFAULT_BUNDLE = resolve(ROOT, "dist", "pve-mcp.js");

/** Options of {@linkcode buildBundle}. */
export interface BundleOptions {
  /** Output file (default dist/pve-mcp.js). */
  out?: string;
  /** Program entry relative to the repository (default src/main.ts). */
  entry?: string;
  minify?: boolean;
  /** Extra environment for `deno bundle` (tests use it to cut the network off). */
  env?: Record<string, string>;
}

/** Builds the bundle; returns its path and size. Throws with deno's message when bundling fails. */
export async function buildBundle(opts: BundleOptions = {}): Promise<{ path: string; bytes: number }> {
  const out = resolve(ROOT, opts.out ?? DEFAULT_BUNDLE);
  await Deno.mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.${crypto.randomUUID()}.tmp`;
  const args = ["bundle", "--platform", "deno", "--frozen-lockfile", "--output", tmp];
  if (opts.minify) args.push("--minify");
  args.push(opts.entry ?? "src/main.ts");
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", ...opts.env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    await Deno.remove(tmp).catch(() => {});
    throw new Error(
      `Cannot bundle ${opts.entry ?? "src/main.ts"}: deno bundle failed:\n` +
        new TextDecoder().decode(result.stderr),
    );
  }
  await Deno.rename(tmp, out); // atomic: parallel builders never see a half-written bundle
  return { path: out, bytes: (await Deno.stat(out)).size };
}

/** `deno run` arguments that start the bundle under a profile's exact flags. */
export function bundleRunArgs(bundle: string, profile: ProfileOptions, programArgs: string[] = []): string[] {
  return ["run", "--no-config", "--no-lock", ...permissionFlags(profile), bundle, ...programArgs];
}

/** Runs `<bundle> --version` under the profile's flags; returns what it printed. */
export async function bundleVersion(bundle: string, profile: ProfileOptions): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: bundleRunArgs(bundle, profile, ["--version"]),
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `The bundle did not run: \`--version\` exited ${out.code}:\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return new TextDecoder().decode(out.stdout).trim();
}

const HELP = `Usage: deno task bundle [options]

Bundles src/main.ts into one JavaScript file (offline, from Deno's cache) and checks that it runs:
deno run <profile flags> <file> --version.

  --out FILE                 Output (default: dist/pve-mcp.js)
  --minify                   Minify the output
${PROFILE_ARG_HELP}`;

async function cli(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: "string" },
      minify: { type: "boolean", default: false },
      profile: { type: "string", default: "release" },
      help: { type: "boolean", default: false },
      ...LOCKED_PARSE_OPTIONS,
    },
  });
  if (values.help) return console.log(HELP), 0;
  let profile: ProfileOptions;
  try {
    profile = profileFromArgs(values);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  try {
    const { VERSION } = await import("../src/version.ts");
    const { path, bytes } = await buildBundle({ ...(values.out ? { out: values.out } : {}), minify: values.minify });
    const printed = await bundleVersion(path, profile);
    if (printed !== VERSION) throw new Error(`The bundle printed "${printed}" for --version, expected "${VERSION}"`);
    console.log(`${path}  ${(bytes / 1024).toFixed(0)} KiB  sha256 ${await sha256File(path)}`);
    console.log(
      `Runs under the ${profile.profile} profile: deno ${bundleRunArgs(path, profile, ["--version"]).join(" ")}`,
    );
    return 0;
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await cli(Deno.args));
