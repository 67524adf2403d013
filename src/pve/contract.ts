/**
 * The PVE endpoint contract: every method + path of the Proxmox VE 9.1 API with its parameters' names, types and
 * limits, whether API tokens are allowed, whether it answers with a task UPID, and its permission check. Derived from
 * the official schema by scripts/gen_contract.ts (`deno task gen:contract`); see that file for the JSON shape.
 *
 * Parameter checks follow PVE's own validator (pve-common JSONSchema.pm) and use its wording, so a simulator or a tool
 * can reject bad input the way PVE does. Named formats are checked where that is cheap; Proxmox stays the referee.
 * @module
 */
import raw from "./contract.json" with { type: "json" };
import type { PveMethod } from "./types.ts";
import { checkValue, type ParamSpec, type ParamType } from "./contract_check.ts";

export type { ParamSpec, ParamType } from "./contract_check.ts";

/** (contract.json) One compact parameter entry. */
export interface CompactParam {
  t?: string | string[];
  o?: 1;
  e?: string[];
  min?: number;
  max?: number;
  minLen?: number;
  maxLen?: number;
  re?: string;
  f?: string;
  ps?: { k: string[]; d?: string; f?: Record<string, string> };
  items?: CompactParam;
  req?: string;
  dv?: string | number | boolean;
}

/** (contract.json) Compact permission summary. */
export type CompactPerm =
  | "all"
  | "world"
  | "root"
  | { path: string; privs: string[]; any?: 1 }
  | { and: CompactPerm[] }
  | { or: CompactPerm[] }
  | { special: string; privs?: string[]; path?: string };

/** (contract.json) One compact endpoint entry. */
export interface CompactEndpoint {
  p?: Record<string, CompactParam>;
  tok?: 0;
  upid?: 1;
  perm?: CompactPerm;
  proxy?: string;
  extra?: 1;
}

/** (contract.json) The whole file. */
export interface CompactContract {
  about: string;
  endpoints: Record<string, CompactEndpoint>;
}

/** Permission check of an endpoint (from the schema's `permissions`). */
export type Permission =
  | { kind: "all" } // any authenticated user; the handler filters what it returns
  | { kind: "world" } // no authentication needed
  | { kind: "root" } // no permissions declared: root@pam only
  | { kind: "privs"; path: string; privs: string[]; any: boolean }
  | { kind: "and" | "or"; checks: Permission[] }
  | { kind: "special"; name: string; privs?: string[]; path?: string };

/** One endpoint of the contract. */
export interface Endpoint {
  method: PveMethod;
  /** Path template, e.g. `/nodes/{node}/qemu/{vmid}/status/current`. */
  path: string;
  params: Readonly<Record<string, ParamSpec>>;
  /** Names of the `{param}` segments, in order. */
  pathParams: readonly string[];
  /** False when unknown parameters are rejected (almost always). */
  additionalParams: boolean;
  /** False when API tokens are refused (`allowtoken: 0`): a ticket is needed. */
  allowToken: boolean;
  /** True when a successful call answers with a task UPID (some, e.g. `POST .../config`, may also answer null). */
  returnsUpid: boolean;
  permission: Permission;
  /** Parameter naming the node the request is forwarded to (`proxyto`), usually `node`. */
  proxyTo?: string;
}

/** Result of {@linkcode findEndpoint}. */
export interface EndpointMatch {
  endpoint: Endpoint;
  /** Decoded values of the `{param}` segments. */
  pathParams: Record<string, string>;
}

const METHODS = new Set(["GET", "POST", "PUT", "DELETE"]);

function expandEnum(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const m = /^(.*)\[(\d+)\.\.(\d+)\]$/.exec(v);
    if (!m) out.push(v);
    else for (let i = Number(m[2]); i <= Number(m[3]); i++) out.push(`${m[1]}${i}`);
  }
  return out;
}

function param(c: CompactParam): ParamSpec {
  const p: ParamSpec = { type: (c.t ?? "string") as ParamType | ParamType[], optional: c.o === 1 };
  if (c.e) p.enum = expandEnum(c.e);
  if (c.min !== undefined) p.minimum = c.min;
  if (c.max !== undefined) p.maximum = c.max;
  if (c.minLen !== undefined) p.minLength = c.minLen;
  if (c.maxLen !== undefined) p.maxLength = c.maxLen;
  if (c.re !== undefined) p.pattern = c.re;
  if (c.f !== undefined) p.format = c.f;
  if (c.ps) {
    p.propertyString = c.ps.d === undefined ? { keys: c.ps.k } : { keys: c.ps.k, defaultKey: c.ps.d };
    if (c.ps.f) p.propertyString.formats = c.ps.f;
  }
  if (c.dv !== undefined) p.default = c.dv;
  if (c.items) p.items = param(c.items);
  if (c.req !== undefined) p.requires = c.req;
  return p;
}

function perm(c: CompactPerm | undefined): Permission {
  if (c === undefined || c === "root") return { kind: "root" };
  if (c === "all" || c === "world") return { kind: c };
  if ("and" in c) return { kind: "and", checks: c.and.map(perm) };
  if ("or" in c) return { kind: "or", checks: c.or.map(perm) };
  if ("special" in c) {
    const s: Permission = { kind: "special", name: c.special };
    if (c.privs) s.privs = c.privs;
    if (c.path) s.path = c.path;
    return s;
  }
  return { kind: "privs", path: c.path, privs: c.privs, any: c.any === 1 };
}

interface TrieNode {
  literal: Map<string, TrieNode>;
  param?: { name: string; node: TrieNode };
  template?: string;
  methods: Map<string, Endpoint>;
}

const newNode = (): TrieNode => ({ literal: new Map(), methods: new Map() });
interface ContractIndex {
  root: TrieNode;
  byKey: Map<string, Endpoint>;
  all: Endpoint[];
}
let built: ContractIndex | undefined;

/** The path trie and endpoint maps, built on first use (not at start-up: most sessions never need them). */
function index(): ContractIndex {
  if (built) return built;
  const root = newNode();
  const byKey = new Map<string, Endpoint>();
  const all: Endpoint[] = [];
  for (const [key, c] of Object.entries((raw as CompactContract).endpoints)) {
    const space = key.indexOf(" ");
    const method = key.slice(0, space) as PveMethod;
    const path = key.slice(space + 1);
    const segments = path.split("/").filter(Boolean);
    const params: Record<string, ParamSpec> = {};
    for (const [name, spec] of Object.entries(c.p ?? {})) params[name] = param(spec);
    const ep: Endpoint = {
      method,
      path,
      params,
      pathParams: segments.filter((s) => s.startsWith("{")).map((s) => s.slice(1, -1)),
      additionalParams: c.extra === 1,
      allowToken: c.tok !== 0,
      returnsUpid: c.upid === 1,
      permission: perm(c.perm),
    };
    if (c.proxy !== undefined) ep.proxyTo = c.proxy;
    let node = root;
    for (const seg of segments) {
      if (seg.startsWith("{")) {
        node.param ??= { name: seg.slice(1, -1), node: newNode() };
        node = node.param.node;
      } else {
        let next = node.literal.get(seg);
        if (!next) node.literal.set(seg, next = newNode());
        node = next;
      }
    }
    node.template = path;
    node.methods.set(method, ep);
    byKey.set(key, ep);
    all.push(ep);
  }
  return built = { root, byKey, all };
}

function walk(node: TrieNode, segs: string[], i: number, out: Record<string, string>): TrieNode | undefined {
  if (i === segs.length) return node.template !== undefined ? node : undefined;
  const seg = segs[i] as string;
  const lit = node.literal.get(seg);
  if (lit) {
    const hit = walk(lit, segs, i + 1, out);
    if (hit) return hit;
  }
  if (node.param) {
    const hit = walk(node.param.node, segs, i + 1, out);
    if (hit) {
      out[node.param.name] = seg;
      return hit;
    }
    // A trailing `{param}` may hold a value with unencoded slashes (volume ids such as local:iso/x.iso).
    const tail = node.param.node;
    if (tail.template !== undefined && tail.literal.size === 0 && !tail.param) {
      out[node.param.name] = segs.slice(i).join("/");
      return tail;
    }
  }
  return undefined;
}

/** Splits and percent-decodes a concrete path (no `/api2/json`, no query). Undefined on bad escapes. */
function segmentsOf(concretePath: string): string[] | undefined {
  try {
    return concretePath.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/**
 * Matches a concrete path against the contract's path templates, whatever the method.
 * @returns the template, its decoded path parameters and the endpoints by method; undefined for unknown paths.
 */
export function matchPath(
  concretePath: string,
): { template: string; pathParams: Record<string, string>; methods: ReadonlyMap<string, Endpoint> } | undefined {
  const segs = segmentsOf(concretePath);
  if (!segs) return undefined;
  const pathParams: Record<string, string> = {};
  const node = walk(index().root, segs, 0, pathParams);
  if (!node?.template) return undefined;
  return { template: node.template, pathParams, methods: node.methods };
}

/**
 * Finds the endpoint for a method and a concrete path such as `/nodes/pve1/tasks/UPID:pve1:...:/status`.
 * Segments are percent-decoded; a UPID's colons need no escaping.
 */
export function findEndpoint(method: string, concretePath: string): EndpointMatch | undefined {
  const m = matchPath(concretePath);
  const endpoint = m?.methods.get(method.toUpperCase());
  return m && endpoint ? { endpoint, pathParams: m.pathParams } : undefined;
}

/** The endpoint for a method and a path template (`/nodes/{node}/qemu`), if the schema has it. */
export function getEndpoint(method: string, template: string): Endpoint | undefined {
  return index().byKey.get(`${method.toUpperCase()} ${template}`);
}

/** Every endpoint, sorted by path then method. */
export function listEndpoints(): readonly Endpoint[] {
  return index().all;
}

/** True for the four methods the PVE API accepts. */
export function isPveMethod(method: string): method is PveMethod {
  return METHODS.has(method);
}

/** The spec of a parameter, resolving indexed names (`net0` → `net[n]`). */
export function paramSpec(endpoint: Endpoint, name: string): ParamSpec | undefined {
  const direct = endpoint.params[name];
  if (direct) return direct;
  const m = /^([a-z_-]+)(\d+)$/i.exec(name);
  return m && (m[2] === "0" || !m[2]?.startsWith("0")) ? endpoint.params[`${m[1]}[n]`] : undefined;
}

/**
 * Checks parameters the way PVE does before it runs a handler. Values are wire strings (form/query) or JSON values;
 * path parameters must be included. `undefined`/`null` values count as absent; `_dc` is ignored as PVE does.
 * @returns PVE's `errors` map (parameter → message); empty when everything is valid.
 */
export function validateParams(endpoint: Endpoint, params: Record<string, unknown>): Record<string, string> {
  const errors: Record<string, string> = {};
  const present = new Set<string>();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || name === "_dc") continue;
    present.add(name);
    const spec = paramSpec(endpoint, name);
    if (!spec) {
      if (!endpoint.additionalParams) {
        errors[name] = "property is not defined in schema and the schema does not allow additional properties";
      }
      continue;
    }
    const msg = checkValue(spec, value, name, errors);
    if (msg !== undefined) errors[name] = msg;
  }
  for (const [name, spec] of Object.entries(endpoint.params)) {
    if (!spec.optional && !name.endsWith("[n]") && !present.has(name)) {
      errors[name] = "property is missing and it is not optional";
    }
  }
  for (const name of present) {
    const req = paramSpec(endpoint, name)?.requires;
    if (req !== undefined && !present.has(req) && errors[req] === undefined) {
      errors[req] = `missing property - '${name}' requires this property`;
    }
  }
  return errors;
}

/**
 * Checks a whole request: the path must match an endpoint of the contract and the parameters (query/body, merged with
 * the path's own) must validate. Use it to check what a tool is about to send.
 */
export function checkRequest(
  method: string,
  concretePath: string,
  params: Record<string, unknown> = {},
): { endpoint?: Endpoint; errors: Record<string, string> } {
  const m = findEndpoint(method, concretePath);
  if (!m) return { errors: { _path: `Method '${method.toUpperCase()} ${concretePath}' not implemented` } };
  const errors = validateParams(m.endpoint, { ...params, ...m.pathParams });
  for (const [k, v] of Object.entries(m.pathParams)) {
    const given = params[k];
    if (given !== undefined && given !== null && String(given) !== v) {
      errors[k] = "duplicate parameter (already defined in URI) with conflicting values!";
    }
  }
  return { endpoint: m.endpoint, errors };
}
