/**
 * Answers for tools that exist but this session does not list (mode, toolsets, allow/deny lists, the client's own
 * caps) and for actions outside a read-only view: why, and which setting enables them — instead of the SDK's
 * "Tool X not found" or a validation error that names only the read actions. Nothing reaches the cluster.
 * @module
 */
import { type Mode, MODE_FOR_CLASS, modeAllows } from "../core/mod.ts";
import type { CallToolResult, McpServer } from "@modelcontextprotocol/server";
import { settingByPath } from "../config/settings.ts";
import { effectOf, minimumClass, type ToolDef, type ToolFilter } from "../tools/registry.ts";

/** `PROXMOX_MCP_MODE` (from the settings table, so a rename cannot leave messages behind). */
function envOf(path: string): string {
  return settingByPath(path)?.env[0] ?? path;
}

function needs(name: string, needed: Mode, have: Mode, capped: boolean): string {
  return capped
    ? `${name} needs mode ${needed}; your client's access is limited to ${have} (ask the operator for a token with mode ${needed})`
    : `${name} needs mode ${needed}; this server runs ${have} (${envOf("policy.mode")}=${needed} or --mode ${needed} ` +
      "enables it)";
}

/** Why `def` is not listed for the principal, every reason, with the setting that changes it. */
function whyHidden(server: ToolFilter, session: ToolFilter, def: ToolDef): string {
  const reasons: string[] = [];
  const needed = MODE_FOR_CLASS[minimumClass(def)];
  if (!modeAllows(session.mode, needed)) {
    reasons.push(needs(def.name, needed, session.mode, modeAllows(server.mode, needed)));
  }
  if (server.denyTools.includes(def.name)) {
    reasons.push(`${def.name} is turned off by the operator (${envOf("policy.denyTools")})`);
  } else if (server.allowTools.length > 0 && !server.allowTools.includes(def.name)) {
    reasons.push(`${def.name} is not in the operator's allow list (${envOf("policy.allowTools")})`);
  }
  if (!server.allowTools.includes(def.name) && !session.toolsets.includes(def.toolset)) {
    reasons.push(
      server.toolsets.includes(def.toolset)
        ? `${def.name} belongs to toolset ${def.toolset}, which your client's access does not include`
        : `${def.name} belongs to toolset ${def.toolset}, which this server does not enable (` +
          `${envOf("policy.toolsets")}=${[...server.toolsets, def.toolset].join(",")} or --toolsets enables it)`,
    );
  }
  return reasons.length > 0 ? reasons.join("; ") : `${def.name} is not available in this session`;
}

/** The values of an enum field, through `.default()` / `.optional()` wrappers. */
function enumValues(field: unknown): readonly unknown[] {
  let t = field as { options?: unknown; unwrap?: () => unknown } | undefined;
  for (let i = 0; i < 4 && t && !Array.isArray(t.options) && typeof t.unwrap === "function"; i++) {
    t = t.unwrap() as typeof t;
  }
  return Array.isArray(t?.options) ? t.options : [];
}

/** Why an action of a listed read-only view is refused, or undefined when the arguments name no such action. */
function whyActionHidden(server: ToolFilter, session: ToolFilter, def: ToolDef, args: unknown): string | undefined {
  const view = def.readView;
  if (!view || typeof args !== "object" || args === null) return undefined;
  const action = (args as Record<string, unknown>)[view.field ?? "action"];
  if (typeof action !== "string" || view.actions.includes(action)) return undefined;
  if (!enumValues(def.input.shape[view.field ?? "action"]).includes(action)) return undefined; // validation answers
  let needed: Mode;
  try {
    needed = MODE_FOR_CLASS[effectOf(def, args).cls];
  } catch {
    needed = MODE_FOR_CLASS[minimumClass(def)];
  }
  return needs(`${def.name} action ${action}`, needed, session.mode, modeAllows(server.mode, needed));
}

/** What decides a session's tools: every tool, the server's filter, the session's (narrowed by the client's caps). */
export interface ToolView {
  all: readonly ToolDef[];
  server: ToolFilter;
  session: ToolFilter;
  /** The tools the session lists. */
  listed: readonly ToolDef[];
}

/** The refusal for a call of a tool the session does not list (or an action outside its read-only view), if any. */
export function hiddenToolRefusal(view: ToolView, name: unknown, args: unknown): string | undefined {
  if (typeof name !== "string") return undefined;
  const def = view.all.find((t) => t.name === name);
  if (!def) return undefined; // unknown everywhere: the SDK's "not found" is right
  const shown = view.listed.find((t) => t.name === name);
  if (!shown) return whyHidden(view.server, view.session, def);
  return shown === def ? undefined : whyActionHidden(view.server, view.session, def, args);
}

type CallHandler = (request: { params?: { name?: unknown; arguments?: unknown } }, ctx: unknown) => Promise<unknown>;

/**
 * Puts the refusal in front of the SDK's `tools/call` handler, as a tool error result. The SDK has no public hook for
 * unknown tools, so this wraps its registered handler; if the SDK's internals change, calls fall through to its own
 * answer (and the e2e test of these messages fails).
 */
export function answerHiddenTools(
  server: McpServer,
  refusal: (name: unknown, args: unknown) => string | undefined,
): void {
  const handlers = (server.server as unknown as { _requestHandlers?: unknown })._requestHandlers;
  if (!(handlers instanceof Map)) return;
  const inner = handlers.get("tools/call") as CallHandler | undefined;
  if (typeof inner !== "function") return;
  handlers.set("tools/call", (request: Parameters<CallHandler>[0], ctx: unknown) => {
    const why = refusal(request.params?.name, request.params?.arguments);
    if (why === undefined) return inner(request, ctx);
    const result: CallToolResult = { content: [{ type: "text", text: why }], isError: true };
    return Promise.resolve(result);
  });
}
