/**
 * An independent check of requests against the official schema itself (../shared/pve-api/apidata.json), written
 * separately from src/pve/contract.ts so a bug in the contract or its validator cannot hide a bad request. Used by the
 * e2e referee (tests/referee/requests.ts: every request the simulator receives in an end-to-end stack) and the fuzzer.
 * It checks what PVE checks first: the endpoint exists, no unknown or missing parameters, types, enums, ranges,
 * lengths, patterns, a few named formats, and the keys and typed values of inline property strings.
 * @module
 */

/** apidata.json's schema of one parameter (the parts we check). */
interface ApiParam {
  type?: string | string[];
  optional?: number;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string | Record<string, ApiParam & { alias?: string; keyAlias?: string; default_key?: number }>;
  alias?: string;
  keyAlias?: string;
  default_key?: number;
}

interface ApiMethod {
  parameters?: { properties?: Record<string, ApiParam>; additionalProperties?: number };
}

interface ApiNode {
  path: string;
  info?: Record<string, ApiMethod>;
  children?: ApiNode[];
}

/** Where the shared schema lives (absent in a fresh clone). */
export const APIDATA_URL = new URL("../../../shared/pve-api/apidata.json", import.meta.url);

/** True when the shared schema is present. */
export function apidataPresent(): boolean {
  try {
    return Deno.statSync(APIDATA_URL).isFile;
  } catch {
    return false;
  }
}

const NAMED: Record<string, RegExp> = {
  "pve-node": /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/,
  "pve-vmid": /^\d+$/,
  "pve-storage-id": /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i,
  "pve-configid": /^[a-z][a-z0-9_-]+$/i,
  "pve-poolid": /^[A-Za-z0-9_\-.]+$/,
  "pve-userid": /^[^\s:/]+@[^\s:/]+$/,
  "mac-addr": /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/,
  "pve-volume-id": /^[a-z][a-z0-9\-_.]*[a-z0-9]:.+$/i,
  // An empty list is accepted (split into no tags).
  // Firewall addresses: an IP or CIDR (v4/v6), or an alias name (optionally dc/ or guest/ scoped).
  IPorCIDRorAlias:
    /^((\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?|[0-9a-fA-F]*:[0-9a-fA-F:.]*(\/\d{1,3})?|((dc|guest)\/)?[A-Za-z][A-Za-z0-9_-]+)$/,
  IPorCIDR: /^((\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?|[0-9a-fA-F]*:[0-9a-fA-F:.]*(\/\d{1,3})?)$/,
  CIDR: /^((\d{1,3}\.){3}\d{1,3}\/\d{1,2}|[0-9a-fA-F]*:[0-9a-fA-F:.]*\/\d{1,3})$/,
  "pve-tag-list": /^([a-zA-Z0-9_][a-zA-Z0-9_\-+.]*([;, ]+[a-zA-Z0-9_][a-zA-Z0-9_\-+.]*)*)?$/,
  "pve-realm": /^[A-Za-z][A-Za-z0-9.\-_]+$/,
  "pve-iface": /^[a-zA-Z][a-zA-Z0-9_]{1,20}([:.]\d+)?$/,
  "dns-name": /^(([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)\.)*([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)$/,
  ipv4: /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/,
  ipv6: /^[0-9a-fA-F]*:[0-9a-fA-F:.]*$/,
  ip: /^((\d{1,3}\.){3}\d{1,3}|[0-9a-fA-F]*:[0-9a-fA-F:.]*)$/,
};

/** List formats (PVE's `split_list`: items separated by `,`, `;` or white space), by the format of one item. */
const LISTS: Record<string, string> = {
  "pve-vmid-list": "pve-vmid",
  "pve-node-list": "pve-node",
  "pve-storage-id-list": "pve-storage-id",
  "pve-configid-list": "pve-configid",
};

let loaded: Promise<ApidataChecker> | undefined;

/** The official schema, loaded once, indexed by template for path matching. */
export class ApidataChecker {
  readonly #templates: { segs: string[]; methods: Record<string, ApiMethod> }[] = [];

  constructor(tree: ApiNode[]) {
    const walk = (n: ApiNode) => {
      if (n.info) this.#templates.push({ segs: n.path.split("/").filter(Boolean), methods: n.info });
      n.children?.forEach(walk);
    };
    tree.forEach(walk);
  }

  /** Loads ../shared/pve-api/apidata.json (once per process). */
  static load(): Promise<ApidataChecker> {
    loaded ??= Deno.readTextFile(APIDATA_URL).then((text) => new ApidataChecker(JSON.parse(text)));
    return loaded;
  }

  /** Finds the endpoint; literal segments win over `{param}` ones, as in PVE's router. */
  #find(method: string, path: string): { info: ApiMethod; pathParams: Record<string, string> } | undefined {
    let segs: string[];
    try {
      segs = path.split("/").filter(Boolean).map(decodeURIComponent);
    } catch {
      return undefined;
    }
    // Best match: most literal segments, then an exact segment count over a trailing parameter spanning several,
    // then the longer template (`/ipset/{name}/{cidr}` over `/ipset/{name}` for `…/ipset/a/fd00::/64`).
    let best:
      | { info: ApiMethod; pathParams: Record<string, string>; literals: number; exact: boolean; length: number }
      | undefined;
    for (const t of this.#templates) {
      const info = t.methods[method];
      if (!info) continue;
      const last = t.segs[t.segs.length - 1] ?? "";
      // A trailing {param} (volume ids) may span several segments.
      const spans = t.segs.length < segs.length && last.startsWith("{");
      if (t.segs.length !== segs.length && !spans) continue;
      const pathParams: Record<string, string> = {};
      let literals = 0;
      let ok = true;
      for (let i = 0; i < t.segs.length && ok; i++) {
        const ts = t.segs[i]!;
        if (ts.startsWith("{")) {
          pathParams[ts.slice(1, -1)] = i === t.segs.length - 1 ? segs.slice(i).join("/") : segs[i]!;
        } else if (ts === segs[i]) literals++;
        else ok = false;
      }
      const exact = t.segs.length === segs.length;
      const better = !best || literals > best.literals ||
        (literals === best.literals && (exact !== best.exact ? exact : t.segs.length > best.length));
      if (ok && better) best = { info, pathParams, literals, exact, length: t.segs.length };
    }
    return best;
  }

  /**
   * Problems of one request (empty when PVE would accept its parameters).
   * @param opaque names present whose values cannot be judged (e.g. redacted secrets): only their names are checked
   */
  check(
    method: string,
    path: string,
    params: Record<string, unknown>,
    opaque: ReadonlySet<string> = new Set(),
  ): string[] {
    const found = this.#find(method, path);
    if (!found) return [`${method} ${path}: no such endpoint in apidata.json`];
    const props = found.info.parameters?.properties ?? {};
    const all: Record<string, unknown> = { ...params, ...found.pathParams };
    const problems: string[] = [];
    for (const [name, value] of Object.entries(all)) {
      if (value === undefined || value === null || name === "_dc") continue;
      const spec = props[name] ?? props[name.replace(/\d+$/, "[n]")];
      if (!spec) {
        if (found.info.parameters?.additionalProperties !== 1) problems.push(`${name}: not in the schema`);
        continue;
      }
      const p = opaque.has(name) ? undefined : checkValue(spec, value);
      if (p) problems.push(`${name}: ${p}`);
    }
    for (const [name, spec] of Object.entries(props)) {
      if (spec.optional !== 1 && !name.includes("[n]") && (all[name] === undefined || all[name] === null)) {
        problems.push(`${name}: required but missing`);
      }
    }
    return problems.map((p) => `${method} ${path}: ${p}`);
  }
}

function checkScalar(spec: ApiParam, raw: unknown): string | undefined {
  const types = spec.type === undefined ? ["string"] : Array.isArray(spec.type) ? spec.type : [spec.type];
  const s = typeof raw === "string"
    ? raw
    : typeof raw === "number" || typeof raw === "boolean"
    ? String(raw)
    : undefined;
  if (types.includes("array") || types.includes("object") || types.includes("any")) return undefined;
  if (s === undefined) return `expected a ${types.join("|")}, got ${typeof raw}`;
  if (types.includes("boolean")) {
    return /^(0|1|true|false|yes|no|on|off)$/i.test(s) ? undefined : `not a boolean: ${s.slice(0, 40)}`;
  }
  if (types.includes("integer") || types.includes("number")) {
    const re = types.includes("integer") ? /^[+-]?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
    if (!re.test(s)) return `not a ${types.join("|")}: ${s.slice(0, 40)}`;
    const n = Number(s);
    if (spec.minimum !== undefined && n < spec.minimum) return `${n} below the minimum ${spec.minimum}`;
    if (spec.maximum !== undefined && n > spec.maximum) return `${n} above the maximum ${spec.maximum}`;
    return undefined;
  }
  if (spec.enum && !spec.enum.includes(s)) return `"${s.slice(0, 40)}" not one of ${spec.enum.join(", ")}`;
  if (spec.maxLength !== undefined && s.length > spec.maxLength) return `longer than ${spec.maxLength}`;
  if (spec.minLength !== undefined && s.length < spec.minLength) return `shorter than ${spec.minLength}`;
  if (spec.pattern) {
    try {
      if (!new RegExp(`^(?:${spec.pattern})$`).test(s)) return `"${s.slice(0, 40)}" does not match ${spec.pattern}`;
    } catch { /* a Perl-only pattern: PVE stays the referee */ }
  }
  if (typeof spec.format === "string") {
    const item = LISTS[spec.format];
    const re = NAMED[item ?? spec.format];
    const values = item ? s.split(/[;,\s]+/).filter(Boolean) : [s];
    const bad = re ? values.find((v) => !re.test(v)) : undefined;
    if (bad !== undefined) return `"${bad.slice(0, 40)}" is not a valid ${item ?? spec.format}`;
  } else if (spec.format) {
    return checkPropertyString(spec.format, s);
  }
  return undefined;
}

function checkValue(spec: ApiParam, value: unknown): string | undefined {
  if (Array.isArray(value)) {
    for (const v of value) {
      const p = checkScalar(spec, v);
      if (p) return p;
    }
    return undefined;
  }
  return checkScalar(spec, value);
}

/** Checks an inline property string (`key=value,...`): known keys, a bare value only for the default key, types. */
function checkPropertyString(format: Record<string, ApiParam>, s: string): string | undefined {
  const defaultKey = Object.entries(format).find(([, v]) => v.default_key === 1)?.[0];
  const seen = new Set<string>();
  for (const part of s.split(",")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    let key = eq < 0 ? defaultKey : part.slice(0, eq);
    const value = eq < 0 ? part : part.slice(eq + 1);
    if (key === undefined) {
      // e.g. net0 `virtio=AA:BB:..` keys are model names (keyAlias); a bare value needs a default key.
      return `bare value "${part.slice(0, 40)}" but the property string has no default key`;
    }
    let spec = format[key];
    if (!spec) return `unknown key "${key.slice(0, 40)}" in a property string`;
    if (spec.alias) {
      key = spec.alias;
      spec = format[key];
    }
    if (spec?.keyAlias !== undefined) continue;
    if (seen.has(key)) return `key "${key}" given twice in a property string`;
    seen.add(key);
    let p: string | undefined;
    if (spec) {
      const { format: f, ...rest } = spec;
      p = checkScalar(typeof f === "string" ? { ...rest, format: f } : rest, value);
    }
    if (p) return `${key}: ${p}`;
  }
  return undefined;
}
