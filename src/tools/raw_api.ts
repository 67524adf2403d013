/**
 * `pve_api`: any endpoint of the Proxmox VE API, checked against the contract derived from the official schema
 * before anything is sent. Its effect is derived, never declared by the caller: the class from the reviewed table
 * (src/tools/raw_classes.ts: a GET is a read, any other call not on the table is refused) and every guest, volume,
 * storage, node and pool it names from the schema's parameter formats (src/tools/raw_refs.ts), so policy sees what
 * the call touches; destructive calls are planned and confirmed like any other destructive tool.
 * @module
 */
import { type ChangePlan, type Effect, effect } from "../core/mod.ts";
import { z } from "zod";
import { type Endpoint, findEndpoint, isPveMethod, matchPath, validateParams } from "../pve/contract.ts";
import { type PveApi, PveError, type PveMethod, type PveParamValue } from "../pve/types.ts";
import { isUpid } from "../pve/upid.ts";
import { cleanDeep, cleanText } from "../guard/untrusted.ts";
import { hideSecretValues, isSecretKey } from "../guard/secret_keys.ts";
import { internalHostRef, internalUrl } from "../guard/internal_url.ts";
import { classifyRaw, type RawClass } from "./raw_classes.ts";
import { collectRefs, withDefaults } from "./raw_refs.ts";
import { defineTool, type ToolContext } from "./registry.ts";

/** Largest JSON rendering of `data` returned whole; larger answers are cut and flagged. */
export const RAW_MAX_CHARS = 24_000;
/** Largest text rendering. */
const TEXT_MAX_CHARS = 4_000;

const ParamValue = z.union([
  z.string().max(65_536),
  z.number(),
  z.boolean(),
  z.array(z.union([z.string().max(4096), z.number()])).max(256),
]);

const Input = z.object({
  method: z.enum(["GET", "POST", "PUT", "DELETE"]),
  path: z.string().min(2).max(1024).regex(/^\/[^?#\s]*$/, "must be an API path like /nodes/pve1/status (no query)")
    .describe("Path under /api2/json, e.g. /nodes/pve1/disks/list"),
  params: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/).max(64), ParamValue).optional()
    .describe("Query (GET) or body parameters"),
}).strict();
type Args = z.infer<typeof Input>;

const Output = z.object({
  method: z.string(),
  path: z.string(),
  /** The answer's `data`, cleaned; absent when cut (see `data_json`). */
  data: z.unknown().optional(),
  /** The beginning of the answer's JSON when it exceeded the cap. */
  data_json: z.string().optional(),
  total: z.number().optional(),
  truncated: z.boolean(),
  upid: z.string().optional(),
  untrusted: z.literal(true),
});
type Out = z.infer<typeof Output>;

/** A resolved, checked raw call. */
interface Checked {
  method: PveMethod;
  endpoint: Endpoint;
  /** Canonical path: the template with each parameter percent-encoded. */
  path: string;
  pathParams: Record<string, string>;
  params: Record<string, PveParamValue>;
  /** The reviewed table's verdict (on the parameters with the schema's defaults). */
  cls: RawClass;
  effect: Effect;
}

/** The effect of a resolved raw call: its class from the reviewed table and everything it names, from the schema. */
export function rawEffect(
  method: PveMethod,
  endpoint: Endpoint,
  pathParams: Readonly<Record<string, string>>,
  params: Readonly<Record<string, unknown>>,
): { cls: RawClass; effect: Effect } {
  const full = withDefaults(endpoint, params);
  const cls = classifyRaw(method, endpoint.path, full);
  const refs = collectRefs(endpoint, pathParams, full);
  const undetermined = [cls.undetermined, ...refs.undetermined].filter((u) => u !== undefined).join("; ");
  return {
    cls,
    effect: effect({
      cls: cls.cls,
      why: cls.why,
      ...(cls.refuse !== undefined
        ? { refuse: `Cannot ${method} ${endpoint.path} through pve_api (${cls.refuse})` }
        : {}),
      guests: refs.guests,
      nodes: refs.nodes,
      storages: refs.storages,
      pools: refs.pools,
      ...(cls.mass !== undefined ? { mass: cls.mass } : {}),
      ...(undetermined ? { undetermined } : {}),
    }),
  };
}

/** Resolves and checks a call against the contract; throws a TypeError with an actionable message. */
function check(args: Args): Checked {
  const method = args.method.toUpperCase();
  if (!isPveMethod(method)) throw new TypeError(`Unsupported method ${args.method}: use GET, POST, PUT or DELETE`);
  const match = findEndpoint(method, args.path);
  if (!match) {
    const other = matchPath(args.path);
    if (other) {
      throw new TypeError(
        `Cannot ${method} ${args.path}: that path (${other.template}) only accepts ${
          [...other.methods.keys()].join(", ")
        }`,
      );
    }
    throw new TypeError(
      `Cannot ${method} ${args.path}: no such endpoint in the Proxmox VE 9.1 API schema; check the path (no /api2/json prefix)`,
    );
  }
  const { endpoint, pathParams } = match;
  const params: Record<string, PveParamValue> = {};
  for (const [k, v] of Object.entries(args.params ?? {})) {
    if (k in pathParams) {
      if (String(v) !== pathParams[k]) {
        throw new TypeError(`Cannot ${method} ${args.path}: parameter ${k} contradicts the path (${pathParams[k]})`);
      }
      continue;
    }
    params[k] = v;
  }
  const { cls, effect } = rawEffect(method, endpoint, pathParams, params);
  if (effect.refuse !== undefined) throw new TypeError(effect.refuse);
  const errors = validateParams(endpoint, { ...params, ...pathParams });
  const names = Object.keys(errors);
  if (names.length) {
    const list = names.slice(0, 10).map((n) => `${n}: ${errors[n]}`).join("; ");
    throw new TypeError(`Invalid parameters for ${method} ${endpoint.path}, nothing was sent: ${list}`);
  }
  const path = "/" +
    endpoint.path.split("/").filter(Boolean).map((seg) =>
      seg.startsWith("{") ? encodeURIComponent(pathParams[seg.slice(1, -1)] ?? "") : seg
    ).join("/");
  return { method, endpoint, path, pathParams, params, cls, effect };
}

/**
 * Refuses URLs and hosts PVE would fetch from that are loopback, link-local or cloud metadata addresses, unless the
 * operator allows them (`policy.allowInternalUrls`).
 */
function checkFetch(c: Checked, ctx: ToolContext): void {
  if (ctx.allowInternalUrls === true) return;
  for (const name of c.cls.fetches) {
    const value = c.params[name];
    if (typeof value !== "string") continue;
    const why = name === "url" || name === "directory" ? internalUrl(value) : internalHostRef(value);
    if (why !== undefined) {
      throw new TypeError(
        `Cannot ${c.method} ${c.endpoint.path}: ${name} points at an internal address (${why}); PVE would fetch ` +
          "it from inside the cluster. The operator can allow this with PROXMOX_MCP_ALLOW_INTERNAL_URLS=true",
      );
    }
  }
}

/** The credential a raw call uses: reads with the read credential, everything else with the write credential. */
function apiFor(ctx: ToolContext, method: PveMethod): PveApi {
  return method === "GET" ? ctx.pve : ctx.pveWrite;
}

/** Refuses endpoints that do not accept API tokens when the credential is one (unknown counts as a token). */
function checkToken(c: Checked, api: PveApi): void {
  const kind = (api as { authKind?: string }).authKind;
  if (!c.endpoint.allowToken && kind !== "ticket") {
    throw new TypeError(
      `Cannot ${c.method} ${c.endpoint.path}: Proxmox VE refuses API tokens on this endpoint (allowtoken: 0), and ` +
        "this server authenticates with an API token. It needs a password login of the user itself.",
    );
  }
}

function describeParams(path: string, params: Record<string, PveParamValue>): string {
  const parts = Object.entries(params).map(([k, v]) =>
    isSecretKey(k, { tool: "pve_api", path })
      ? `${k}=(hidden)`
      : `${k}=${cleanText(Array.isArray(v) ? v.join(",") : String(v), 80)}`
  );
  return parts.length ? parts.join(", ") : "no parameters";
}

/** What else a plan should name: the other guests, storages, nodes and pools the call touches. */
function touches(e: Effect): string {
  const parts = [
    e.guests.length ? `guests ${e.guests.map((g) => `${g.vmid} (${g.role})`).join(", ")}` : "",
    e.storages.length ? `storages ${e.storages.join(", ")}` : "",
    e.nodes.length ? `nodes ${e.nodes.join(", ")}` : "",
    e.pools.length ? `pools ${e.pools.join(", ")}` : "",
    e.mass ?? "",
  ].filter((p) => p !== "").map((p) => cleanText(p, 300));
  return parts.length ? `; touches ${parts.join("; ")}` : "";
}

/** The effect of a raw call; unknown endpoints, invalid parameters and refused calls are refused with the reason. */
function effectOf(args: Args): Effect {
  try {
    return check(args).effect;
  } catch (e) {
    const why = e instanceof Error ? e.message : "invalid raw call";
    return effect({ cls: args.method === "GET" ? "read" : "destructive", why, refuse: why });
  }
}

/** `pve_api`. */
export const pveApi = defineTool({
  name: "pve_api",
  title: "Call a Proxmox VE API endpoint",
  description: "Call any PVE API endpoint (path under /api2/json) when no specific tool fits. Checked against the " +
    "official schema before sending; method+path decide the mode needed (GET=read). Answers capped.",
  toolset: "raw",
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  // What reads need; a write needs the privileges of the endpoint it calls (PVE checks them: nothing is widened here).
  privileges: ["Sys.Audit", "VM.Audit", "Datastore.Audit"],
  input: Input,
  output: Output,
  textCaps: { data_json: RAW_MAX_CHARS },
  readView: {
    actions: ["GET"],
    field: "method",
    privileges: ["Sys.Audit", "VM.Audit", "Datastore.Audit"],
    title: "Read a Proxmox VE API endpoint",
    description: "Read any PVE API endpoint (GET, path under /api2/json) when no specific tool fits. Checked " +
      "against the official schema before sending. Answers capped.",
  },
  effect: effectOf,
  async plan(args, ctx): Promise<ChangePlan> {
    const c = check(args);
    checkToken(c, apiFor(ctx, c.method));
    checkFetch(c, ctx);
    const cls = c.cls;
    const vmid = c.effect.guests.find((g) => g.role === "target" || g.role === "source")?.vmid;
    let target = `${c.method} ${c.path}`;
    let current = "not looked up (no single guest is named)";
    if (vmid !== undefined) {
      try {
        const g = await ctx.resolveGuest(vmid);
        target = `${g.type} ${g.vmid} "${cleanText(g.name, 60)}" on ${g.node} (${c.method} ${c.path})`;
        current = `${g.status}${g.template ? ", template" : ""}${g.tags.length ? `, tags ${g.tags.join(";")}` : ""}`;
      } catch (e) {
        const why = e instanceof PveError ? e.kind : "";
        current = why === "not_visible"
          ? `guest ${vmid} exists but is not visible to this token`
          : why === "not_found"
          ? `guest ${vmid} not found in the cluster`
          : `guest ${vmid} could not be looked up`;
      }
    }
    return {
      action: `${c.method} ${c.endpoint.path}`,
      target,
      current,
      effect: `${cls.why}; ${describeParams(c.endpoint.path, c.params)}${touches(c.effect)}`,
    };
  },
  async handler(args, ctx): Promise<Out> {
    const c = check(args);
    const api = apiFor(ctx, c.method);
    checkToken(c, api);
    checkFetch(c, ctx);
    const res = await api.request<unknown>({
      method: c.method,
      path: c.path,
      ...(Object.keys(c.params).length ? { params: c.params } : {}),
      signal: ctx.signal,
    });
    const out: Out = { method: c.method, path: c.path, truncated: false, untrusted: true };
    if (c.method !== "GET" && isUpid(res.data)) {
      ctx.noteTask(res.data);
      out.upid = res.data;
    }
    // Stored credentials PVE hands back to privileged readers never reach the model (the same classifier as the
    // audit log's); then the one cleaner (the pipeline applies it again): the size decision needs the capped data.
    const data = cleanDeep(hideSecretValues(res.data, { tool: "pve_api", path: c.endpoint.path }));
    const json = JSON.stringify(data) ?? "null";
    if (json.length > RAW_MAX_CHARS) {
      out.data_json = json.slice(0, RAW_MAX_CHARS);
      out.truncated = true;
    } else {
      out.data = data;
    }
    if (res.total !== undefined) out.total = res.total;
    return out;
  },
  text(out) {
    const head = `${out.method} ${out.path}` + (out.upid ? ` started task ${out.upid}` : "") +
      (out.total !== undefined ? ` (total ${out.total})` : "") +
      (out.truncated ? ` (answer cut at ${RAW_MAX_CHARS} characters)` : "") + " [untrusted data from the cluster]";
    const body = out.data_json ?? JSON.stringify(out.data) ?? "null";
    return `${head}\n${body.length > TEXT_MAX_CHARS ? `${body.slice(0, TEXT_MAX_CHARS)}…` : body}`;
  },
});
