/**
 * `audit_recent`: the latest audit records, for an operator asking the model what happened (toolset `audit`, off by
 * default). Records hold redacted arguments; text in them came from callers and is labelled untrusted. A caller sees
 * its own records only, unless its principal holds the admin capability ({@linkcode seesAllAuditRecords}).
 * @module
 */
import { type Principal } from "../core/mod.ts";
import { z } from "zod";
import { defineTool } from "./registry.ts";

/**
 * The admin capability for audit records: whether a principal may read other principals' records. Held by the local
 * operator (stdio: whoever started the process owns the log file anyway) and by a device token issued with the mode
 * cap `admin` (`pve-mcp tokens add NAME --mode admin`). Not held by device tokens without a cap (they get the server's
 * mode, which the operator did not grant per client) nor by PVE-token clients (each is its own principal; their PVE
 * privileges say nothing about this server's log).
 */
export function seesAllAuditRecords(principal: Principal): boolean {
  return principal.transport === "stdio" || principal.mode === "admin";
}

/** `audit_recent`. */
export const auditRecent = defineTool({
  name: "audit_recent",
  title: "Recent audit records",
  description: "Latest audit log records (newest last): who called which tool, decision, result. Filter by tool, " +
    "principal or decision. Only your own records unless you are an admin. Arguments redacted; text untrusted.",
  toolset: "audit",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  privileges: ["Sys.Audit"],
  input: z.object({
    limit: z.number().int().min(1).max(200).default(20),
    tool: z.string().max(64).optional(),
    principal: z.string().max(200).optional(),
    decision: z.enum(["allowed", "denied", "rate_limited"]).optional(),
  }).strict(),
  output: z.object({
    records: z.array(z.object({
      seq: z.number(),
      time: z.string(),
      principal: z.string(),
      phase: z.string(),
      tool: z.string().optional(),
      decision: z.string(),
      result: z.string().optional(),
      detail: z.string().optional(),
      verified: z.boolean(),
    })),
    /** `own`: only the caller's records; `all`: every principal's (admin capability). */
    scope: z.enum(["own", "all"]),
    untrusted: z.literal(true),
  }),
  textCaps: { "records.principal": 200, "records.detail": 400 },
  async handler(args, ctx) {
    if (!ctx.auditReader) {
      throw new TypeError(
        "Cannot read the audit log: none is configured (set PROXMOX_MCP_AUDIT_PATH, see docs/audit.md)",
      );
    }
    const all = seesAllAuditRecords(ctx.principal);
    const rows = await ctx.auditReader(args.limit, (r) =>
      (all || r.principal === ctx.principal.id) &&
      (args.tool === undefined || r.tool === args.tool) &&
      (args.principal === undefined || r.principal === args.principal) &&
      (args.decision === undefined || r.decision === args.decision));
    return {
      untrusted: true as const,
      scope: all ? "all" as const : "own" as const,
      records: rows.map(({ record: r, verified }) => {
        const detail = [r.class, r.reason, r.errorKind, r.args ? JSON.stringify(r.args) : undefined, r.upids?.join(" ")]
          .filter(Boolean).join(" ");
        return {
          seq: r.seq,
          time: r.time,
          principal: r.principal,
          phase: r.phase,
          ...(r.tool ? { tool: r.tool } : {}),
          decision: r.decision,
          ...(r.result ? { result: r.result } : {}),
          ...(detail ? { detail } : {}),
          verified: verified === true,
        };
      }),
    };
  },
  text: (o) =>
    `${o.records.length} audit records${o.scope === "own" ? " of your own" : ""} (untrusted text):\n` +
    o.records.map((r) =>
      `#${r.seq} ${r.time} ${r.principal} ${r.tool ?? "-"} ${r.phase} ${r.decision}${r.result ? ` ${r.result}` : ""}` +
      `${r.verified ? "" : " UNVERIFIED"}${r.detail ? ` ${r.detail}` : ""}`
    ).join("\n"),
});
