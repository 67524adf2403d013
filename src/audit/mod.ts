/**
 * Tamper-evident audit log: hash-chained, HMAC'd JSON lines with write-before-act, rotation, verification and tail.
 * @module
 */
export * from "./types.ts";
export { type AuditLog, type AuditLogOptions, createAuditLog, toEntry } from "./log.ts";
export { type AuditBreak, type AuditVerifyResult, formatVerifyResult, verifyAudit } from "./verify.ts";
export { followAudit, type FollowOptions, readRecentAudit, type ReadRecentOptions, type ReadRecord } from "./tail.ts";
export { type AuditKey, type AuditKeySource, defaultAuditKeyFile, resolveAuditKey } from "./key.ts";
export { redactArguments, REDACTED, type RedactOptions, scrubText } from "./redact.ts";
export { MemoryAuditSink, noopAuditSink } from "./memory.ts";
export { type AuditSettings, openAuditLog } from "./from_config.ts";
export { ACTIVE_FILE, type AuditFile, type AuditLocation, auditLocation, listAuditFiles } from "./files.ts";
