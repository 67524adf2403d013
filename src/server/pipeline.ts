/**
 * The one path every tool call walks: policy → rate limit → audit intent → PVE → result → audit result.
 * (Argument validation happens before, in the SDK, against the tool's zod input.)
 * @module
 */
import type { CallToolResult } from "@modelcontextprotocol/server";
import { log } from "../log.ts";
import { type PveApi, PveError, type PveRequest, type PveResult } from "../pve/types.ts";
import { classOf, type Principal, type ProgressUpdate, type ToolDef } from "../tools/registry.ts";
import type { App, AuditEvent, ClusterHandle } from "./app.ts";

/** What the transport knows about the request being served. */
export interface CallEnv {
  principal: Principal;
  signal: AbortSignal;
  /** Sends a progress notification when the client asked for progress. */
  progress?: (update: ProgressUpdate) => Promise<void>;
}

/** A PveApi wrapper that remembers which calls a tool made (for the audit record). */
function recording(api: PveApi, calls: { method: string; path: string; status: number }[]): PveApi {
  return {
    host: api.host,
    async request<T>(req: PveRequest): Promise<PveResult<T>> {
      try {
        const res = await api.request<T>(req);
        calls.push({ method: req.method, path: req.path, status: 200 });
        return res;
      } catch (e) {
        calls.push({ method: req.method, path: req.path, status: e instanceof PveError ? e.details.status ?? 0 : 0 });
        throw e;
      }
    },
  };
}

/** A tool error result (`isError: true`) with a message the model can act on. */
export function toolError(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

function errorMessage(def: ToolDef, e: unknown): { text: string; kind: string } {
  if (e instanceof PveError) return { text: `Cannot run ${def.name}: ${e.message}`, kind: e.kind };
  if (e instanceof TypeError || e instanceof RangeError) {
    return { text: `Cannot run ${def.name}: ${e.message}`, kind: "input" };
  }
  log("pipeline").error("Tool {tool} failed unexpectedly: {error}", { tool: def.name, error: String(e) });
  return { text: `Cannot run ${def.name}: internal error (see the server log)`, kind: "internal" };
}

/** Picks the cluster a call addresses. */
export function pickCluster(app: App, name: unknown): ClusterHandle {
  const key = typeof name === "string" ? name : app.defaultCluster;
  const cluster = app.clusters.get(key);
  if (!cluster) {
    throw new TypeError(`Unknown cluster "${key}": configured clusters are ${[...app.clusters.keys()].join(", ")}`);
  }
  return cluster;
}

/** Runs one tool call through the pipeline and returns the MCP result. Never throws for tool-level failures. */
export async function runTool(
  app: App,
  def: ToolDef,
  rawArgs: Record<string, unknown>,
  env: CallEnv,
): Promise<CallToolResult> {
  const started = performance.now();
  const { cluster: clusterName, ...args } = rawArgs;
  const cls = classOf(def, args);
  let cluster: ClusterHandle;
  try {
    cluster = pickCluster(app, clusterName);
  } catch (e) {
    return toolError((e as Error).message);
  }
  const base: Omit<AuditEvent, "phase"> = {
    principal: env.principal,
    tool: def.name,
    cluster: cluster.name,
    class: cls,
    args,
  };
  const finish = (outcome: string) => app.onCall?.(def.name, outcome, performance.now() - started);

  const denied = await app.policy.check(def, args, cls, { principal: env.principal, cluster, signal: env.signal });
  if (denied !== undefined) {
    await app.audit.write({ ...base, phase: "denied", reason: denied }).catch(() => {});
    finish("denied");
    return toolError(`Denied: ${denied}`);
  }
  const limited = app.limiter.take(env.principal.id, cls);
  if (!limited.ok) {
    const reason = `Rate limit reached for ${cls} calls: retry in ${limited.retryAfterSeconds} s`;
    await app.audit.write({ ...base, phase: "rate_limited", reason }).catch(() => {});
    finish("rate_limited");
    return toolError(reason);
  }
  try {
    await app.audit.write({ ...base, phase: "intent" });
  } catch (e) {
    if (cls !== "read") {
      finish("audit_failed");
      return toolError(
        `Cannot run ${def.name}: the audit log could not be written, so no change was made (${(e as Error).message})`,
      );
    }
    log("audit").warn("Audit intent for {tool} not written: {error}", { tool: def.name, error: String(e) });
  }

  const calls: { method: string; path: string; status: number }[] = [];
  const upids: string[] = [];
  const read = recording(cluster.read, calls);
  const write = cluster.write === cluster.read ? read : recording(cluster.write, calls);
  try {
    const out = await def.handler(args as never, {
      pve: read,
      pveWrite: write,
      cluster: cluster.name,
      resolveGuest: (vmid) => cluster.guests.resolve(vmid, env.signal),
      signal: env.signal,
      principal: env.principal,
      progress: env.progress ?? (() => Promise.resolve()),
      noteTask: (upid) => upids.push(upid),
      maxTaskWaitMs: app.maxTaskWaitMs,
    });
    if (cls !== "read") cluster.guests.invalidate();
    const durationMs = Math.round(performance.now() - started);
    await app.audit.write({ ...base, phase: "result", outcome: "ok", durationMs, pveCalls: calls, upids }).catch(
      () => {},
    );
    finish("ok");
    return {
      content: [{ type: "text", text: def.text(out as never) }],
      structuredContent: out as Record<string, unknown>,
    };
  } catch (e) {
    const { text, kind } = errorMessage(def, e);
    const durationMs = Math.round(performance.now() - started);
    await app.audit.write({
      ...base,
      phase: "result",
      outcome: "error",
      errorKind: kind,
      durationMs,
      pveCalls: calls,
      upids,
    })
      .catch(() => {});
    finish("error");
    return toolError(text);
  }
}
