/**
 * Drop what start-up needed and serving does not: once the configuration is loaded, the PVE clients built and the
 * audit log opened, `serve` revokes (Deno.permissions.revoke) the environment, subprocess/FFI/OS-information access,
 * remote imports, and file access that nothing uses any more. Revocation is one-way for the life of the process.
 *
 * Deno revokes a whole grant at a time: revoking `/etc/pve-mcp/config.json` under an `--allow-read=/etc/pve-mcp`
 * grant revokes `/etc/pve-mcp`, and a global `--allow-read` can only be revoked whole. So a start-up-only path is
 * revoked only when its grant covers nothing that is still needed, and a global grant only when nothing at all is.
 * Open file handles keep working after a revoke.
 * @module
 */
import { dirname, resolve } from "node:path";
import { log } from "../log.ts";

/** What the running server still needs, and what it read only while starting. */
export interface DropPlan {
  /** Files read only during start-up: config file, .env, CA file, TLS certificate and key, key and secret files. */
  readDone?: readonly string[];
  /** Paths read after start-up (audit directory, secret store, token file). */
  keepRead?: readonly string[];
  /** Paths written after start-up (audit directory, …); they stay readable too. */
  keepWrite?: readonly string[];
  /** Keep environment access (default: revoke it all; the configuration holds what was read). */
  keepEnv?: boolean;
}

/** What {@linkcode dropPermissions} did, for the log and for tests. */
export interface DropReport {
  /** Descriptors revoked, e.g. `env`, `run`, `read /etc/pve-mcp/config.json`. */
  revoked: string[];
  /** Permissions left granted, each with the reason. */
  kept: string[];
}

const ALWAYS: Deno.PermissionDescriptor[] = [
  { name: "run" },
  { name: "ffi" },
  { name: "sys" },
  { name: "import" },
];

async function state(desc: Deno.PermissionDescriptor): Promise<Deno.PermissionState> {
  return (await Deno.permissions.query(desc)).state;
}

function ancestors(path: string): string[] {
  const out = [path];
  for (let p = dirname(path); p !== out[out.length - 1]; p = dirname(p)) out.push(p);
  return out; // path first, filesystem root last
}

/** The topmost granted ancestor of `path`: the (approximate) grant that covers it, or undefined if none does. */
async function grantRoot(name: "read" | "write", path: string): Promise<string | undefined> {
  let root: string | undefined;
  for (const p of ancestors(path)) {
    if ((await state({ name, path: p })) === "granted") root = p;
  }
  return root;
}

function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith("/") || dir.endsWith("\\") ? dir : dir + "/") ||
    path.startsWith(dir + "\\");
}

async function dropFs(
  name: "read" | "write",
  done: string[],
  keep: string[],
  report: DropReport,
): Promise<void> {
  if (keep.length === 0) {
    // Nothing needed later: revoke the global grant and every scoped one.
    await Deno.permissions.revoke({ name });
    report.revoked.push(name);
    return;
  }
  if ((await state({ name })) === "granted") {
    report.kept.push(`${name} (global grant, which Deno revokes only whole; still needed for ${keep.join(", ")})`);
    return;
  }
  for (const path of done) {
    const root = await grantRoot(name, path);
    if (root === undefined) continue; // not granted: nothing to revoke
    const needed = keep.filter((k) => within(k, root) || within(root, k));
    if (needed.length > 0) {
      report.kept.push(`${name} ${root} (shared with ${needed.join(", ")})`);
      continue;
    }
    await Deno.permissions.revoke({ name, path });
    report.revoked.push(`${name} ${root}`);
  }
  if (report.kept.every((k) => !k.startsWith(`${name} `))) {
    report.kept.push(`${name} ${keep.join(", ")}`);
  }
}

/**
 * Revokes every permission the running server no longer needs; see the module comment for the rules. Always revokes
 * subprocess, FFI, OS information and remote imports; the environment unless `keepEnv`; read and write as the plan
 * allows. Network stays (PVE hosts, listen addresses). Logs what it did at info level.
 */
export async function dropPermissions(plan: DropPlan = {}): Promise<DropReport> {
  const report: DropReport = { revoked: [], kept: [] };
  const abs = (paths: readonly string[] | undefined) => (paths ?? []).map((p) => resolve(p));
  for (const desc of ALWAYS) {
    if ((await state(desc)) !== "denied") {
      await Deno.permissions.revoke(desc);
      report.revoked.push(desc.name);
    }
  }
  if (plan.keepEnv) report.kept.push("env (asked to keep)");
  else {
    await Deno.permissions.revoke({ name: "env" });
    report.revoked.push("env");
  }
  const keepWrite = abs(plan.keepWrite);
  const keepRead = [...new Set([...abs(plan.keepRead), ...keepWrite])];
  const readDone = abs(plan.readDone).filter((p) => !keepRead.includes(p));
  await dropFs("read", readDone, keepRead, report);
  await dropFs("write", readDone, keepWrite, report);
  report.kept.push("net (PVE hosts and listen addresses)");
  log("sandbox").info("Dropped permissions no longer needed: {revoked}; kept: {kept}", {
    revoked: report.revoked.join(", "),
    kept: report.kept.join("; "),
  });
  return report;
}

/** The parts of a loaded configuration that name files (a structural subset of the config module's types). */
export interface ConfigFiles {
  config: {
    clusters: Record<string, { caFile?: string | undefined }>;
    audit: { path?: string | undefined; keyFile?: string | undefined };
    http: {
      tlsCertFile?: string | undefined;
      tlsKeyFile?: string | undefined;
      tokensFile?: string | undefined;
      pveTokenMode?: boolean | undefined;
    };
    secrets: {
      storeFile?: string | undefined;
      masterKeyFile?: string | undefined;
      passphraseFile?: string | undefined;
    };
  };
  /** Files the loader read: the JSON config and the .env. */
  files?: { config?: string | undefined; dotenv?: string | undefined };
  /** Where values came from; `file` names a `NAME_FILE` secret file or the file holding the value. */
  origins?: ReadonlyMap<string, { file?: string | undefined }>;
}

/**
 * The drop plan of `serve` for a loaded configuration: config, .env, CA, TLS, key and secret files are start-up
 * only; the audit directory is read and written later, the secret store and the HTTP token file read later (the
 * token file written too, for `tokens` bookkeeping done by a running server). In PVE-token mode the HTTP server
 * builds a PVE client per caller token, which reads the CA file again: then the CA files stay readable.
 */
export function dropPlanFromConfig(loaded: ConfigFiles): DropPlan {
  const { config } = loaded;
  const defined = (list: (string | undefined)[]) => list.filter((p): p is string => p !== undefined && p !== "");
  const caFiles = defined(Object.values(config.clusters).map((c) => c.caFile));
  const readDone = defined([
    loaded.files?.config,
    loaded.files?.dotenv,
    ...(config.http.pveTokenMode ? [] : caFiles),
    config.http.tlsCertFile,
    config.http.tlsKeyFile,
    config.audit.keyFile,
    config.secrets.masterKeyFile,
    config.secrets.passphraseFile,
    ...[...(loaded.origins?.values() ?? [])].map((o) => o.file),
  ]);
  const audit = config.audit.path === undefined
    ? undefined
    : /\.jsonl$/.test(config.audit.path)
    ? dirname(config.audit.path) // the active file; rotated files sit beside it
    : config.audit.path;
  // The secret store (tools store created token secrets) and the device-token file (last-use updates) are rewritten
  // atomically — temp file, lock file and rename beside them — so their directories stay writable.
  const stateDirs = defined([config.secrets.storeFile, config.http.tokensFile]).map((f) => dirname(f));
  return {
    readDone: [...new Set(readDone)],
    keepRead: defined([...stateDirs, ...(config.http.pveTokenMode ? caFiles : [])]),
    keepWrite: defined([audit, ...stateDirs]),
  };
}
