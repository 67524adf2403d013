/**
 * The reviewed class table of the raw API tool (`pve_api`). A GET is a read unless a row refuses it; any other call
 * is REFUSED unless a row below names its endpoint and gives its class (read / write / destructive / refused, with
 * why). Rows match the endpoint's path TEMPLATE from the contract (`/nodes/{node}/qemu/{vmid}/status/stop`), so
 * encoding tricks in the concrete path cannot dodge them; conditions look at the parameters with the schema's
 * defaults applied (vzdump's `remove` defaults to 1). docs/safety.md shows this table, generated from it.
 * @module
 */
import type { CallClass } from "../core/mod.ts";
import type { PveMethod } from "../pve/types.ts";
import { GUEST_RULES, type Params, type RawRule } from "./raw_rules.ts";
import { INFRA_RULES } from "./raw_rules_infra.ts";

export type { RawRule };

/** What the table says about one call. */
export interface RawClass {
  cls: CallClass;
  why: string;
  /** Set when the call must never be sent: why, and what to use instead. */
  refuse?: string;
  mass?: string;
  undetermined?: string;
  fetches: readonly string[];
}

/** The reviewed rows; the first row whose method and path match decides. Exported for docs and tests. */
export const RAW_RULES: readonly RawRule[] = [...GUEST_RULES, ...INFRA_RULES];

/** True when `template` is named by `pattern` (exact, or below a `/**` pattern). */
export function pathMatches(pattern: string, template: string): boolean {
  if (!pattern.endsWith("/**")) return pattern === template;
  const base = pattern.slice(0, -3);
  return template === base || template.startsWith(`${base}/`) || base === "";
}

/** The row that decides a call, if any. */
export function ruleFor(method: PveMethod, template: string): RawRule | undefined {
  return RAW_RULES.find((r) => r.methods.includes(method) && r.paths.some((p) => pathMatches(p, template)));
}

/**
 * Classifies a raw call by method, path template and parameters (with the schema's defaults applied). A GET no row
 * names is a read; any other call no row names is refused.
 */
export function classifyRaw(method: PveMethod, template: string | undefined, params: Params = {}): RawClass {
  if (template === undefined) {
    return { cls: "destructive", why: "unknown endpoint", refuse: "the endpoint is not in the schema", fetches: [] };
  }
  const rule = ruleFor(method, template);
  if (!rule) {
    return method === "GET" ? { cls: "read", why: "GET only reads", fetches: [] } : {
      cls: "destructive",
      why: "not on the reviewed list of raw endpoints",
      refuse: `${method} ${template} has not been reviewed for pve_api; use a named tool or ask the operator`,
      fetches: [],
    };
  }
  const up = rule.escalate?.find((e) => e.when(params));
  const verdict = up?.cls ?? rule.cls;
  const why = up?.why ?? rule.why;
  const mass = rule.mass?.(params);
  const out: RawClass = {
    cls: verdict === "refused" ? (method === "GET" ? "read" : "destructive") : verdict,
    why,
    fetches: rule.fetches ?? [],
  };
  if (verdict === "refused") out.refuse = `${why}; ${rule.instead ?? "not available through pve_api"}`;
  if (mass !== undefined) out.mass = mass;
  if (rule.undetermined !== undefined) out.undetermined = rule.undetermined;
  return out;
}
