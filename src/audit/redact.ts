/**
 * Redaction of tool arguments and free text before they reach the audit log: values under secret-looking keys
 * and secret-looking substrings are replaced, `secret://NAME` references are kept (they name, not hold, a secret).
 * Which keys are secret is decided by the one classifier, `guard/secret_keys.ts`.
 * @module
 */
import { isSecretKey, type SecretContext } from "../guard/secret_keys.ts";

/** The placeholder that replaces a removed value. */
export const REDACTED = "[redacted]";

const SECRET_REF = /^secret:\/\/[A-Za-z0-9_.\/-]{1,128}$/;

const VALUE_PATTERNS: [RegExp, string][] = [
  [/PVEAPIToken=[^\s"',;]+/gi, `PVEAPIToken=${REDACTED}`],
  [/PVEAuthCookie=[^\s"',;]+/gi, `PVEAuthCookie=${REDACTED}`],
  [/\bBearer\s+[A-Za-z0-9._~+\/=-]{8,}/gi, `Bearer ${REDACTED}`],
  [/\bpvemcp_[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, REDACTED],
  [/\benc:v1:[A-Za-z0-9+\/=_:.-]+/g, REDACTED],
  // Credentials in a URL (`http_proxy`: http://user:password@host:port/).
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s\/@:"']*:[^\s\/@"']*@/gi, `$1${REDACTED}@`],
];

const MAX_DEPTH = 8;
const MAX_STRING = 1024;
const MAX_ITEMS = 100;

/** Replaces secret-looking substrings of free text (PVE token headers, bearer tokens, device tokens, private keys). */
export function scrubText(text: string): string {
  let out = text;
  for (const [re, replacement] of VALUE_PATTERNS) out = out.replace(re, replacement);
  if (out.length > MAX_STRING) out = `${out.slice(0, MAX_STRING)}…[${out.length - MAX_STRING} more chars]`;
  return out;
}

/** Options of {@linkcode redactArguments}. */
export interface RedactOptions {
  /** Tool name: decides the keys that are secret only in some tools (guest-agent `input`, `content`). */
  tool?: string;
  /** Further keys (case-insensitive, exact) whose values are removed. */
  extraKeys?: string[];
}

interface Walk {
  context: SecretContext;
  extra: Set<string>;
}

/**
 * Returns a copy of tool arguments safe to write to the audit log. Values under secret keys
 * ({@linkcode isSecretKey}; a string `path` argument, as in `pve_api`, is the context) become `"[redacted]"` unless
 * they are `secret://NAME` references; strings are scrubbed of secret-looking substrings and capped; depth and array
 * length are bounded.
 */
export function redactArguments(args: Record<string, unknown>, options: RedactOptions = {}): Record<string, unknown> {
  const context: SecretContext = {
    ...(options.tool !== undefined && { tool: options.tool }),
    ...(typeof args.path === "string" && { path: args.path }),
  };
  return redactObject(args, { context, extra: new Set((options.extraKeys ?? []).map((k) => k.toLowerCase())) }, 0);
}

function redactObject(obj: Record<string, unknown>, walk: Walk, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    out[key] = isSecretKey(key, walk.context) || walk.extra.has(key.toLowerCase())
      ? redactSecretValue(value)
      : redactValue(value, walk, depth + 1);
  }
  return out;
}

function redactSecretValue(value: unknown): unknown {
  if (typeof value === "string" && SECRET_REF.test(value)) return value;
  if (value === undefined || value === null) return value;
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map(redactSecretValue);
  return REDACTED;
}

function redactValue(value: unknown, walk: Walk, depth: number): unknown {
  if (typeof value === "string") return SECRET_REF.test(value) ? value : scrubText(value);
  if (value === null || typeof value !== "object") {
    return typeof value === "bigint" ? value.toString() : typeof value === "function" ? undefined : value;
  }
  if (depth > MAX_DEPTH) return "[too deep]";
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((v) => redactValue(v, walk, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`[${value.length - MAX_ITEMS} more items]`);
    return items;
  }
  return redactObject(value as Record<string, unknown>, walk, depth);
}
