/**
 * Deno permission profiles: the one place that says which flags the program runs with. `scripts/compile.ts` bakes
 * them into the binaries, `scripts/bundle.ts` and the sandbox tests run the bundle with them, docs/install.md shows
 * them (checked by a test). Nothing else may spell out permission flags by hand.
 *
 * - `release`: the download-and-run binary. It cannot know the operator's Proxmox hosts, listen address or paths at
 *   build time, so net/read/write are open except where Deno lets us narrow them; env, subprocesses, FFI, sys and
 *   remote imports are closed. `serve` drops what it no longer needs after start-up (src/runtime/drop_permissions.ts).
 * - `locked`: the appliance / air-gapped binary, built for fixed Proxmox hosts, listen addresses and directories.
 *
 * @module
 */
import {
  LOCKED_ARG_HELP,
  type LockedArgValues,
  type LockedOptions,
  parseLockedArgs,
  validateLockedOptions,
} from "./locked_options.ts";

export type { LockedArgValues, LockedOptions, TargetOs, ValidLockedOptions } from "./locked_options.ts";
export {
  LOCKED_ARG_HELP,
  LOCKED_PARSE_OPTIONS,
  parseHostPort,
  parseLockedArgs,
  validateLockedOptions,
} from "./locked_options.ts";

/** The profile names. */
export const PROFILE_NAMES = ["release", "locked"] as const;

/** What a profile is built for: `release` needs nothing, `locked` needs its hosts and paths. */
export type ProfileOptions = { profile: "release" } | ({ profile: "locked" } & LockedOptions);

/**
 * Environment variables the program may read (Deno `--allow-env` syntax, `*` is a suffix wildcard).
 * - `PROXMOX_*`: the names users of other Proxmox MCP servers already have (`PROXMOX_HOST`, `PROXMOX_TOKEN_ID`, …, and
 *   the `*_FILE` variants) and our own `PROXMOX_MCP_*`.
 * - `HOME`, `USERPROFILE` (Windows): the configuration loader expands a leading `~/` in paths, which MCP clients pass
 *   unexpanded (their JSON `env` blocks go through no shell); `XDG_CONFIG_HOME`: where the HTTP token file lives by
 *   default (`$XDG_CONFIG_HOME/pve-mcp/tokens.json`, else `~/.config/…`), so `tokens add` and `serve` agree.
 * Nothing else: the MCP SDK, zod and LogTape read no environment variables, and the Deno runtime reads its own
 * (`DENO_*`, `NO_COLOR`) outside the permission system. Every other variable reads as `undefined` (`--ignore-env`):
 * a library probing e.g. `DEBUG` cannot crash us, and `Deno.env.toObject()` returns just the allowed variables
 * (without `--ignore-env` it would throw).
 */
export const ALLOWED_ENV: readonly string[] = ["PROXMOX_*", "HOME", "USERPROFILE", "XDG_CONFIG_HOME"];

/**
 * Networks the `release` binary may never reach: link-local IPv4 (169.254.0.0/16, which holds the cloud instance
 * metadata services of AWS, GCP, Azure, OpenStack, …), AWS's IPv6 metadata address and Alibaba Cloud's metadata
 * address. A Proxmox VE API is never there, and a request steered there (a mistyped host, DNS pointed at it, a
 * crafted path) must not be able to read instance credentials. Deno checks these against the resolved address too,
 * so a host name pointing there is refused as well. (Deno accepts CIDR ranges for IPv4 only, hence the single IPv6
 * address.)
 */
export const DENIED_NETWORKS: readonly string[] = ["169.254.0.0/16", "[fd00:ec2::254]", "100.100.100.200"];

/**
 * Flags every profile shares: never prompt (a prompt would block an MCP stdio session), no subprocess, no FFI, no
 * OS information, no remote imports. `--allow-import=invalid:1` replaces Deno's default import allow-list (deno.land,
 * jsr.io, esm.sh, …) with a reserved, unreachable name so that `--deny-import` then denies every remote import.
 */
const COMMON_CLOSED: readonly string[] = [
  "--deny-run",
  "--deny-ffi",
  "--deny-sys",
  "--allow-import=invalid:1",
  "--deny-import",
];

/**
 * V8 heap sizing, part of every profile because the binary and the bundle carry no other place for it (MCP clients
 * start the program with a fixed command line). pve-mcp is a long-running server that parses large JSON answers (a
 * 2,000-guest listing is about half a megabyte) and keeps little: with V8's defaults the young generation grows to
 * tens of MiB and the old generation to several times what is live before collecting, so RSS climbed from about 85 to
 * 230 MiB over a 2,000-guest session of garbage, not of data (docs/benchmarks.md measures it with these flags).
 * - `--max-semi-space-size=4`: young generation at most 3 × 4 MiB; short-lived request garbage is collected sooner.
 * - `--heap-growing-percent=10`: after a full collection the old generation may grow 10 % over what is live before
 *   the next one (V8 otherwise allows up to 4×). This is a growth rate, not a cap: a cluster whose live data is
 *   large gets a proportionally large heap, so no session runs out of memory because of it.
 */
export const V8_FLAGS: readonly string[] = ["--max-semi-space-size=4", "--heap-growing-percent=10"];

function envFlags(): string[] {
  return [`--allow-env=${ALLOWED_ENV.join(",")}`, "--ignore-env"];
}

/**
 * Returns the exact Deno permission flags of a profile, in a stable order, ready for `deno run` / `deno compile`.
 *
 * @example
 * ```ts
 * permissionFlags({ profile: "release" });
 * permissionFlags({ profile: "locked", pveHosts: ["pve1.lan:8006"], listen: [], configDir: "/etc/pve-mcp",
 *   dataDir: "/var/lib/pve-mcp" });
 * ```
 * @throws {Error} when `locked` options are invalid (relative path, bad host:port, a comma in a path, …).
 */
export function permissionFlags(opts: ProfileOptions): string[] {
  if (opts.profile === "release") {
    return [
      "--no-prompt",
      ...envFlags(),
      "--allow-net",
      `--deny-net=${DENIED_NETWORKS.join(",")}`,
      "--allow-read",
      "--allow-write",
      ...COMMON_CLOSED,
      `--v8-flags=${V8_FLAGS.join(",")}`,
    ];
  }
  const locked = validateLockedOptions(opts);
  const net = [...locked.pveHosts, ...locked.listen];
  const read = [locked.configDir, locked.dataDir, ...locked.extraRead];
  return [
    "--no-prompt",
    ...envFlags(),
    `--allow-net=${net.join(",")}`,
    `--allow-read=${read.join(",")}`,
    `--allow-write=${locked.dataDir}`,
    ...COMMON_CLOSED,
    `--v8-flags=${V8_FLAGS.join(",")}`,
  ];
}

/** Usage text of the profile options shared by `deno task compile` and `deno task bundle`. */
export const PROFILE_ARG_HELP = `  --profile release|locked   Permission profile (default: release)
${LOCKED_ARG_HELP}`;

/**
 * The profile a script's `--profile` and locked-profile flags ask for, checked the way the build will use it.
 * @throws {Error} with what is wrong (an unknown profile name, or the locked options' problems).
 */
export function profileFromArgs(values: LockedArgValues & { profile?: string | undefined }): ProfileOptions {
  const name = values.profile ?? "release";
  let profile: ProfileOptions;
  if (name === "release") profile = { profile: "release" };
  else if (name === "locked") profile = { profile: "locked", ...parseLockedArgs(values) };
  else throw new Error(`Unknown --profile "${name}": use release or locked`);
  permissionFlags(profile); // every problem with the options before anything is built or installed
  return profile;
}
