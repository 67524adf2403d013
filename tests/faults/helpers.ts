/**
 * Helpers of the fault matrix: an in-process stack with the audit log wired from the configuration (audit.path in a
 * temp dir, as `serve` does), and readers for the simulator's request log and the audit records.
 * @module
 */
import { openAuditLog } from "../../src/audit/from_config.ts";
import type { AuditRecord } from "../../src/audit/types.ts";
import type { SimFault, SimGuest } from "../../src/sim/mod.ts";
import { type InProcessOptions, type InProcessStack, startInProcessStack } from "../fuzz/stack.ts";

/**
 * The per-attempt timeout the fault stacks use (latency faults exceed it). Generous enough that a loaded CI machine
 * answers the healthy attempts of ~30 concurrent calls in time (300 ms was flaky under load).
 */
export const TIMEOUT_MS = 1500;

/** An in-process stack whose App writes the audit log named by its configuration. */
export async function startAuditedStack(opts: InProcessOptions = {}): Promise<InProcessStack & { auditDir: string }> {
  const auditDir = await Deno.makeTempDir({ prefix: "pve-mcp-faults-audit-" });
  let closeAudit = () => Promise.resolve();
  const stack = await startInProcessStack({
    ...opts,
    env: {
      PROXMOX_MCP_AUDIT_PATH: `${auditDir}/log`,
      PROXMOX_MCP_AUDIT_KEY: "fault-matrix-audit-key-0123456789abcdef",
      PROXMOX_MCP_PVE_TIMEOUT_MS: String(TIMEOUT_MS),
      // The matrix checks retries: three of them, and room for all four attempts.
      PROXMOX_MCP_PVE_RETRIES: "3",
      PROXMOX_MCP_PVE_DEADLINE_MS: "20000",
      PROXMOX_MCP_LOG_LEVEL: "error",
      ...opts.env,
    },
    build: async (config) => {
      const audit = await openAuditLog(config.audit);
      if (!audit) throw new Error("audit.path was not picked up from the configuration");
      closeAudit = () => audit.close();
      return { audit };
    },
  });
  return {
    ...stack,
    auditDir,
    close: async () => {
      await stack.close();
      await closeAudit();
      await Deno.remove(auditDir, { recursive: true }).catch(() => {});
    },
  };
}

/** Every audit record written so far. */
export async function auditRecords(auditDir: string): Promise<AuditRecord[]> {
  const text = await Deno.readTextFile(`${auditDir}/log/audit.jsonl`).catch(() => "");
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
}

/** The status path of a guest. */
export function statusPath(g: SimGuest): string {
  return `/nodes/${g.node}/${g.type}/${g.vmid}/status/current`;
}

/** The start path of a guest. */
export function startPath(g: SimGuest): string {
  return `/nodes/${g.node}/${g.type}/${g.vmid}/status/start`;
}

/** One fault of the matrix and what the client must do with it. */
export interface FaultCase {
  name: string;
  fault: SimFault;
  /** GETs are retried (transient by nature). */
  retriedGet: boolean;
  /** What the error text must mention (the cause). */
  cause: RegExp;
}

/** The matrix (expired tickets and wrong certificates need their own stacks; see the tests). */
export const FAULTS: FaultCase[] = [
  {
    name: "latency past the timeout",
    fault: { latencyMs: 3 * TIMEOUT_MS },
    retriedGet: true,
    cause: /timed out|timeout/i,
  },
  {
    name: "500",
    fault: { status: 500, message: "got lock timeout - aborting command" },
    retriedGet: false,
    cause: /500|lock timeout/i,
  },
  { name: "502", fault: { status: 502 }, retriedGet: true, cause: /502|bad gateway/i },
  { name: "503", fault: { status: 503 }, retriedGet: true, cause: /503|unavailable/i },
  { name: "504", fault: { status: 504 }, retriedGet: true, cause: /504|gateway time/i },
  { name: "connection reset", fault: { reset: true }, retriedGet: true, cause: /reset|connection|closed/i },
  { name: "malformed JSON", fault: { malformed: true }, retriedGet: true, cause: /JSON/i },
  {
    name: "truncated body",
    fault: { truncated: true },
    retriedGet: true,
    cause: /truncat|incomplete|connection|closed|body/i,
  },
];
