/**
 * Turns a loaded configuration into the {@linkcode App}: PVE clients per cluster, tools, policy, audit, limits.
 * @module
 */
import {
  type AuditReader,
  type AuditSink,
  DEFAULT_TOOLSETS,
  NO_AUDIT,
  type RateLimiter,
  type Toolset,
  TOOLSETS,
} from "../core/mod.ts";
import type { Config } from "../config/schema.ts";
import { createPveClient } from "../pve/client.ts";
import { type PveApi, PveError } from "../pve/types.ts";
import { ConfigError } from "../config/errors.ts";
import { createPolicy } from "../policy/policy.ts";
import { ALL_TOOLS } from "../tools/all.ts";
import { type ToolFilter } from "../tools/registry.ts";
import { type App, type ClusterHandle, clusterHandle } from "./app.ts";
import { openAuditLog } from "../audit/from_config.ts";
import { resolveAuditKey } from "../audit/key.ts";
import { readRecentAudit } from "../audit/tail.ts";
import { createRateLimiter } from "../guard/rate_limit.ts";
import { openSecretStore } from "../secrets/open.ts";
import type { PveTlsOptions } from "../pve/client.ts";
import { VERSION } from "../version.ts";
import { log } from "../log.ts";

type ClusterConfig = Config["clusters"][string];
type Credential = {
  tokenId?: string | undefined;
  tokenSecret?: string | undefined;
  user?: string | undefined;
  password?: string | undefined;
};

function clientFor(name: string, c: ClusterConfig, cred: Credential): PveApi & { close(): void } {
  const auth = cred.tokenId !== undefined && cred.tokenSecret !== undefined
    ? { tokenId: cred.tokenId, tokenSecret: cred.tokenSecret }
    : cred.user !== undefined && cred.password !== undefined
    ? { user: cred.user, password: cred.password }
    : undefined;
  if (!auth) {
    throw new TypeError(
      `Cluster "${name}" has no usable credential: set a token id and secret, or a user and password`,
    );
  }
  return createPveClient({ host: c.host, port: c.port, tls: tlsOptions(c), auth, ...latencyOptions(c) });
}

/** The PVE client's latency budget for a cluster: connect timeout, per-attempt timeout, retries of reads, deadline. */
export function latencyOptions(
  c: ClusterConfig,
): { connectTimeoutMs: number; timeoutMs: number; retries: number; deadlineMs: number } {
  return { connectTimeoutMs: c.connectTimeoutMs, timeoutMs: c.timeoutMs, retries: c.retries, deadlineMs: c.deadlineMs };
}

/** The PVE client's TLS settings for a cluster: CA file, pinned fingerprint, or the explicit insecure opt-in. */
export function tlsOptions(c: ClusterConfig): PveTlsOptions {
  return {
    ...(c.caFile ? { caFile: c.caFile } : {}),
    ...(c.fingerprint ? { fingerprint: c.fingerprint } : {}),
    ...(c.verifySsl ? {} : { insecure: true }),
  };
}

/** The tool filter of a configuration's policy: no toolsets named means the defaults, `all` every toolset. */
export function toolFilter(p: Config["policy"]): ToolFilter {
  return {
    mode: p.mode,
    toolsets: p.toolsets.includes("all") ? TOOLSETS : p.toolsets.length ? p.toolsets as Toolset[] : DEFAULT_TOOLSETS,
    allowTools: p.allowTools,
    denyTools: p.denyTools,
  };
}

/**
 * Reads the newest records of the configured audit log, verifying each with the log's key (resolved now, at start-up:
 * the key file is not readable once permissions are dropped).
 */
async function auditReaderFor(a: Config["audit"], path: string): Promise<AuditReader> {
  const { key } = await resolveAuditKey({
    path,
    ...(a.key ? { key: a.key } : {}),
    ...(a.keyFile ? { keyFile: a.keyFile } : {}),
  });
  return (limit, filter) => readRecentAudit(path, { limit, key, filter: filter as never });
}

/**
 * Hooks the caller may supply instead of the configured ones (HTTP serving shares its audit log and limiter with the
 * listener; tests inject their own). Absent: the audit log of `audit.path`, token buckets of `rateLimit`.
 */
export interface BuildOptions {
  audit?: AuditSink;
  limiter?: RateLimiter;
}

/** Builds the application; `close` releases upstream connections. */
export async function buildApp(
  config: Config,
  opts: BuildOptions = {},
): Promise<{ app: App; close: () => Promise<void> }> {
  const clients: { close(): void }[] = [];
  const clusters = new Map<string, ClusterHandle>();
  const problems: string[] = [];
  for (const [name, c] of Object.entries(config.clusters)) {
    try {
      const read = clientFor(name, c, c);
      clients.push(read);
      let write: PveApi = read;
      if (c.write && (c.write.tokenId || c.write.user)) {
        const w = clientFor(name, c, c.write);
        clients.push(w);
        write = w;
      }
      clusters.set(name, clusterHandle(name, read, write));
    } catch (e) {
      // Creating a client only reads settings (CA file, fingerprint, host): what fails here is configuration.
      if (!(e instanceof PveError)) throw e;
      problems.push(`cluster "${name}": ${e.message}`);
    }
  }
  if (problems.length > 0) {
    for (const c of clients) c.close();
    throw new ConfigError(problems);
  }
  // Opened here, closed by `close` (a caller that passes its own audit log closes it itself).
  const ownAudit = opts.audit === undefined ? await openAuditLog(config.audit) : undefined;
  const secrets = await openSecretStore(config.secrets);
  const p = config.policy;
  const known = new Set(ALL_TOOLS.map((t) => t.name));
  for (const name of [...p.allowTools, ...p.denyTools].filter((n) => !known.has(n))) {
    log("config").warn("Tool {name} in the allow/deny lists does not exist; `pve-mcp tools --json` lists the names", {
      name,
    });
  }
  const app: App = {
    name: "pve-mcp",
    version: VERSION,
    clusters,
    defaultCluster: config.defaultCluster,
    tools: ALL_TOOLS,
    filter: toolFilter(p),
    policy: createPolicy({ mode: p.mode, guests: p.guests, protected: p.protected, agentExec: p.agentExec }),
    audit: opts.audit ?? ownAudit ?? NO_AUDIT,
    limiter: opts.limiter ?? createRateLimiter(config.rateLimit),
    ...(secrets ? { secrets } : {}),
    ...(config.audit.path ? { auditReader: await auditReaderFor(config.audit, config.audit.path) } : {}),
    maxTaskWaitMs: p.maxTaskWaitSeconds * 1000,
    allowInternalUrls: p.allowInternalUrls,
    confirmWithoutElicitation: p.confirmWithoutElicitation,
  };
  return {
    app,
    close: async () => {
      for (const c of clients) c.close();
      await ownAudit?.close();
    },
  };
}
