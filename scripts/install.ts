/**
 * `deno task install`: puts an executable `pve-mcp` into Deno's install root (`$DENO_INSTALL_ROOT/bin`, default
 * `~/.deno/bin`) with Deno's own `deno install --global`. The shim it writes runs this checkout's `src/main.ts` under a
 * permission profile's exact flags (src/permissions/profiles.ts): `release` by default, `locked` with its hosts and
 * directories; it names the installing Deno by its absolute path, so clients without the shell's PATH can start it. Works offline once Deno's cache holds the dependencies (deno.json pins exact versions). Then it
 * runs the installed `pve-mcp --version` from another directory and requires the version.
 *
 * Usage: deno task install [--root DIR] [--profile release|locked …locked options] [--help]
 * @module
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  LOCKED_PARSE_OPTIONS,
  permissionFlags,
  PROFILE_ARG_HELP,
  profileFromArgs,
  type ProfileOptions,
} from "../src/permissions/profiles.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Name of the installed command. */
export const COMMAND_NAME = "pve-mcp";

/** The `deno install` arguments that install `pve-mcp` under a profile (`root` overrides DENO_INSTALL_ROOT). */
export function installArgs(profile: ProfileOptions, root?: string): string[] {
  return [
    "install",
    "--global",
    "--force",
    "--name",
    COMMAND_NAME,
    "--config",
    join(ROOT, "deno.json"),
    // A copy of the checkout's lock file next to the shim: the installed command resolves the reviewed dependency
    // tree, and the checkout's frozen deno.lock is not rewritten (a global install adds a link entry for itself).
    "--frozen=false",
    "--lock",
    installLock(root ?? installRoot()),
    ...(root === undefined ? [] : ["--root", resolve(root)]),
    ...permissionFlags(profile),
    join(ROOT, "src", "main.ts"),
  ];
}

/** Where `deno install` puts the shim: `<root>/bin/pve-mcp` (`.cmd` on Windows). */
export function shimPath(root: string): string {
  return join(root, "bin", Deno.build.os === "windows" ? `${COMMAND_NAME}.cmd` : COMMAND_NAME);
}

/** Deno's install root: `root` if given, else `$DENO_INSTALL_ROOT`, else `~/.deno`. */
export function installRoot(root?: string): string {
  if (root !== undefined) return resolve(root);
  const fromEnv = Deno.env.get("DENO_INSTALL_ROOT");
  if (fromEnv !== undefined && fromEnv !== "") return resolve(fromEnv);
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  if (home === undefined) throw new Error("Cannot find Deno's install root: set DENO_INSTALL_ROOT or pass --root");
  return join(home, ".deno");
}

/** The lock file the installed command uses: a copy of the checkout's, in the install root. */
export function installLock(root: string): string {
  return join(resolve(root), `${COMMAND_NAME}.deno.lock`);
}

/** Runs `deno install`; returns the shim's path. Throws with deno's message when it fails. */
export async function install(profile: ProfileOptions, root?: string): Promise<string> {
  const target = installRoot(root);
  await Deno.mkdir(target, { recursive: true });
  await Deno.copyFile(join(ROOT, "deno.lock"), installLock(target));
  const out = await new Deno.Command(Deno.execPath(), {
    args: installArgs(profile, target),
    cwd: ROOT,
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`Cannot install ${COMMAND_NAME}: deno install failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  // deno install copies deno.json beside the shim, `lock.frozen` included, but not the lock: point the copy at the
  // lock file the install verified against (it may gain the entry that links the installed package to itself).
  const copied = join(target, "bin", `.${COMMAND_NAME}`, "deno.json");
  const config = JSON.parse(await Deno.readTextFile(copied));
  config.lock = { path: installLock(target), frozen: false };
  await Deno.writeTextFile(copied, `${JSON.stringify(config, null, 2)}\n`);
  const shim = shimPath(target);
  await Deno.writeTextFile(shim, pinDeno(await Deno.readTextFile(shim), Deno.execPath()));
  return shim;
}

/**
 * Makes a shim written by `deno install` start Deno by its absolute path instead of looking `deno` up in PATH: MCP
 * clients started from a desktop (Claude Desktop, Cursor, VS Code) do not see the shell's PATH, so a shim that runs
 * `deno` would fail there with "deno: not found".
 * @throws {Error} when the shim does not have the expected shape (a newer Deno writing another format).
 */
export function pinDeno(shim: string, deno: string): string {
  const cmd = Deno.build.os === "windows" && /^@deno /m.test(shim);
  const pattern = cmd ? /^@deno /m : /^exec deno /m;
  if (!pattern.test(shim)) throw new Error(`Unexpected shim written by deno install:\n${shim}`);
  const quoted = cmd ? `"${deno}"` : `'${deno.replaceAll("'", `'\\''`)}'`;
  return shim.replace(pattern, cmd ? `@${quoted} ` : `exec ${quoted} `);
}

/** Runs `<shim> --version` from the temp directory (not this checkout); returns what it printed. */
export async function shimVersion(shim: string): Promise<string> {
  const { tmpdir } = await import("node:os");
  const out = await new Deno.Command(shim, {
    args: ["--version"],
    cwd: tmpdir(),
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  if (!out.success) {
    throw new Error(
      `The installed ${shim} did not run: --version exited ${out.code}:\n` +
        new TextDecoder().decode(out.stderr),
    );
  }
  return new TextDecoder().decode(out.stdout).trim();
}

const HELP = `Usage: deno task install [options]

Installs the command ${COMMAND_NAME} into Deno's install root ($DENO_INSTALL_ROOT/bin, default ~/.deno/bin) with
deno install --global. It runs this checkout's src/main.ts under the permission profile's flags: keep the checkout,
and run it again after an update that changes deno.json or deno.lock.

  --root DIR                 Install root (default: $DENO_INSTALL_ROOT, else ~/.deno)
${PROFILE_ARG_HELP}`;

async function cli(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        root: { type: "string" },
        profile: { type: "string", default: "release" },
        help: { type: "boolean", default: false },
        ...LOCKED_PARSE_OPTIONS,
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\nRun deno task install --help for the options.`);
    return 2;
  }
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
    const shim = await install(profile, values.root);
    const printed = await shimVersion(shim);
    if (printed !== VERSION) throw new Error(`The installed ${shim} printed "${printed}", expected "${VERSION}"`);
    console.log(`Installed ${shim} (${profile.profile} profile); ${COMMAND_NAME} --version prints ${printed}`);
    const bin = join(installRoot(values.root), "bin");
    const onPath = (Deno.env.get("PATH") ?? "").split(Deno.build.os === "windows" ? ";" : ":").includes(bin);
    if (!onPath) console.log(`Add ${bin} to PATH to run ${COMMAND_NAME} by name, or use the full path above.`);
    return 0;
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await cli(Deno.args));
