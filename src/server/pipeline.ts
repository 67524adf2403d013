/**
 * The one path every tool call walks: policy → plan + human confirmation (destructive) or dry run → rate limit →
 * audit intent → PVE → result → audit result.
 * (Argument validation happens before, in the SDK, against the tool's zod input.)
 * @module
 */
import type { CallToolResult, InputRequiredResult } from "@modelcontextprotocol/server";
import { log } from "../log.ts";
import { type PveApi, PveError, type PveRequest, type PveResult } from "../pve/types.ts";
import {
  type ChangePlan,
  classOf,
  type Principal,
  type ProgressUpdate,
  type ToolContext,
  type ToolDef,
} from "../tools/registry.ts";
import {
  confirmChange,
  type ConfirmChannel,
  type ConfirmOutcome,
  ConfirmStateSigner,
  declinedMessage,
  noElicitationMessage,
} from "../policy/confirm.ts";
import type { App, AuditEvent, ClusterHandle } from "./app.ts";

/** What the transport knows about the request being served. */
export interface CallEnv {
  principal: Principal;
  signal: AbortSignal;
  /** Sends a progress notification when the client asked for progress. */
  progress?: (update: ProgressUpdate) => Promise<void>;
  /** How to reach a human for confirmation; absent when the transport cannot ask. */
  confirm?: ConfirmChannel;
}

/** True for tools that can act destructively: they get `dry_run` and their destructive calls need confirmation. */
export function canBeDestructive(def: ToolDef): boolean {
  return !def.annotations.readOnlyHint && def.annotations.destructiveHint;
}

/** Signs 2026-era confirmation state; the key lives only in this process. */
const SIGNER = new ConfirmStateSigner();

/** A client that refuses every request (plans must only read), with the write credential's host and auth kind. */
function noWrites(api: PveApi): PveApi {
  return {
    host: api.host,
    ...("authKind" in api ? { authKind: (api as { authKind?: unknown }).authKind } : {}),
    request: () => Promise.reject(new TypeError("internal error: a change plan tried to write to the cluster")),
  };
}

/** The tool's plan, or a generic one for tools that describe none. */
async function planOf(def: ToolDef, args: Record<string, unknown>, ctx: ToolContext): Promise<ChangePlan> {
  if (def.plan) return await def.plan(args as never, ctx);
  const vmid = def.target?.(args as never);
  return {
    action: `${def.name}${typeof args.action === "string" ? ` ${args.action}` : ""}`,
    target: vmid === undefined ? "see the arguments" : `guest ${vmid}`,
    current: "unknown (the tool describes no plan)",
    effect: def.title,
  };
}

/** Text of a dry-run result. */
function planText(plan: ChangePlan): string {
  return `Dry run, nothing changed. Would ${plan.action} on ${plan.target}. Current: ${plan.current}. Effect: ${plan.effect}.`;
}

/** A PveApi wrapper that remembers which calls a tool made (for the audit record). */
function recording(api: PveApi, calls: { method: string; path: string; status: number }[]): PveApi {
  return {
    host: api.host,
    // How the credential authenticates ("token" | "ticket"), when the client says (pve_api checks allowtoken).
    ...("authKind" in api ? { authKind: (api as { authKind?: unknown }).authKind } : {}),
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

/**
 * The two clients a handler gets. Reads always use the read credential: the read client refuses anything but GET
 * (a tool bug, surfaced as an internal error), and GETs sent through the write client go to the read credential.
 * Changes use the write credential (the read one when no separate write credential is configured).
 */
function credentials(
  def: ToolDef,
  cluster: ClusterHandle,
  calls: { method: string; path: string; status: number }[],
): { read: PveApi; write: PveApi } {
  const reads = recording(cluster.read, calls);
  const changes = recording(cluster.write, calls);
  const read: PveApi = {
    ...reads,
    request<T>(req: PveRequest): Promise<PveResult<T>> {
      if (req.method !== "GET") {
        return Promise.reject(
          new Error(`${def.name} sent ${req.method} ${req.path} with the read credential; changes must use pveWrite`),
        );
      }
      return reads.request<T>(req);
    },
  };
  const write: PveApi = {
    ...changes,
    request: <T>(req: PveRequest) => req.method === "GET" ? reads.request<T>(req) : changes.request<T>(req),
  };
  return { read, write };
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
  if (e instanceof URIError) {
    // encodeURIComponent refuses unpaired UTF-16 surrogates (found by the fuzzer): the caller's text, not a bug.
    return {
      text:
        `Cannot run ${def.name}: an argument holds text that cannot be sent to PVE (broken unicode: an unpaired surrogate)`,
      kind: "input",
    };
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
): Promise<CallToolResult | InputRequiredResult> {
  const started = performance.now();
  const { cluster: clusterName, ...args } = rawArgs;
  let dryRun = false;
  if (canBeDestructive(def) && "dry_run" in args) {
    dryRun = args.dry_run === true;
    delete args.dry_run;
  }
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

  let denied: string | undefined;
  try {
    denied = await app.policy.check(def, args, cls, { principal: env.principal, cluster, signal: env.signal });
  } catch (e) {
    finish("error");
    return toolError(errorMessage(def, e).text);
  }
  if (denied !== undefined) {
    await app.audit.write({ ...base, phase: "denied", reason: denied }).catch(() => {});
    finish("denied");
    return toolError(`Denied: ${denied}`);
  }

  const calls: { method: string; path: string; status: number }[] = [];
  const upids: string[] = [];
  const { read, write } = credentials(def, cluster, calls);
  const toolCtx: ToolContext = {
    pve: read,
    pveWrite: write,
    cluster: cluster.name,
    resolveGuest: (vmid) => cluster.guests.resolve(vmid, env.signal),
    listGuests: (snapshot) => cluster.guests.listing(env.signal, snapshot),
    signal: env.signal,
    principal: env.principal,
    progress: env.progress ?? (() => Promise.resolve()),
    noteTask: (upid) => upids.push(upid),
    maxTaskWaitMs: app.maxTaskWaitMs,
    ...(app.secrets ? { secrets: app.secrets } : {}),
    ...(app.auditReader ? { auditReader: app.auditReader } : {}),
  };

  let confirmedBy: string | undefined;
  if (cls !== "read" && (dryRun || cls === "destructive")) {
    let plan: ChangePlan;
    try {
      plan = await planOf(def, args, { ...toolCtx, pveWrite: noWrites(write) });
    } catch (e) {
      finish("error");
      return toolError(errorMessage(def, e).text);
    }
    if (dryRun) {
      await app.audit.write({
        ...base,
        phase: "result",
        outcome: "ok",
        reason: "dry run: nothing changed",
        pveCalls: calls,
      })
        .catch(() => {});
      finish("dry_run");
      return { content: [{ type: "text", text: planText(plan) }], structuredContent: { dry_run: plan } };
    }
    const outcome: ConfirmOutcome = env.confirm
      ? await confirmChange(env.confirm, SIGNER, {
        tool: def.name,
        cluster: cluster.name,
        args,
        plan,
        principal: env.principal.id,
      }).catch((e): ConfirmOutcome => {
        log("pipeline").warn("Asking for confirmation of {tool} failed: {error}", { tool: def.name, error: String(e) });
        return { kind: "declined", answer: "cancel" };
      })
      : { kind: "unsupported" };
    if (outcome.kind === "input_required") {
      finish("input_required");
      return outcome.result;
    }
    if (outcome.kind === "unsupported") {
      if ((app.confirmWithoutElicitation ?? "refuse") !== "allow") {
        const reason = noElicitationMessage(def.name, plan);
        await app.audit.write({
          ...base,
          phase: "denied",
          reason: "no elicitation and confirmWithoutElicitation=refuse",
        })
          .catch(() => {});
        finish("denied");
        return toolError(reason);
      }
      confirmedBy = "not asked: the client has no elicitation and the operator allows destructive actions without it";
    } else if (outcome.kind === "accepted") {
      confirmedBy = "confirmed by the human (elicitation)";
    } else {
      const reason = declinedMessage(def.name, plan, outcome);
      await app.audit.write({
        ...base,
        phase: "denied",
        reason: outcome.kind === "invalid"
          ? `confirmation invalid: ${outcome.reason}`
          : `human answered ${outcome.answer}`,
      })
        .catch(() => {});
      finish("declined");
      return toolError(reason);
    }
  }

  const limited = app.limiter.take(env.principal.id, cls);
  if (!limited.ok) {
    const reason = `Rate limit reached for ${cls} calls: retry in ${limited.retryAfterSeconds} s`;
    await app.audit.write({ ...base, phase: "rate_limited", reason }).catch(() => {});
    finish("rate_limited");
    return toolError(reason);
  }
  try {
    await app.audit.write({ ...base, phase: "intent", ...(confirmedBy ? { reason: confirmedBy } : {}) });
  } catch (e) {
    // The audit log decides what must be durable: it rejects changes it cannot record, and reads only when
    // `audit.failReadsOnError` is on. Either way nothing is sent upstream.
    finish("audit_failed");
    const what = cls === "read" ? "nothing was read" : "no change was made";
    return toolError(
      `Cannot run ${def.name}: the audit log could not be written, so ${what} (${(e as Error).message})`,
    );
  }

  try {
    // Reads find guests through the vmid → node map (one request per call); changes through a fresh listing.
    const out = await cluster.guests.run(
      cls !== "read",
      env.signal,
      (resolveGuest) => def.handler(args as never, { ...toolCtx, resolveGuest }),
    );
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
