/**
 * Redaction of tool arguments and free text before they reach the audit log: values under secret-looking keys
 * and secret-looking substrings are replaced, `secret://NAME` references are kept (they name, not hold, a secret).
 * @module
 */

/** The placeholder that replaces a removed value. */
export const REDACTED = "[redacted]";

const SECRET_REF = /^secret:\/\/[A-Za-z0-9_.\/-]{1,128}$/;
/** Substrings of a lower-cased key that mark its value as secret. */
const SECRET_KEY_PARTS = [
  "password",
  "passwd",
  "passphrase",
  "secret",
  "token",
  "sshkey",
  "privkey",
  "private",
  "cookie",
  "ticket",
  "credential",
  "apikey",
  "api_key",
  "authorization",
  "csrf",
  "masterkey",
  "master_key",
];
/** Whole words (after splitting on `_ - .` and camelCase) that mark a key as secret. */
const SECRET_KEY_WORDS = new Set(["key", "keys", "pass", "pin", "pwd", "auth", "hmac", "psk"]);
/** Words that make a key an identifier or a label rather than a secret (`tokenid`, `token_name`, `key_id`). */
const LABEL_SUFFIXES = ["id", "ids", "name", "names", "type", "expire", "expires", "comment"];

const VALUE_PATTERNS: [RegExp, string][] = [
  [/PVEAPIToken=[^\s"',;]+/gi, `PVEAPIToken=${REDACTED}`],
  [/PVEAuthCookie=[^\s"',;]+/gi, `PVEAuthCookie=${REDACTED}`],
  [/\bBearer\s+[A-Za-z0-9._~+\/=-]{8,}/gi, `Bearer ${REDACTED}`],
  [/\bpvemcp_[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, REDACTED],
  [/\benc:v1:[A-Za-z0-9+\/=_:.-]+/g, REDACTED],
];

const MAX_DEPTH = 8;
const MAX_STRING = 1024;
const MAX_ITEMS = 100;

function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/**
 * Whether a value stored under `key` must be treated as a secret (`password`, `cipassword`, `sshkeys`, `tokenSecret`,
 * `key`, …). Identifiers and labels such as `tokenid`, `token_name`, `key_id` are not secret.
 */
export function isSecretKey(key: string): boolean {
  const ws = words(key);
  const lower = key.toLowerCase();
  const last = ws[ws.length - 1] ?? "";
  // Identifiers and labels: token_name, keyId, tokenid, keyname.
  if (ws.length > 1 && LABEL_SUFFIXES.includes(last)) return false;
  if (ws.length === 1 && /(?:id|ids|name|names|type)$/.test(lower)) return false;
  if (ws.some((w) => SECRET_KEY_WORDS.has(w))) return true;
  return SECRET_KEY_PARTS.some((p) => lower.includes(p));
}

/** Replaces secret-looking substrings of free text (PVE token headers, bearer tokens, device tokens, private keys). */
export function scrubText(text: string): string {
  let out = text;
  for (const [re, replacement] of VALUE_PATTERNS) out = out.replace(re, replacement);
  if (out.length > MAX_STRING) out = `${out.slice(0, MAX_STRING)}…[${out.length - MAX_STRING} more chars]`;
  return out;
}

/** Options of {@linkcode redactArguments}. */
export interface RedactOptions {
  /** Tool name; agent and file-write tools also get `content`/`data` removed. */
  tool?: string;
  /** Further keys (case-insensitive, exact) whose values are removed. */
  extraKeys?: string[];
}

function contentKeysFor(tool: string | undefined): string[] {
  if (tool === undefined) return [];
  return /agent|file/i.test(tool) ? ["content", "data", "input-data", "input_data", "stdin"] : [];
}

/**
 * Returns a copy of tool arguments safe to write to the audit log. Values under secret-looking keys become
 * `"[redacted]"` unless they are `secret://NAME` references; strings are scrubbed of secret-looking substrings and
 * capped; depth and array length are bounded.
 */
export function redactArguments(args: Record<string, unknown>, options: RedactOptions = {}): Record<string, unknown> {
  const extra = new Set([...contentKeysFor(options.tool), ...(options.extraKeys ?? [])].map((k) => k.toLowerCase()));
  return redactObject(args, extra, 0);
}

function redactObject(obj: Record<string, unknown>, extra: Set<string>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    out[key] = isSecretKey(key) || extra.has(key.toLowerCase())
      ? redactSecretValue(value)
      : redactValue(value, extra, depth + 1);
  }
  return out;
}

function redactSecretValue(value: unknown): unknown {
  if (typeof value === "string" && SECRET_REF.test(value)) return value;
  if (value === undefined || value === null) return value;
  if (Array.isArray(value)) return value.map(redactSecretValue);
  return REDACTED;
}

function redactValue(value: unknown, extra: Set<string>, depth: number): unknown {
  if (typeof value === "string") return SECRET_REF.test(value) ? value : scrubText(value);
  if (value === null || typeof value !== "object") {
    return typeof value === "bigint" ? value.toString() : typeof value === "function" ? undefined : value;
  }
  if (depth > MAX_DEPTH) return "[too deep]";
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((v) => redactValue(v, extra, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`[${value.length - MAX_ITEMS} more items]`);
    return items;
  }
  return redactObject(value as Record<string, unknown>, extra, depth);
}
