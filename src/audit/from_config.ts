/**
 * Opening the audit log the configuration asks for (`audit.path`, `audit.key`/`audit.keyFile`, `audit.maxBytes`,
 * `audit.failReadsOnError`), for `serve` over stdio and HTTP alike.
 * @module
 */
import { log } from "../log.ts";
import { resolveAuditKey } from "./key.ts";
import { type AuditLog, createAuditLog } from "./log.ts";

/** The `audit` section of the configuration. */
export interface AuditSettings {
  path?: string | undefined;
  key?: string | undefined;
  keyFile?: string | undefined;
  maxBytes: number;
  failReadsOnError: boolean;
}

/**
 * Opens the audit log, or returns undefined when `audit.path` is not set (a warning is logged: changes then leave no
 * audit trail). Throws when the log or key cannot be opened — the server must not start half-audited.
 */
export async function openAuditLog(settings: AuditSettings, now?: () => number): Promise<AuditLog | undefined> {
  if (settings.path === undefined) {
    log("audit").warning("No audit log: set audit.path (PROXMOX_MCP_AUDIT_PATH) to record every call");
    return undefined;
  }
  const key = await resolveAuditKey({
    path: settings.path,
    ...(settings.key !== undefined && { key: settings.key }),
    ...(settings.keyFile !== undefined && { keyFile: settings.keyFile }),
  });
  const audit = await createAuditLog({
    path: settings.path,
    key: key.key,
    maxBytes: settings.maxBytes,
    failReadsOnError: settings.failReadsOnError,
    ...(now !== undefined && { now }),
  });
  log("audit").info("Audit log at {path} (key from {source})", { path: audit.activePath, source: key.source });
  return audit;
}
