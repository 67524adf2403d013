/**
 * `pve-mcp audit …`: verify the hash chain of the audit log, and show (or follow) its newest records.
 * @module
 */
import { loadConfig } from "../config/load.ts";
import { resolveAuditKey } from "../audit/key.ts";
import { followAudit, readRecentAudit, type ReadRecord } from "../audit/tail.ts";
import { formatVerifyResult, verifyAudit } from "../audit/verify.ts";
import type { AuditRecord } from "../audit/types.ts";
import { type CliIo, processIo } from "./cli_io.ts";
import { runSubcommand, UsageError } from "./subcommand.ts";

const HELP = `Usage: pve-mcp audit <command> [PATH] [options]

The audit log (docs/audit.md) is a hash-chained, HMAC'd JSON-lines file; PATH is its directory or active file
(default: audit.path from the configuration).

Commands:
  verify [PATH]      check every record's HMAC, sequence and chain across rotated files; names the first broken or
                     missing record (exit 1 when broken)
  tail [PATH]        print the newest records
      -n N           how many (default 20)
      -f, --follow   keep printing new records until interrupted

Options:
  --key-file FILE    the HMAC key file (default: audit.keyFile, else <log dir>.key); audit.key also works
  --config FILE      JSON configuration file
  --json             machine-readable output (tail: one record per line, as stored)
  --help             this text`;

function formatRecord(r: AuditRecord, verified: boolean | undefined): string {
  const parts = [
    r.time.replace("T", " ").replace(/\.\d+Z$/, "Z"),
    `#${r.seq}`,
    r.phase,
    r.principal,
    r.tool ?? "-",
    r.decision !== "allowed" || r.phase === "auth" || r.phase === "recovered"
      ? r.decision
      : (r.result ?? (r.phase === "intent" ? "pending" : "ok")),
  ];
  if (r.errorKind !== undefined) parts.push(`(${r.errorKind})`);
  if (r.durationMs !== undefined) parts.push(`${r.durationMs}ms`);
  if (r.reason !== undefined) parts.push(`— ${r.reason}`);
  if (r.upids !== undefined && r.upids.length > 0) parts.push(`[${r.upids.length} task(s)]`);
  if (verified === false) parts.push("[HMAC MISMATCH]");
  return parts.join(" ");
}

async function settings(opts: { path?: string; keyFile?: string; config?: string; env?: CliIo["env"] }) {
  const needConfig = opts.path === undefined || opts.keyFile === undefined;
  const config = needConfig
    ? await loadConfig({
      args: opts.config === undefined ? [] : ["--config", opts.config],
      ...(opts.env !== undefined && { env: opts.env }),
      requireCluster: false,
      scrubEnv: false,
    })
    : undefined;
  const path = opts.path ?? config?.audit.path;
  if (path === undefined) {
    throw new UsageError("No audit log given: pass its PATH or set audit.path (PROXMOX_MCP_AUDIT_PATH)");
  }
  const keyFile = opts.keyFile ?? config?.audit.keyFile;
  const key = config?.audit.key;
  return { path, keyFile, key };
}

const OPTIONS = {
  "key-file": { type: "string" },
  config: { type: "string" },
  json: { type: "boolean" },
  n: { type: "string", short: "n" },
  follow: { type: "boolean", short: "f" },
  help: { type: "boolean", short: "h" },
} as const;

/** Runs `pve-mcp audit …` and returns the exit code (0 ok, 1 broken log or failure, 2 usage). */
export async function runAuditCommand(args: string[], io: CliIo = processIo()): Promise<number> {
  return await runSubcommand("audit", HELP, args, OPTIONS, io, async ({ values: o, sub, rest }) => {
    const [pathArg, ...extra] = rest;
    if (sub !== "verify" && sub !== "tail") {
      throw new UsageError(`Unknown audit command "${sub}": use verify or tail`);
    }
    if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}"`);
    const s = await settings({
      ...(pathArg !== undefined && { path: pathArg }),
      ...(o["key-file"] !== undefined && { keyFile: o["key-file"] }),
      ...(o.config !== undefined && { config: o.config }),
      ...(io.env !== undefined && { env: io.env }),
    });
    const key = await resolveAuditKey({
      path: s.path,
      ...(s.key !== undefined && { key: s.key }),
      ...(s.keyFile !== undefined && { keyFile: s.keyFile }),
      create: false,
    });
    if (sub === "verify") {
      const result = await verifyAudit(s.path, key.key);
      if (o.json === true) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
      else io.stdout(`${formatVerifyResult(result)}\n`);
      return result.ok ? 0 : 1;
    }
    const n = o.n === undefined ? 20 : Number(o.n);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError(`Invalid -n "${o.n}": use 1..1000`);
    const print = (r: ReadRecord) =>
      io.stdout(`${o.json === true ? JSON.stringify(r.record) : formatRecord(r.record, r.verified)}\n`);
    const recent = await readRecentAudit(s.path, { limit: n, key: key.key });
    for (const r of recent) print(r);
    if (o.follow === true) {
      let signal = io.signal;
      let cleanup = () => {};
      if (signal === undefined) {
        const ctl = new AbortController();
        const stop = () => ctl.abort();
        Deno.addSignalListener("SIGINT", stop);
        cleanup = () => Deno.removeSignalListener("SIGINT", stop);
        signal = ctl.signal;
      }
      try {
        await followAudit(s.path, print, {
          signal,
          key: key.key,
          afterSeq: recent[recent.length - 1]?.record.seq ?? 0,
        });
      } finally {
        cleanup();
      }
    }
    return 0;
  });
}
