/**
 * Derives the compact endpoint contract (src/pve/contract.json) from the official PVE API schema
 * (../shared/pve-api/apidata.json). Only names, types and limits are kept: no descriptions, no prose.
 *
 * Usage: `deno task gen:contract [path/to/apidata.json]`
 *
 * Compact JSON shape (read by src/pve/contract.ts, which documents the normalised form):
 * - `endpoints["METHOD /path/{param}"]` = `{ p?: {name: Param}, tok?: 0, upid?: 1, perm?: Perm, proxy?: string, extra?: 1 }`
 *   - `tok: 0`  the endpoint refuses API tokens (`allowtoken: 0`); absent = tokens allowed.
 *   - `upid: 1` the endpoint starts a worker and answers with a task UPID (rule in {@linkcode returnsUpid}).
 *   - `extra: 1` unknown parameters are not rejected (schema has no `additionalProperties: 0`).
 *   - `proxy`   the `proxyto` parameter (the node the request is forwarded to).
 * - `Param` = `{ t?: type (absent = "string"), o?: 1 optional, e?: enum (`mp[0..255]` = mp0 ... mp255), min?, max?, minLen?, maxLen?, re?: JS regex
 *   source (anchored by the reader), f?: named format, ps?: {k: keys, d?: default key, f?: {key: named format}}
 *   inline property string, items?: Param, req?: required companion parameter, dv?: the schema's default value }`; a name like `net[n]` stands for `net0`, `net1`, ...
 * - `Perm` = `"all"` (any authenticated user; the handler filters), `"world"` (no login needed), `"root"` (the schema
 *   declares no permissions: root@pam only), `{path, privs, any?: 1}`, `{and: Perm[]}`, `{or: Perm[]}`, or
 *   `{special: "userid-group" | "perm-modify", privs?, path?}` (checks the simulator cannot express exactly).
 * @module
 */

import type { CompactContract, CompactEndpoint, CompactParam, CompactPerm } from "../src/pve/contract.ts";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Non-GET endpoints whose `returns` is a plain string but which do NOT start a worker (they return a value).
 * Every other non-GET endpoint returning `{type: "string"}` without format/pattern/enum returns a task UPID.
 */
export const NOT_UPID = new Set([
  "POST /nodes/{node}/qemu/{vmid}/monitor", // monitor command output
  "POST /nodes/{node}/storage/{storage}/content", // allocated volume id
  "POST /cluster/sdn/lock", // lock token
  "POST /access/openid/auth-url", // redirection URL
]);

/** The rule for `upid: 1`: a write whose result is a bare string (no format/pattern/enum), minus {@linkcode NOT_UPID}. */
export function returnsUpid(method: string, path: string, returns: Json | undefined): boolean {
  if (method === "GET" || !isObj(returns) || returns.type !== "string") return false;
  if (returns.format !== undefined || returns.pattern !== undefined || returns.enum !== undefined) return false;
  return !NOT_UPID.has(`${method} ${path}`);
}

/** Perl regex (as PVE writes it) to JavaScript source: `(?^:` / `(?^i:` groups and `{,n}` quantifiers. */
export function perlToJsRegex(src: string): string {
  return src.replace(/\(\?\^([a-z]*):/g, (_m, f: string) => (f ? `(?${f}:` : "(?:")).replace(/\{,(\d+)\}/g, "{0,$1}");
}

/**
 * Shortens enums like `mp0, mp1, ..., mp255` to `mp[0..255]` (runs of 4+ consecutive indexes with one prefix);
 * src/pve/contract.ts expands them again. Throws if a real enum value could be mistaken for a range.
 */
export function compressEnum(values: string[]): string[] {
  if (values.some((v) => /\[\d+\.\.\d+\]$/.test(v))) throw new Error(`Enum value looks like a range: ${values}`);
  const out: string[] = [];
  for (let i = 0; i < values.length;) {
    const m = /^(.*?)(0|[1-9]\d*)$/.exec(values[i] ?? "");
    let j = i + 1;
    if (m) {
      const [, prefix = "", first = "0"] = m;
      while (j < values.length && values[j] === `${prefix}${Number(first) + (j - i)}`) j++;
      if (j - i >= 4) {
        out.push(`${prefix}[${first}..${Number(first) + (j - i) - 1}]`);
        i = j;
        continue;
      }
    }
    out.push(values[i] ?? "");
    i++;
  }
  return out;
}

function num(v: Json | undefined): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function compactParam(s: Obj): CompactParam {
  const out: CompactParam = {};
  let type = s.type;
  if (type === undefined && Array.isArray(s.oneOf)) {
    const types = [...new Set(s.oneOf.filter(isObj).map((o) => o.type).filter((t) => typeof t === "string"))];
    if (types.length === 1) type = types[0] as string;
  }
  if (typeof type === "string" && type !== "string") out.t = type;
  else if (Array.isArray(type)) out.t = type.filter((t): t is string => typeof t === "string");
  else if (type === undefined) out.t = "any";
  if (s.optional === 1 || s.optional === true) out.o = 1;
  if (Array.isArray(s.enum)) out.e = compressEnum(s.enum.map(String));
  const min = num(s.minimum), max = num(s.maximum), minLen = num(s.minLength), maxLen = num(s.maxLength);
  if (min !== undefined) out.min = min;
  if (max !== undefined) out.max = max;
  if (minLen !== undefined) out.minLen = minLen;
  if (maxLen !== undefined) out.maxLen = maxLen;
  if (typeof s.pattern === "string") {
    const re = perlToJsRegex(s.pattern);
    new RegExp(`^(?:${re})$`); // throws on a pattern JavaScript cannot compile: fix perlToJsRegex then
    out.re = re;
  }
  if (typeof s.format === "string") out.f = s.format;
  else if (isObj(s.format)) {
    const keys = Object.keys(s.format).sort();
    const d = keys.find((k) => {
      const ks = (s.format as Obj)[k];
      return isObj(ks) && (ks.default_key === 1 || ks.default_key === true);
    });
    const fmt: Record<string, string> = {};
    for (const k of keys) {
      const ks = (s.format as Obj)[k];
      if (isObj(ks) && typeof ks.format === "string") fmt[k] = ks.format;
    }
    out.ps = d ? { k: keys, d } : { k: keys };
    if (Object.keys(fmt).length) out.ps.f = fmt;
  }
  const dv = s.default;
  // Real default values only: some schema entries describe the default in prose ("depends on …"); none is kept.
  if (typeof dv === "number" || typeof dv === "boolean" || (typeof dv === "string" && !/\s/.test(dv))) out.dv = dv;
  if (isObj(s.items)) out.items = compactParam(s.items);
  if (typeof s.requires === "string") out.req = s.requires;
  return out;
}

function compactPerm(check: Json): CompactPerm | undefined {
  if (!Array.isArray(check) || typeof check[0] !== "string") return undefined;
  const [kind, ...rest] = check;
  if (kind === "perm" && typeof rest[0] === "string" && Array.isArray(rest[1])) {
    const privs = rest[1].map(String);
    const extra = rest.slice(2);
    const anyIdx = extra.indexOf("any");
    const any = anyIdx >= 0 && (extra[anyIdx + 1] === 1 || extra[anyIdx + 1] === true);
    return any && privs.length > 1 ? { path: rest[0], privs, any: 1 } : { path: rest[0], privs };
  }
  if (kind === "and" || kind === "or") {
    const parts = rest.map(compactPerm);
    if (parts.some((p) => p === undefined)) return undefined;
    return kind === "and" ? { and: parts as CompactPerm[] } : { or: parts as CompactPerm[] };
  }
  if (kind === "userid-group" && Array.isArray(rest[0])) return { special: kind, privs: rest[0].map(String) };
  if (kind === "perm-modify" && typeof rest[0] === "string") return { special: kind, path: rest[0] };
  return { special: kind };
}

function permission(perms: Json | undefined): CompactPerm {
  if (!isObj(perms)) return "root";
  if (perms.check !== undefined) return compactPerm(perms.check) ?? { special: "unknown" };
  if (perms.user === "world") return "world";
  if (perms.user === "all") return "all";
  return "root";
}

/** Builds the compact contract from the parsed apidata.json (an array of tree nodes). */
export function buildContract(apidata: Json): CompactContract {
  const found: [string, CompactEndpoint][] = [];
  const walk = (node: Json) => {
    if (!isObj(node)) return;
    const path = String(node.path);
    if (isObj(node.info)) {
      for (const [method, info] of Object.entries(node.info)) {
        if (!isObj(info)) continue;
        const ep: CompactEndpoint = {};
        const params = isObj(info.parameters) ? info.parameters : {};
        if (isObj(params.properties)) {
          const p: Record<string, CompactParam> = {};
          for (const name of Object.keys(params.properties).sort()) {
            const spec = params.properties[name];
            if (isObj(spec)) p[name] = compactParam(spec);
          }
          if (Object.keys(p).length) ep.p = p;
        }
        if (info.allowtoken === 0) ep.tok = 0;
        if (returnsUpid(method, path, info.returns)) ep.upid = 1;
        ep.perm = permission(info.permissions);
        if (typeof info.proxyto === "string") ep.proxy = info.proxyto;
        if (params.additionalProperties !== 0 && params.additionalProperties !== false) ep.extra = 1;
        found.push([`${method} ${path}`, ep]);
      }
    }
    if (Array.isArray(node.children)) node.children.forEach(walk);
  };
  if (Array.isArray(apidata)) apidata.forEach(walk);
  const key = (k: string) => {
    const i = k.indexOf(" ");
    return `${k.slice(i + 1)}\u0000${k.slice(0, i)}`;
  };
  found.sort((a, b) => (key(a[0]) < key(b[0]) ? -1 : key(a[0]) > key(b[0]) ? 1 : 0));
  return {
    about: "Derived by scripts/gen_contract.ts from the Proxmox VE 9.1 API schema " +
      "(pve-docs api-viewer/apidata.js): methods, paths, parameter names, types and limits only. Do not edit.",
    endpoints: Object.fromEntries(found),
  };
}

/** Serialises the contract with one endpoint per line (small, and diffs stay readable). */
export function serializeContract(c: CompactContract): string {
  const lines = Object.entries(c.endpoints).map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n  "about": ${JSON.stringify(c.about)},\n  "endpoints": {\n${lines.join(",\n")}\n  }\n}\n`;
}

/** Default location of the schema, relative to this repository. */
export const DEFAULT_APIDATA = new URL("../../shared/pve-api/apidata.json", import.meta.url);
/** Where the contract is written. */
export const CONTRACT_FILE = new URL("../src/pve/contract.json", import.meta.url);

if (import.meta.main) {
  const src = Deno.args[0] ?? DEFAULT_APIDATA;
  const apidata = JSON.parse(await Deno.readTextFile(src)) as Json;
  const contract = buildContract(apidata);
  const text = serializeContract(contract);
  await Deno.writeTextFile(CONTRACT_FILE, text);
  console.log(
    `Wrote ${CONTRACT_FILE.pathname}: ${Object.keys(contract.endpoints).length} endpoints, ` +
      `${new TextEncoder().encode(text).length} bytes`,
  );
}
