/**
 * Options of the `locked` permission profile: which Proxmox VE hosts and listen addresses the binary may use and
 * which directories it may touch. Parsed from the build's command line (`--pve-host host:port[,…]`, …) and checked
 * strictly, because whatever passes here is baked into a binary.
 * @module
 */

/** Operating system a binary is built for; decides what an absolute path looks like. */
export type TargetOs = "linux" | "darwin" | "windows";

/** What a `locked` binary is built for. */
export interface LockedOptions {
  /** Proxmox VE API endpoints as `host:port` (host exactly as written in the configuration). At least one. */
  pveHosts: readonly string[];
  /** The binary's own listen addresses as `host:port` (HTTP transport, admin endpoint). Empty: stdio only. */
  listen?: readonly string[];
  /** Directory read at start-up: configuration file, CA certificate, secret files. Read-only. */
  configDir: string;
  /** Directory for the audit log, the secret store and the HTTP token file. Read-write. */
  dataDir: string;
  /** More read-only paths, e.g. a mounted secrets directory such as `/run/secrets`. */
  extraRead?: readonly string[];
  /** Target OS of the build (path syntax); default: the OS running the build. */
  os?: TargetOs;
}

/** {@linkcode LockedOptions} after validation: every list present, paths normalised. */
export interface ValidLockedOptions {
  pveHosts: string[];
  listen: string[];
  configDir: string;
  dataDir: string;
  extraRead: string[];
}

/** Usage lines of the `locked` options, shared by the build scripts. */
export const LOCKED_ARG_HELP =
  `  --pve-host host:port[,…]   locked: Proxmox VE API endpoints the binary may reach (required)
  --listen host:port[,…]     locked: its own listen addresses (HTTP, admin); omit for stdio only
  --config-dir PATH          locked: read-only directory with config.json, CA file, secret files (required)
  --data-dir PATH            locked: read-write directory for audit log, secret store, tokens (required)
  --extra-read PATH[,…]      locked: more read-only paths, e.g. /run/secrets`;

/** `parseArgs` option spec of the `locked` options (merge into a script's own spec). */
export const LOCKED_PARSE_OPTIONS = {
  "pve-host": { type: "string", multiple: true },
  "listen": { type: "string", multiple: true },
  "config-dir": { type: "string" },
  "data-dir": { type: "string" },
  "extra-read": { type: "string", multiple: true },
} as const;

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_CHARS = /^[0-9a-f:.]+$/;

/**
 * Checks and normalises one `host:port` (`pve1.lan:8006`, `10.0.0.5:8006`, `[fd00::5]:8006`); lower-cases the host.
 * @throws {Error} naming the option and the expected form.
 */
export function parseHostPort(value: string, option = "--pve-host"): string {
  const text = value.trim().toLowerCase();
  const fail = (why: string): never => {
    throw new Error(`Invalid ${option} "${value}": ${why}; expected host:port such as pve1.example.com:8006`);
  };
  const m = /^(\[[^\]]*\]|[^:\[\]]+):(\d{1,5})$/.exec(text);
  if (m === null) return fail("not in host:port form");
  const [, host = "", portText = ""] = m;
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail("the port must be 1-65535");
  if (host.startsWith("[")) {
    const inner = host.slice(1, -1);
    if (!IPV6_CHARS.test(inner) || !inner.includes(":")) fail("not a valid IPv6 address");
  } else if (/^[\d.]+$/.test(host)) {
    if (!IPV4.test(host)) fail("not a valid IPv4 address");
  } else if (host.length > 253 || !host.split(".").every((label) => HOST_LABEL.test(label))) {
    fail("not a valid host name");
  }
  return `${host}:${port}`;
}

function isAbsolute(path: string, os: TargetOs): boolean {
  if (os === "windows") return /^[a-zA-Z]:[\\/]/.test(path) || /^\\\\[^\\]+\\[^\\]+/.test(path);
  return path.startsWith("/");
}

function normalisePath(value: string, option: string, os: TargetOs): string {
  const path = value.trim();
  const fail = (why: string): never => {
    throw new Error(`Invalid ${option} "${value}": ${why}`);
  };
  if (path === "") fail("the path is empty");
  if (!isAbsolute(path, os)) fail(`the path must be absolute on ${os} (the binary may start in any directory)`);
  if (path.includes(",")) fail("Deno permission lists are comma-separated, so the path cannot contain a comma");
  if (path.split(/[\\/]/).includes("..")) fail('the path must not contain ".."');
  const trimmed = path.replace(/[\\/]+$/, "");
  if (trimmed === "" || /^[a-zA-Z]:$/.test(trimmed)) fail("the path must not be a filesystem root");
  return trimmed;
}

function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
}

function hostOs(): TargetOs {
  return Deno.build.os === "windows" ? "windows" : Deno.build.os === "darwin" ? "darwin" : "linux";
}

/**
 * Validates `locked` options, collecting every problem into one error.
 * @throws {Error} listing each invalid or missing option.
 */
export function validateLockedOptions(opts: LockedOptions): ValidLockedOptions {
  const os = opts.os ?? hostOs();
  const problems: string[] = [];
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (error) {
      problems.push((error as Error).message);
      return undefined;
    }
  };
  const pveHosts = splitList(opts.pveHosts).map((h) => attempt(() => parseHostPort(h, "--pve-host")));
  const listen = splitList(opts.listen).map((h) => attempt(() => parseHostPort(h, "--listen")));
  if (pveHosts.length === 0) problems.push("Missing --pve-host: a locked binary needs at least one host:port");
  const configDir = opts.configDir === "" || opts.configDir === undefined
    ? (problems.push("Missing --config-dir: a locked binary needs its configuration directory"), undefined)
    : attempt(() => normalisePath(opts.configDir, "--config-dir", os));
  const dataDir = opts.dataDir === "" || opts.dataDir === undefined
    ? (problems.push("Missing --data-dir: a locked binary needs its data directory"), undefined)
    : attempt(() => normalisePath(opts.dataDir, "--data-dir", os));
  const extraRead = splitList(opts.extraRead).map((p) => attempt(() => normalisePath(p, "--extra-read", os)));
  if (problems.length > 0 || configDir === undefined || dataDir === undefined) {
    throw new Error(`Cannot build the locked profile:\n  - ${problems.join("\n  - ")}`);
  }
  const defined = (list: (string | undefined)[]) => [...new Set(list.filter((v): v is string => v !== undefined))];
  return { pveHosts: defined(pveHosts), listen: defined(listen), configDir, dataDir, extraRead: defined(extraRead) };
}

/** Values of {@linkcode LOCKED_PARSE_OPTIONS} as `parseArgs` returns them. */
export interface LockedArgValues {
  "pve-host"?: string[] | undefined;
  "listen"?: string[] | undefined;
  "config-dir"?: string | undefined;
  "data-dir"?: string | undefined;
  "extra-read"?: string[] | undefined;
}

/** Turns parsed command-line values into {@linkcode LockedOptions} (validated later by `permissionFlags`). */
export function parseLockedArgs(values: LockedArgValues, os?: TargetOs): LockedOptions {
  return {
    pveHosts: splitList(values["pve-host"]),
    listen: splitList(values.listen),
    configDir: values["config-dir"] ?? "",
    dataDir: values["data-dir"] ?? "",
    extraRead: splitList(values["extra-read"]),
    ...(os === undefined ? {} : { os }),
  };
}
