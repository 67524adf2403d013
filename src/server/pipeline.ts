/**
 * The one path every tool call walks, from every transport and from resources, in named stages: prepare (parse with
 * the tool's zod input, defaults applied; classify) → rate limit → policy → secret references (use policy; values
 * resolved later are registered in the call's scrub scope) → plan + human confirmation (destructive) or dry run →
 * audit intent → PVE → audit result → sanitise (every string of the result cleaned and capped by the one cleaner,
 * the text rendered from the cleaned data) → scrub (every resolved secret value, in any obvious encoding, is removed
 * from the result, errors, plan and audit text; log lines are scrubbed by the log sink; hostile characters are
 * stripped from all of it).
 * @module
 */
import type { CallToolResult, InputRequiredResult } from "@modelcontextprotocol/server";
import type { AuditEvent, ChangePlan, Principal, ProgressUpdate, PveCallRecord } from "../core/mod.ts";
import { log } from "../log.ts";
import { SecretScope } from "../guard/scrub.ts";
import { cleanDeep, UNTRUSTED_MAX } from "../guard/untrusted.ts";
import { callSecretResolver, noStoreError, secretRefsIn } from "../secrets/resolve.ts";
import { secretUseRefusal } from "../secrets/policy.ts";
import { credentials, noWrites } from "./credentials.ts";
import type { ToolContext, ToolDef } from "../tools/registry.ts";
import { prepareCall, type PreparedCall } from "./prepare.ts";
import { errorMessage, toolError } from "./tool_errors.ts";
import {
  confirmChange,
  type ConfirmChannel,
  type ConfirmOutcome,
  ConfirmStateSigner,
  declinedMessage,
  noElicitationMessage,
} from "../policy/confirm.ts";
import type { App, ClusterHandle } from "./app.ts";

/** What the transport knows about the request being served. */
export interface CallEnv {
  principal: Principal;
  signal: AbortSignal;
  /** Sends a progress notification when the client asked for progress. */
  progress?: (update: ProgressUpdate) => Promise<void>;
  /** How to reach a human for confirmation; absent when the transport cannot ask. */
  confirm?: ConfirmChannel;
}

/** Signs 2026-era confirmation state; the key lives only in this process. */
const SIGNER = new ConfirmStateSigner();

/** The tool's plan, or a generic one for tools that describe none. */
async function planOf(call: PreparedCall, ctx: ToolContext): Promise<ChangePlan> {
  const { def, args } = call;
  if (def.plan) return await def.plan(args as never, ctx);
  const vmid = call.effect.guests.find((g) => g.role === "target")?.vmid;
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

/** Picks the cluster a call addresses. */
export function pickCluster(app: App, name: unknown): ClusterHandle {
  const key = typeof name === "string" ? name : app.defaultCluster;
  const cluster = app.clusters.get(key);
  if (!cluster) {
    throw new TypeError(`Unknown cluster "${key}": configured clusters are ${[...app.clusters.keys()].join(", ")}`);
  }
  return cluster;
}

/** One call on its way: what every later stage reads. */
interface Flight {
  app: App;
  call: PreparedCall;
  env: CallEnv;
  cluster: ClusterHandle;
  base: Omit<AuditEvent, "phase">;
  started: number;
  /** Every secret value this call resolved: scrubbed from all it hands back (result, errors, plan, audit). */
  scope: SecretScope;
  /** Argument → the secret name it was cleared to resolve (the secret-reference stage). */
  cleared: Map<string, string>;
}

/** Writes an audit record of the call, scrubbed of the values it resolved. */
function audit(f: Flight, event: AuditEvent): Promise<void> {
  return f.app.audit.write(f.scope.scrubDeep(event));
}

/** Ends a call that does not reach PVE: audits why (best effort), counts the outcome, answers a tool error. */
async function refuse(
  f: Flight,
  outcome: string,
  message: string,
  record?: Pick<AuditEvent, "phase" | "reason"> & Partial<AuditEvent>,
): Promise<CallToolResult> {
  if (record) await audit(f, { ...f.base, ...record }).catch(() => {});
  f.app.onCall?.(f.call.def.name, outcome, performance.now() - f.started);
  return toolError(message);
}

/** Stage: the caller's token bucket for the call's class (before policy, plans and prompts, which cost too). */
function rateLimitStage(f: Flight): Promise<CallToolResult> | undefined {
  const limited = f.app.limiter.take(f.env.principal.id, f.call.cls);
  if (limited.ok) return undefined;
  const reason = `Rate limit reached for ${f.call.cls} calls: retry in ${limited.retryAfterSeconds} s`;
  return refuse(f, "rate_limited", reason, { phase: "rate_limited", reason });
}

/** Stage: per-call policy on the call's effect (mode, refusals, agent opt-in, selectors, protection). */
async function policyStage(f: Flight): Promise<CallToolResult | undefined> {
  let denied: string | undefined;
  try {
    denied = await f.app.policy.check(f.call.def.name, f.call.effect, {
      principal: f.env.principal,
      cluster: f.cluster,
      signal: f.env.signal,
    });
  } catch (e) {
    return refuse(f, "error", errorMessage(f.call.def, e).text);
  }
  return denied === undefined
    ? undefined
    : refuse(f, "denied", `Denied: ${denied}`, { phase: "denied", reason: denied });
}

/**
 * Stage: `secret://NAME` references. Only a tool's declared secret arguments take one (anywhere else it is refused,
 * never sent as text), and only as the secret's use policy allows: the argument, round trips, the principal. What
 * passes is cleared for lazy resolution through `ctx.resolveSecret`.
 */
async function secretStage(f: Flight): Promise<CallToolResult | undefined> {
  const { def, args } = f.call;
  const capable = def.secretArgs ?? {};
  const where = Object.keys(capable).map((a) => `${def.name}.${a}`);
  const deny = (reason: string) => refuse(f, "denied", `Denied: ${reason}`, { phase: "denied", reason });
  for (const ref of secretRefsIn(args)) {
    const field = ref.path.join(".") || "(arguments)";
    const arg = ref.path.length === 1 && typeof ref.path[0] === "string" && Object.hasOwn(capable, ref.path[0])
      ? ref.path[0]
      : undefined;
    if (arg === undefined) {
      return deny(
        `${field}: ${ref.name ? `secret://${ref.name}` : "a secret:// reference"} cannot be used here; ${
          where.length
            ? `${def.name} accepts secret://NAME only in ${where.join(", ")}`
            : `${def.name} accepts no secret://NAME`
        }`,
      );
    }
    if (ref.name === undefined) {
      return deny(`${field}: this is not a valid secret reference: use secret://NAME (letters, digits, . _ -)`);
    }
    const store = f.app.secrets;
    if (!store) return refuse(f, "error", `Cannot run ${def.name}: ${field}: ${noStoreError(ref.name).message}`);
    let info;
    try {
      info = await store.info(ref.name);
    } catch (e) {
      return refuse(f, "error", `Cannot run ${def.name}: ${field}: ${(e as Error).message}`);
    }
    if (!info) {
      return refuse(
        f,
        "error",
        `Cannot run ${def.name}: ${field}: secret "${ref.name}" is not in the secret store; add it with: ` +
          `pve-mcp secrets set ${ref.name}`,
      );
    }
    const refusal = secretUseRefusal(ref.name, info, {
      target: `${def.name}.${arg}`,
      ...(capable[arg]!.roundTrip ? { roundTrip: capable[arg]!.roundTrip } : {}),
      principal: f.env.principal.id,
    });
    if (refusal) return deny(`${field}: ${refusal}`);
    f.cleared.set(arg, ref.name);
  }
  return undefined;
}

/**
 * Stage: the plan of a change (dry run, or a destructive call) and the human's confirmation. Returns the final answer
 * when the call stops here, or how it was confirmed (undefined: no confirmation was needed).
 */
async function confirmStage(
  f: Flight,
  toolCtx: ToolContext,
  calls: PveCallRecord[],
): Promise<{ stop: CallToolResult | InputRequiredResult } | { confirmedBy?: string }> {
  const { def, args, cls, dryRun } = f.call;
  if (cls === "read" || !(dryRun || cls === "destructive")) return {};
  let plan: ChangePlan;
  try {
    // The plan goes to a human (elicitation) and back to the model: scrubbed of resolved values, hostile text cleaned.
    plan = cleanDeep(f.scope.scrubDeep(await planOf(f.call, { ...toolCtx, pveWrite: noWrites(toolCtx.pveWrite) })));
  } catch (e) {
    return { stop: await refuse(f, "error", errorMessage(def, e).text) };
  }
  if (dryRun) {
    await audit(f, {
      ...f.base,
      phase: "result",
      outcome: "ok",
      reason: "dry run: nothing changed",
      pveCalls: calls,
    })
      .catch(() => {});
    f.app.onCall?.(def.name, "dry_run", performance.now() - f.started);
    return { stop: { content: [{ type: "text", text: planText(plan) }], structuredContent: { dry_run: plan } } };
  }
  const outcome: ConfirmOutcome = f.env.confirm
    ? await confirmChange(f.env.confirm, SIGNER, {
      tool: def.name,
      cluster: f.cluster.name,
      args,
      plan,
      principal: f.env.principal.id,
    }).catch((e): ConfirmOutcome => {
      log("pipeline").warn("Asking for confirmation of {tool} failed: {error}", { tool: def.name, error: String(e) });
      return { kind: "declined", answer: "cancel" };
    })
    : { kind: "unsupported" };
  switch (outcome.kind) {
    case "input_required":
      f.app.onCall?.(def.name, "input_required", performance.now() - f.started);
      return { stop: outcome.result };
    case "accepted":
      return { confirmedBy: "confirmed by the human (elicitation)" };
    case "unsupported":
      if ((f.app.confirmWithoutElicitation ?? "refuse") === "allow") {
        return {
          confirmedBy:
            "not asked: the client has no elicitation and the operator allows destructive actions without it",
        };
      }
      return {
        stop: await refuse(f, "denied", noElicitationMessage(def.name, plan), {
          phase: "denied",
          reason: "no elicitation and confirmWithoutElicitation=refuse",
        }),
      };
    default:
      return {
        stop: await refuse(f, "declined", declinedMessage(def.name, plan, outcome), {
          phase: "denied",
          reason: outcome.kind === "invalid"
            ? `confirmation invalid: ${outcome.reason}`
            : `human answered ${outcome.answer}`,
        }),
      };
  }
}

/** The context a handler gets for one call. */
function toolContext(f: Flight, calls: PveCallRecord[], upids: string[]): ToolContext {
  const { read, write } = credentials(f.call.def, f.cluster, calls);
  const { app, env, cluster } = f;
  return {
    pve: read,
    pveWrite: write,
    cluster: cluster.name,
    resolveGuest: (vmid) => cluster.guests.resolve(vmid, env.signal),
    listGuests: (snapshot) => cluster.guests.listing(env.signal, snapshot),
    signal: env.signal,
    principal: env.principal,
    // Progress messages quote task logs (untrusted) and reach the client outside the result: the same scrub and clean.
    progress: env.progress
      ? (update) => env.progress!(cleanDeep(f.scope.scrubDeep(update), {}, UNTRUSTED_MAX))
      : () => Promise.resolve(),
    noteTask: (upid) => upids.push(upid),
    maxTaskWaitMs: app.maxTaskWaitMs,
    allowInternalUrls: app.allowInternalUrls === true,
    ...(app.secrets
      ? {
        secrets: app.secrets,
        resolveSecret: callSecretResolver(app.secrets, f.cleared, (value) => f.scope.add(value)),
      }
      : {}),
    ...(app.auditReader ? { auditReader: app.auditReader } : {}),
  };
}

/** Stage: runs the handler after a durable intent record, and audits the result. */
async function executeStage(
  f: Flight,
  toolCtx: ToolContext,
  calls: PveCallRecord[],
  upids: string[],
  confirmedBy: string | undefined,
): Promise<CallToolResult> {
  const { def, cls } = f.call;
  try {
    await audit(f, { ...f.base, phase: "intent", ...(confirmedBy ? { reason: confirmedBy } : {}) });
  } catch (e) {
    // The audit log decides what must be durable: it rejects changes it cannot record, and reads only when
    // `audit.failReadsOnError` is on. Either way nothing is sent upstream.
    const what = cls === "read" ? "nothing was read" : "no change was made";
    return refuse(
      f,
      "audit_failed",
      `Cannot run ${def.name}: the audit log could not be written, so ${what} (${(e as Error).message})`,
    );
  }
  const result = (outcome: "ok" | "error", extra: Partial<AuditEvent> = {}) =>
    audit(f, {
      ...f.base,
      phase: "result",
      outcome,
      durationMs: Math.round(performance.now() - f.started),
      pveCalls: calls,
      upids,
      ...extra,
    }).catch(() => {});
  try {
    // Reads find guests through the vmid → node map (one request per call); changes through a fresh listing.
    const out = await f.cluster.guests.run(
      cls !== "read",
      f.env.signal,
      (resolveGuest) => def.handler(f.call.args as never, { ...toolCtx, resolveGuest }),
    );
    if (cls !== "read") f.cluster.guests.invalidate();
    await result("ok");
    f.app.onCall?.(def.name, "ok", performance.now() - f.started);
    // Sanitise: every string a tool returns is untrusted until cleaned and capped by the one cleaner
    // (src/guard/untrusted.ts); the text is rendered from the cleaned data.
    const clean = cleanDeep(out, def.textCaps);
    return {
      content: [{ type: "text", text: def.text(clean as never) }],
      structuredContent: clean as Record<string, unknown>,
    };
  } catch (e) {
    const { text, kind } = errorMessage(def, e);
    await result("error", { errorKind: kind });
    f.app.onCall?.(def.name, "error", performance.now() - f.started);
    return toolError(text);
  }
}

/**
 * Runs one tool call through the pipeline and returns the MCP result. Never throws for tool-level failures.
 * Stages, in this order on every path: prepare (parse, classify) → rate limit → policy → secret references → plan +
 * confirmation → audit intent → PVE → audit result → sanitise → scrub.
 */
export async function runTool(
  app: App,
  def: ToolDef,
  rawArgs: Record<string, unknown>,
  env: CallEnv,
): Promise<CallToolResult | InputRequiredResult> {
  const started = performance.now();
  const call = prepareCall(def, rawArgs);
  if ("invalid" in call) {
    app.onCall?.(def.name, "invalid", performance.now() - started);
    return toolError(call.invalid);
  }
  let cluster: ClusterHandle;
  try {
    cluster = pickCluster(app, call.clusterName);
  } catch (e) {
    return toolError((e as Error).message);
  }
  const base = { principal: env.principal, tool: def.name, cluster: cluster.name, class: call.cls, args: call.args };
  const f: Flight = { app, call, env, cluster, base, started, scope: new SecretScope(), cleared: new Map() };
  // Scrub the values the call resolved, then strip hostile characters from everything else it hands back (errors and
  // plans quote PVE and guest text too); strings of results were capped when the result was built.
  return cleanDeep(f.scope.scrubDeep(await stages(f)), {}, Number.MAX_SAFE_INTEGER);
}

/** The stages after preparation, in order; the first that answers ends the call. */
async function stages(f: Flight): Promise<CallToolResult | InputRequiredResult> {
  const stopped = rateLimitStage(f) ?? await policyStage(f) ?? await secretStage(f);
  if (stopped) return stopped;
  const calls: PveCallRecord[] = [];
  const upids: string[] = [];
  const toolCtx = toolContext(f, calls, upids);
  const confirmed = await confirmStage(f, toolCtx, calls);
  if ("stop" in confirmed) return confirmed.stop;
  return await executeStage(f, toolCtx, calls, upids, confirmed.confirmedBy);
}
