/**
 * Confirmation of destructive actions by a human, through MCP elicitation in both protocol eras:
 * - 2025 era (today's clients): the server sends `elicitation/create` while the call is open (`elicitInput`);
 * - 2026-07-28 era: the call answers `input_required` with an embedded elicitation and an integrity-protected
 *   `requestState`; the client asks the human and retries the call with the answer.
 *
 * Only `accept` with `confirm: true` counts. A `confirm` argument typed by the model is never looked at: the answer
 * comes from the client's elicitation channel, bound by HMAC to the exact tool, cluster, arguments and caller.
 * @module
 */
import { fromBase64Url, randomBase64Url, toBase64Url } from "../crypto/encoding.ts";
import { type ChangePlan } from "../core/mod.ts";
import {
  type ElicitRequestFormParams,
  type ElicitResult,
  inputRequired,
  type InputRequiredResult,
} from "@modelcontextprotocol/server";
import { z } from "zod";
import { cleanText } from "../guard/untrusted.ts";

/** The form the human fills in: one checkbox. */
export const ConfirmAnswer = z.object({ confirm: z.boolean() });

/** Key of the embedded elicitation in a 2026-era `input_required` result. */
export const CONFIRM_KEY = "confirm";

/** One confirmation to obtain. */
export interface ConfirmRequest {
  tool: string;
  cluster: string;
  /** The arguments exactly as they will be executed (without `cluster` and `dry_run`). */
  args: Record<string, unknown>;
  plan: ChangePlan;
  /** Principal id: state minted for one caller is useless to another. */
  principal: string;
}

/** What came of asking. */
export type ConfirmOutcome =
  | { kind: "accepted" }
  | { kind: "declined"; answer: "decline" | "cancel" | "unchecked" }
  | { kind: "invalid"; reason: string }
  | { kind: "unsupported" }
  | { kind: "input_required"; result: InputRequiredResult };

/** How the current request can reach the human; built per call by the MCP layer. */
export interface ConfirmChannel {
  era: "legacy" | "modern";
  /** The client declared the elicitation capability (form mode). */
  canElicit: boolean;
  /** Legacy era: sends `elicitation/create` and waits for the human. */
  elicit?: (params: ElicitRequestFormParams) => Promise<ElicitResult>;
  /** Modern era: the answers the client sent with a retried call. */
  inputResponses?: Record<string, unknown> | undefined;
  /** Modern era: the echoed `requestState` (raw wire string). */
  requestState?: string | undefined;
}

/** JSON with object keys sorted, so equal arguments always hash alike. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

const enc = new TextEncoder();

/** SHA-256 (hex) over the canonical form of what is being confirmed. */
export async function bindingOf(req: Pick<ConfirmRequest, "tool" | "cluster" | "args" | "principal">): Promise<string> {
  const data = enc.encode(canonicalJson({ t: req.tool, c: req.cluster, a: req.args, p: req.principal }));
  return toBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", data)));
}

const STATE_PREFIX = "pvemcp1";

/**
 * Mints and verifies `requestState` for 2026-era confirmations: HMAC-SHA256 with a per-process random key over
 * `{binding, nonce, expiry}`. A state verifies once (replays fail), only before it expires, and only for the same
 * binding (tool, cluster, arguments, caller).
 */
export class ConfirmStateSigner {
  #keyPromise: Promise<CryptoKey> | undefined;
  readonly #used = new Map<string, number>();
  readonly #now: () => number;
  readonly #ttlMs: number;

  constructor(opts: { now?: () => number; ttlMs?: number } = {}) {
    this.#now = opts.now ?? Date.now;
    this.#ttlMs = opts.ttlMs ?? 600_000;
  }

  /** The per-process key, made on first use (Web Crypto's first call costs tens of ms: not at start-up). */
  get #key(): Promise<CryptoKey> {
    return this.#keyPromise ??= crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256", length: 256 }, false, [
      "sign",
      "verify",
    ]);
  }

  /** A state for one confirmation round. */
  async mint(binding: string): Promise<string> {
    const nonce = randomBase64Url(16);
    const body = toBase64Url(enc.encode(JSON.stringify({ b: binding, n: nonce, e: this.#now() + this.#ttlMs })));
    const mac = new Uint8Array(
      await crypto.subtle.sign("HMAC", await this.#key, enc.encode(`${STATE_PREFIX}.${body}`)),
    );
    return `${STATE_PREFIX}.${body}.${toBase64Url(mac)}`;
  }

  /** `"ok"` (and the state is spent), or why it is refused. */
  async verify(
    state: string,
    binding: string,
  ): Promise<"ok" | "malformed" | "mac" | "expired" | "mismatch" | "replayed"> {
    const parts = state.split(".");
    if (parts.length !== 3 || parts[0] !== STATE_PREFIX) return "malformed";
    const mac = fromBase64Url(parts[2]!);
    const bodyBytes = fromBase64Url(parts[1]!);
    if (!mac || !bodyBytes) return "malformed";
    const good = await crypto.subtle.verify(
      "HMAC",
      await this.#key,
      mac,
      enc.encode(`${STATE_PREFIX}.${parts[1]}`),
    );
    if (!good) return "mac";
    let body: { b?: unknown; n?: unknown; e?: unknown };
    try {
      body = JSON.parse(new TextDecoder().decode(bodyBytes));
    } catch {
      return "malformed";
    }
    if (typeof body.b !== "string" || typeof body.n !== "string" || typeof body.e !== "number") return "malformed";
    const now = this.#now();
    for (const [n, exp] of this.#used) if (exp < now) this.#used.delete(n);
    if (body.e < now) return "expired";
    if (body.b !== binding) return "mismatch";
    if (this.#used.has(body.n)) return "replayed";
    this.#used.set(body.n, body.e);
    return "ok";
  }
}

/** The text the human reads: exact target, current state and effect. Plan text is cleaned (it may carry names). */
export function confirmMessage(req: Pick<ConfirmRequest, "tool" | "cluster" | "plan">): string {
  const p = req.plan;
  return [
    `Confirm a destructive action requested by the AI assistant through pve-mcp (tool ${req.tool}).`,
    `Action: ${cleanText(p.action, 300)}`,
    `Target: ${cleanText(p.target, 300)} (cluster "${req.cluster}")`,
    `Current state: ${cleanText(p.current, 500)}`,
    `Effect: ${cleanText(p.effect, 500)}`,
    "Nothing happens unless you accept with the box checked.",
  ].join("\n");
}

/** The elicitation request for one confirmation. */
export function elicitParams(req: Pick<ConfirmRequest, "tool" | "cluster" | "plan">): ElicitRequestFormParams {
  return {
    mode: "form",
    message: confirmMessage(req),
    requestedSchema: {
      type: "object",
      properties: {
        confirm: {
          type: "boolean",
          title: `Yes, ${cleanText(req.plan.action, 100)}`,
          description: "Check to carry out this action",
          default: false,
        },
      },
      required: ["confirm"],
    },
  };
}

function fromAnswer(result: unknown): ConfirmOutcome {
  const r = result as { action?: unknown; content?: unknown } | undefined;
  if (r?.action === "decline" || r?.action === "cancel") return { kind: "declined", answer: r.action };
  if (r?.action !== "accept") return { kind: "declined", answer: "cancel" };
  const parsed = ConfirmAnswer.safeParse(r.content);
  return parsed.success && parsed.data.confirm === true
    ? { kind: "accepted" }
    : { kind: "declined", answer: "unchecked" };
}

/**
 * Asks the human through the channel. Legacy era: one elicitation round trip. Modern era: the first call returns
 * `input_required` with a fresh signed state; the retried call is accepted only with a valid, unspent state for the
 * same binding and an accepted answer with `confirm: true`.
 */
export async function confirmChange(
  channel: ConfirmChannel,
  signer: ConfirmStateSigner,
  req: ConfirmRequest,
): Promise<ConfirmOutcome> {
  if (!channel.canElicit) return { kind: "unsupported" };
  if (channel.era === "legacy") {
    if (!channel.elicit) return { kind: "unsupported" };
    return fromAnswer(await channel.elicit(elicitParams(req)));
  }
  const binding = await bindingOf(req);
  const answer = channel.inputResponses?.[CONFIRM_KEY];
  if (typeof channel.requestState === "string" && answer !== undefined) {
    const verdict = await signer.verify(channel.requestState, binding);
    if (verdict !== "ok") return { kind: "invalid", reason: verdict };
    return fromAnswer(answer);
  }
  return {
    kind: "input_required",
    result: inputRequired({
      inputRequests: { [CONFIRM_KEY]: inputRequired.elicit(elicitParams(req)) },
      requestState: await signer.mint(binding),
    }),
  };
}

/** The refusal when no human can be asked and the operator has not allowed acting without confirmation. */
export function noElicitationMessage(tool: string, plan: ChangePlan): string {
  return `Cannot ${
    cleanText(plan.action, 200)
  } with ${tool}: destructive actions need a human's confirmation, and this ` +
    "MCP client does not support elicitation, so nobody can be asked. Use a client that supports elicitation, or " +
    "have the operator set PROXMOX_MCP_CONFIRM_WITHOUT_ELICITATION=allow (config policy.confirmWithoutElicitation: " +
    '"allow") to act without confirmation. Nothing was changed; call with dry_run: true to see the plan.';
}

/** The answer when the human said no. */
export function declinedMessage(
  tool: string,
  plan: ChangePlan,
  outcome: Extract<ConfirmOutcome, { kind: "declined" | "invalid" }>,
): string {
  const what = cleanText(plan.action, 200);
  if (outcome.kind === "invalid") {
    return `Cannot ${what} with ${tool}: the confirmation could not be verified (${outcome.reason}); nothing was changed. ` +
      "Call the tool again to ask the human again.";
  }
  const how = outcome.answer === "unchecked"
    ? "did not check the confirmation box"
    : outcome.answer === "decline"
    ? "declined"
    : "cancelled";
  return `Not done: the human ${how} "${what}". Nothing was changed; do not retry unless the human asks for it.`;
}
