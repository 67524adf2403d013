/**
 * Value checks for the endpoint contract, in the order and wording of PVE's validator (pve-common JSONSchema.pm
 * `check_prop`): type, format, pattern, maxLength, minLength, maximum, minimum, enum.
 * @module
 */

/** Parameter types of the PVE schema (`any`: no type given). */
export type ParamType = "string" | "integer" | "number" | "boolean" | "array" | "object" | "null" | "any";

/** One parameter of an endpoint. */
export interface ParamSpec {
  type: ParamType | ParamType[];
  optional: boolean;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  /** Regex source (JavaScript), matched against the whole value. */
  pattern?: string;
  /** Named format such as `pve-node`, `pve-vmid`, `pve-configid-list`. */
  format?: string;
  /** Inline property string (`key=value,...`): its keys and the key a bare value belongs to. */
  propertyString?: { keys: string[]; defaultKey?: string; formats?: Record<string, string> };
  items?: ParamSpec;
  /** The schema's default, applied by PVE when the parameter is absent. */
  default?: string | number | boolean;
  /** Another parameter that must be present when this one is. */
  requires?: string;
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const DNS_LABEL = "[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?";
const DNS_LABEL_RE = new RegExp(`^${DNS_LABEL}$`);
const DNS_NAME = new RegExp(`^(${DNS_LABEL}\\.)*${DNS_LABEL}$`);
const TAG = /^[a-z0-9_][a-z0-9_\-+.]*$/i;
const STORAGE_ID = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;
const REALM = /^[A-Za-z][A-Za-z0-9.\-_]+$/;
const USER = /^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$/;
const TOKEN_NAME = /^[A-Za-z][A-Za-z0-9.\-_]+$/;
const CONTENT_TYPES = new Set(["images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import"]);

function isIpv6(v: string): boolean {
  if (!v.includes(":") || !/^[0-9a-fA-F:.]+$/.test(v)) return false;
  try {
    new URL(`http://[${v}]/`);
    return true;
  } catch {
    return false;
  }
}

function isCidr(v: string, ipv: 4 | 6 | 0): boolean {
  const m = /^(.+)\/(\d+)$/.exec(v);
  if (!m) return false;
  const bits = Number(m[2]);
  const addr = m[1] ?? "";
  if (ipv !== 6 && IPV4.test(addr)) return bits > 7 && bits <= 32;
  if (ipv !== 4 && isIpv6(addr)) return bits > 7 && bits <= 128;
  return false;
}

const userid = (v: string) => v.length <= 64 && USER.test(v);

/** PVE::Firewall addresses: an IP, or an IP with any prefix length (`IPorCIDR`); aliases may be dc/ or guest/ scoped. */
const FW_ALIAS = /^(?:(?:dc|guest)\/)?[A-Za-z][A-Za-z0-9\-_]+$/;
function isIpOrCidr(v: string): boolean {
  const m = /^(.+?)(?:\/(\d{1,3}))?$/.exec(v);
  const addr = m?.[1] ?? "";
  const bits = m?.[2] === undefined ? undefined : Number(m[2]);
  if (IPV4.test(addr)) return bits === undefined || bits <= 32;
  return isIpv6(addr) && (bits === undefined || bits <= 128);
}

/** Named formats checked cheaply: a test, and the message PVE gives (its verifiers' texts). */
const FORMATS: Record<string, (v: string) => string | undefined> = {
  "pve-node": (v) => (DNS_LABEL_RE.test(v) ? undefined : "value does not look like a valid node name"),
  "pve-vmid": (v) => (/^[1-9][0-9]{2,8}$/.test(v) ? undefined : "value does not look like a valid VM ID"),
  "pve-storage-id": (v) => (STORAGE_ID.test(v) ? undefined : `storage ID '${v}' contains illegal characters`),
  "pve-configid": (v) => (/^[a-z][a-z0-9_-]+$/i.test(v) ? undefined : `invalid configuration ID '${v}'`),
  // PVE::AccessControl verify_poolname: letters, digits, dot, dash, underscore.
  "pve-poolid": (v) => (/^[A-Za-z0-9.\-_]+$/.test(v) ? undefined : `pool name '${v}' contains invalid characters`),
  "pve-tag": (v) => (TAG.test(v) ? undefined : `invalid tag '${v}'`),
  "pve-iface": (
    v,
  ) => (/^[a-z][a-z0-9_]{1,20}([:.]\d+)?$/i.test(v) ? undefined : `invalid network interface name '${v}'`),
  "pve-realm": (v) => (REALM.test(v) ? undefined : `realm '${v}' contains illegal characters`),
  "pve-userid": (v) => (userid(v) ? undefined : `value '${v}' does not look like a valid user name`),
  "pve-tokenid": (v) => {
    const [user = "", token] = v.split("!");
    return userid(user) && (token === undefined || TOKEN_NAME.test(token)) ? undefined : `invalid token ID '${v}'`;
  },
  "pve-storage-content": (v) => (CONTENT_TYPES.has(v) ? undefined : `invalid content type '${v}'`),
  "pve-volume-id": (v) =>
    /^(?:[a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i.test(v) ? undefined : `unable to parse volume ID '${v}'`,
  "pve-task-status-type": (v) => (/^(ok|error|warning|unknown)$/i.test(v) ? undefined : `invalid status '${v}'`),
  "ipv4": (v) => (IPV4.test(v) ? undefined : "value does not look like a valid IPv4 address"),
  "ipv6": (v) => (isIpv6(v) ? undefined : "value does not look like a valid IPv6 address"),
  "ip": (v) => (IPV4.test(v) || isIpv6(v) ? undefined : "value does not look like a valid IP address"),
  "CIDRv4": (v) => (isCidr(v, 4) ? undefined : "value does not look like a valid IPv4 CIDR network"),
  "CIDRv6": (v) => (isCidr(v, 6) ? undefined : "value does not look like a valid IPv6 CIDR network"),
  "CIDR": (v) => (isCidr(v, 0) ? undefined : "value does not look like a valid CIDR network"),
  "IPorCIDR": (v) => (isIpOrCidr(v) ? undefined : "value does not look like a valid IP address or CIDR network"),
  "IPorCIDRorAlias": (v) =>
    isIpOrCidr(v) || FW_ALIAS.test(v) ? undefined : "value does not look like a valid IP address or CIDR network",
  "mac-addr": (
    v,
  ) => (/^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i.test(v) ? undefined : `value '${v}' is not a valid MAC`),
  "dns-name": (v) => (DNS_NAME.test(v) ? undefined : "value does not look like a valid DNS name"),
  "address": (v) =>
    IPV4.test(v) || isIpv6(v) || DNS_NAME.test(v) ? undefined : `value does not look like a valid address: ${v}`,
  "email": (v) =>
    /^[\w+\-~]+(\.[\w+\-~]+)*@[a-zA-Z0-9\-]+(\.[a-zA-Z0-9\-]+)*$/.test(v)
      ? undefined
      : "value does not look like a valid email address",
  "urlencoded": (v) => (/^[-%a-zA-Z0-9_.!~*'()]*$/.test(v) ? undefined : `invalid urlencoded string: ${v}`),
  "disk-size": (
    v,
  ) => (/^(\d+(\.\d+)?)([KMGT])?$/.test(v) ? undefined : `value does not look like a valid disk size: ${v}`),
};

/** Checks a named format; undefined = valid or not checked here. `-list` and `-opt` variants as PVE defines them. */
export function checkFormat(format: string, value: string): string | undefined {
  const direct = FORMATS[format];
  if (direct) return direct(value);
  const list = /^(.*)-a?list$/.exec(format);
  if (list?.[1]) {
    const base = FORMATS[list[1]];
    if (!base) return undefined;
    for (const item of value.split(/[\s,;\0]+/)) {
      if (item === "") continue;
      const msg = base(item);
      if (msg) return msg;
    }
    return undefined;
  }
  const opt = /^(.*)-opt$/.exec(format);
  if (opt?.[1] && value !== "") return FORMATS[opt[1]]?.(value);
  return undefined;
}

/** Checks an inline property string (`key=value,...`) for unknown, duplicate or missing keys. */
export function checkPropertyString(ps: { keys: string[]; defaultKey?: string }, value: string): string | undefined {
  const seen = new Set<string>();
  for (const part of value.split(",")) {
    if (/^\s*$/.test(part)) continue;
    const eq = part.indexOf("=");
    let key: string;
    if (eq > 0) {
      key = part.slice(0, eq);
      if (!ps.keys.includes(key)) return `invalid key in comma-separated list property: ${key}`;
    } else if (eq === -1) {
      if (ps.defaultKey === undefined) return "value without key, but schema does not define a default key";
      key = ps.defaultKey;
    } else {
      return "missing key in comma-separated list property";
    }
    if (seen.has(key)) return `duplicate key in comma-separated list property: ${key}`;
    seen.add(key);
  }
  return undefined;
}

const regexCache = new Map<string, RegExp>();
function fullMatch(pattern: string, value: string): boolean {
  let re = regexCache.get(pattern);
  if (!re) regexCache.set(pattern, re = new RegExp(`^(?:${pattern})$`));
  return re.test(value);
}

const IS_INTEGER = /^[+-]?\d+$/;
const IS_NUMBER = /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/;

/** Perl-ish name of a non-scalar value, as PVE's messages show it. */
function refName(v: unknown): string {
  if (Array.isArray(v)) return "ARRAY";
  if (typeof v === "boolean") return "JSON::PP::Boolean";
  return "HASH";
}

function scalarText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  return undefined;
}

/** One type check: undefined when `value` is of `type`, else PVE's message. */
function typeError(type: ParamType, value: unknown): string | undefined {
  switch (type) {
    case "any":
      return undefined;
    case "null":
      return "type check ('null') failed - value is not null";
    case "array":
      return Array.isArray(value) ? undefined : "type check ('array') failed";
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value)
        ? undefined
        : "type check ('object') failed";
    case "boolean":
      if (typeof value === "boolean" || value === 0 || value === 1 || value === "0" || value === "1") return undefined;
      break;
    case "integer": {
      const t = scalarText(value);
      if (t !== undefined && IS_INTEGER.test(t)) return undefined;
      break;
    }
    case "number": {
      const t = scalarText(value);
      if (t !== undefined && IS_NUMBER.test(t)) return undefined;
      break;
    }
    case "string":
      if (scalarText(value) !== undefined) return undefined;
      break;
  }
  const t = scalarText(value);
  return t === undefined
    ? `type check ('${type}') failed - got ${refName(value)}`
    : `type check ('${type}') failed - got '${t}'`;
}

/**
 * Checks one value against its spec. Returns the message for `name`, or undefined; errors of array items go straight
 * into `errors` as `name[i]`. Follows PVE's order: type, format, pattern, maxLength, minLength, maximum, minimum, enum.
 */
export function checkValue(
  spec: ParamSpec,
  value: unknown,
  name: string,
  errors: Record<string, string>,
): string | undefined {
  const types = Array.isArray(spec.type) ? spec.type : [spec.type];
  // PVE normalises legacy forms: one value for an array parameter is wrapped; an array for a `*-list` string is joined.
  if (types.includes("array") && !Array.isArray(value)) value = [value];
  if (Array.isArray(value) && !types.includes("array") && types.includes("string") && spec.format?.endsWith("-list")) {
    value = value.map(String).join(",");
  }
  const failures = types.map((t) => typeError(t, value));
  if (!failures.includes(undefined)) {
    return types.length === 1 ? failures[0] : `type check ('${types.join("|")}') failed`;
  }
  if (Array.isArray(value)) {
    if (spec.items) {
      value.forEach((item, i) => {
        const msg = checkValue(spec.items as ParamSpec, item, `${name}[${i}]`, errors);
        if (msg !== undefined) errors[`${name}[${i}]`] = msg;
      });
    }
    return undefined;
  }
  const text = scalarText(value) ?? (value === true ? "1" : value === false ? "0" : undefined);
  if (text === undefined) return undefined;
  if (spec.format !== undefined) {
    const msg = checkFormat(spec.format, text);
    if (msg !== undefined) return `invalid format - ${msg}\n`;
  } else if (spec.propertyString) {
    const msg = checkPropertyString(spec.propertyString, text);
    if (msg !== undefined) return `invalid format - ${msg}\n`;
  }
  if (spec.pattern !== undefined && !fullMatch(spec.pattern, text)) return "value does not match the regex pattern";
  if (spec.maxLength !== undefined && [...text].length > spec.maxLength) {
    return `value may only be ${spec.maxLength} characters long`;
  }
  if (spec.minLength !== undefined && [...text].length < spec.minLength) {
    return `value must be at least ${spec.minLength} characters long`;
  }
  if (IS_NUMBER.test(text)) {
    const n = Number(text);
    if (spec.maximum !== undefined && n > spec.maximum) return `value must have a maximum value of ${spec.maximum}`;
    if (spec.minimum !== undefined && n < spec.minimum) return `value must have a minimum value of ${spec.minimum}`;
  }
  if (spec.enum && !spec.enum.includes(text)) {
    return `value '${text}' does not have a value in the enumeration '${spec.enum.join(", ")}'`;
  }
  return undefined;
}
