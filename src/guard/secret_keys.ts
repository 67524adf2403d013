/**
 * The one secret-key classifier: decides whether a value stored under a parameter or property name is a secret.
 * Audit records (`audit/redact.ts`), change-plan text (`pve_api` parameters), log lines and the redaction of PVE error
 * texts (`pve/encode.ts`) all ask it, so a field is hidden everywhere or nowhere.
 *
 * Rules, in order:
 * 1. A key that only names or labels a secret (`tokenid`, `token_name`, `key_id`, `keyboard`, `token-coefficient`) is
 *    not one.
 * 2. Public keys (`sshkeys`, `ssh_keys`, `ssh-public-keys`, `master-pubkey`) are not secret: they grant nothing to whoever
 *    reads them, and the audit log should show which key was installed where. Free-text scrubbing still removes any
 *    private-key block pasted into them.
 * 3. Names that hold a secret anywhere: passwords and passphrases, secrets, tokens, tickets, cookies, keys (incl.
 *    keyrings, HMAC, encryption and client keys), credentials, one-time codes and TFA challenges (`otp`, `totp`,
 *    `tfa-challenge`), HTTP headers (webhook `header`, `otel-headers`: they carry authorisation).
 * 4. Names that hold a secret in one context: `data` of an ACME plugin (DNS API credentials), `value` of a TFA
 *    answer, `code` of an OpenID login, guest-agent `input`/`input-data`/`content`/`data` (stdin and file contents).
 * @module
 */

/** Where a key appears: the tool name and/or the PVE API path of the call. Both optional. */
export interface SecretContext {
  tool?: string;
  path?: string;
}

/** Substrings of a lower-cased key that mark its value as secret. */
const SECRET_PARTS = [
  "password",
  "passwd",
  "passphrase",
  "secret",
  "token",
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
  "keyring",
  "header",
  "hmac",
];
/** Whole words (after splitting on `_ - .` and camelCase) that mark a key as secret. */
const SECRET_WORDS = new Set([
  "key",
  "keys",
  "pass",
  "pin",
  "pwd",
  "auth",
  "psk",
  "otp",
  "totp",
  "challenge",
]);
/** Last words that make a key an identifier, a label or a setting about a secret rather than a secret. */
const LABEL_SUFFIXES = new Set([
  "id",
  "ids",
  "kid",
  "name",
  "names",
  "type",
  "expire",
  "expires",
  "comment",
  "coefficient",
  "timeout",
  "file",
  "path",
]);
/** Exact keys that look secret-ish but are not (see rules 1 and 2). */
const NOT_SECRET = new Set([
  "keyboard",
  "config-keys",
  "authsupported",
  "authid",
  "tokens",
  "crypted",
  "generate-password",
  "release-lock",
]);
/** Public keys (rule 2): `sshkeys`, `ssh_keys`, `ssh-public-keys`, `master-pubkey`, `public_key`. */
const PUBLIC_KEY = /^(?:ssh[-_]?(?:public[-_]?)?keys|(?:master[-_]?)?pub(?:lic)?[-_]?keys?)$/;
/** Keys that are secret only in some places (rule 4). */
const CONTEXT_SECRETS: { where: RegExp; keys: ReadonlySet<string> }[] = [
  { where: /\/cluster\/acme\/plugins\b/, keys: new Set(["data"]) },
  { where: /\/access\/tfa\b/, keys: new Set(["value"]) },
  { where: /\/access\/openid\b/, keys: new Set(["code"]) },
  { where: /agent|file-write/i, keys: new Set(["input", "input-data", "input_data", "content", "data", "stdin"]) },
];

function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/**
 * Whether a value stored under `key` must be treated as a secret (`password`, `cipassword`, `keyring`, `token`,
 * `eab-hmac-key`, ACME plugin `data`, …). `context` adds the rules that depend on where the key appears.
 */
export function isSecretKey(key: string, context: SecretContext = {}): boolean {
  const lower = key.toLowerCase();
  const where = `${context.tool ?? ""} ${context.path ?? ""}`;
  if (CONTEXT_SECRETS.some((c) => c.keys.has(lower) && c.where.test(where))) return true;
  if (NOT_SECRET.has(lower) || PUBLIC_KEY.test(lower)) return false;
  const ws = words(key);
  const last = ws[ws.length - 1] ?? "";
  if (ws.length > 1 && LABEL_SUFFIXES.has(last)) return false;
  if (ws.length === 1 && /(?:id|ids|name|names|type)$/.test(lower)) return false;
  if (ws.some((w) => SECRET_WORDS.has(w))) return true;
  return SECRET_PARTS.some((p) => lower.includes(p));
}

/**
 * {@linkcode isSecretKey}, or key material that is not secret (public keys). For texts where hiding a value costs
 * nothing, such as PVE error messages that echo what was sent: a public-key field may hold a value resolved from the
 * secret store.
 */
export function isSecretOrKeyMaterial(key: string, context: SecretContext = {}): boolean {
  return PUBLIC_KEY.test(key.toLowerCase()) || isSecretKey(key, context);
}

/** What stands in for a value hidden by {@linkcode hideSecretValues}. */
export const HIDDEN = "(hidden)";

/**
 * A copy of an API answer with the value of every secret key ({@linkcode isSecretKey} in `context`) replaced by
 * {@linkcode HIDDEN}, at any depth: PVE hands back some stored credentials to privileged readers (ACME plugin `data`,
 * notification targets), and what a read returns goes to the model.
 */
export function hideSecretValues(value: unknown, context: SecretContext, depth = 0): unknown {
  if (value === null || typeof value !== "object" || depth > 64) return value;
  if (Array.isArray(value)) return value.map((v) => hideSecretValues(v, context, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = v !== null && v !== undefined && v !== "" && isSecretKey(k, context)
      ? HIDDEN
      : hideSecretValues(v, context, depth + 1);
  }
  return out;
}
