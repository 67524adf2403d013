/**
 * The audit HMAC key: from configuration (`audit.key`), a key file (`audit.keyFile`), or a generated 0600 key file
 * beside — never inside — the log directory, so whoever can read or rotate the log does not get the key with it.
 * @module
 */
import { randomBase64Url } from "../crypto/encoding.ts";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { log } from "../log.ts";
import { auditLocation } from "./files.ts";

/** Where the key came from. */
export type AuditKeySource = "config" | "file" | "generated";

/** A resolved audit key. */
export interface AuditKey {
  key: Uint8Array;
  source: AuditKeySource;
  /** The key file used or created (absent when the key came from configuration). */
  keyFile?: string;
}

const MIN_KEY_CHARS = 16;

/**
 * Default key file for a log (`audit.path`): `<log dir>.key` beside the log directory — `/var/lib/pve-mcp/audit`
 * gives `/var/lib/pve-mcp/audit.key`, `/var/log/pve-mcp/audit.jsonl` gives `/var/log/pve-mcp.key`.
 */
export function defaultAuditKeyFile(path: string): string {
  const abs = resolve(auditLocation(path).dir);
  return `${abs.replace(/\/+$/, "")}.key`;
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(resolve(parent), resolve(child));
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * Resolves the audit key. With `key`, uses its UTF-8 bytes. Otherwise reads `keyFile` (default
 * {@linkcode defaultAuditKeyFile}), creating it with 256 random bits and mode 0600 when it does not exist (unless
 * `create` is false: readers such as `audit verify` never make a key).
 * Throws when the key file would live inside the log directory, is empty, or the configured key is too short.
 */
export async function resolveAuditKey(
  opts: { path: string; key?: string; keyFile?: string; create?: boolean },
): Promise<AuditKey> {
  const dir = auditLocation(opts.path).dir;
  if (opts.key !== undefined && opts.key !== "") {
    if (opts.key.length < MIN_KEY_CHARS) {
      throw new Error(
        `Cannot use audit.key: it has ${opts.key.length} characters, at least ${MIN_KEY_CHARS} are needed; ` +
          "use 32+ random characters or leave it unset to generate a key file",
      );
    }
    return { key: new TextEncoder().encode(opts.key), source: "config" };
  }
  const keyFile = resolve(opts.keyFile ?? defaultAuditKeyFile(opts.path));
  if (isInside(keyFile, dir)) {
    throw new Error(
      `Cannot use audit key file ${keyFile}: it is inside the audit log directory ${resolve(dir)}; ` +
        "keep the key apart from the log (set audit.keyFile to a path outside it)",
    );
  }
  try {
    const text = (await Deno.readTextFile(keyFile)).trim();
    if (text.length < MIN_KEY_CHARS) {
      throw new Error(
        `Cannot use audit key file ${keyFile}: it holds ${text.length} characters, at least ${MIN_KEY_CHARS} are needed`,
      );
    }
    const info = await Deno.stat(keyFile);
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
      log("audit").warning("Audit key file {keyFile} is readable by group or others (mode {mode}); chmod 600 it", {
        keyFile,
        mode: (info.mode & 0o777).toString(8),
      });
    }
    return { key: new TextEncoder().encode(text), source: "file", keyFile };
  } catch (err) {
    if (
      err instanceof Error && Object.values(Deno.errors).some((c) => err instanceof c) &&
      !(err instanceof Deno.errors.NotFound)
    ) {
      throw new Error(
        `Cannot read the audit key file ${keyFile} (${err.name}): check audit.keyFile and audit.path ` +
          "(PROXMOX_MCP_AUDIT_KEY_FILE, PROXMOX_MCP_AUDIT_PATH) and that their directories exist",
      );
    }
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    if (opts.create === false) {
      throw new Error(
        `Cannot find the audit key file ${keyFile}: set audit.keyFile (or --key-file) to the key the log was written with`,
      );
    }
  }
  await Deno.mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
  const text = randomBase64Url(32);
  try {
    const file = await Deno.open(keyFile, { createNew: true, write: true, mode: 0o600 });
    try {
      await file.write(new TextEncoder().encode(`${text}\n`));
      await file.syncData();
    } finally {
      file.close();
    }
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return await resolveAuditKey({ ...opts, keyFile });
    throw new Error(`Cannot create audit key file ${keyFile}: ${(err as Error).message}`, { cause: err });
  }
  await Deno.chmod(keyFile, 0o600);
  log("audit").info("Created audit key file {keyFile}; back it up apart from the log", { keyFile });
  return { key: new TextEncoder().encode(text), source: "generated", keyFile };
}
