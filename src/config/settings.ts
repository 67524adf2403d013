/**
 * The table of every setting: where it lives in the schema, which environment variables and CLI flag set it,
 * whether it is a secret. The loader, the docs and the redaction code all read this one table; the zod schema in
 * `schema.ts` holds the types and defaults. A test checks that both cover the same leaves.
 * @module
 */

/** How a text value from an environment variable or flag is turned into the schema's type. */
export type SettingKind = "string" | "path" | "int" | "bool" | "list" | "enum";

/** One setting. */
export interface SettingSpec {
  /** Schema path; per-cluster settings use `clusters.*.field`. */
  path: string;
  /** Environment variable names, primary first; later names are aliases other servers use. */
  env: string[];
  /** CLI flag (without `--`); secrets have none, so they never show in a process listing. */
  flag?: string;
  kind: SettingKind;
  /** Holds a credential or key: never logged, sealable with `enc:v1:`, and readable from `NAME_FILE`. */
  secret: boolean;
  /** Legacy JSON paths (the layout of the existing Python server), relative to the file root. */
  legacy?: string[];
  /** One line for the docs. */
  doc: string;
}

const cluster = (
  field: string,
  env: string[],
  kind: SettingKind,
  doc: string,
  extra: Partial<SettingSpec> = {},
): SettingSpec => ({ path: `clusters.*.${field}`, env, kind, secret: false, doc, ...extra });

const setting = (path: string, env: string, kind: SettingKind, doc: string, extra: Partial<SettingSpec> = {}) => ({
  path,
  env: [env],
  kind,
  secret: false,
  doc,
  ...extra,
});

/** Every setting, in documentation order. */
export const SETTINGS: readonly SettingSpec[] = [
  // Cluster connection (env and flags apply to the default cluster).
  cluster("host", ["PROXMOX_HOST"], "string", "Proxmox VE host name or address (no scheme, no port).", {
    flag: "pve-host",
    legacy: ["proxmox.host"],
  }),
  cluster("port", ["PROXMOX_PORT"], "int", "Proxmox VE API port.", { flag: "pve-port", legacy: ["proxmox.port"] }),
  cluster(
    "verifySsl",
    ["PROXMOX_VERIFY_SSL", "PROXMOX_VERIFY"],
    "bool",
    "Verify the API's TLS certificate. `false` is an explicit, loudly logged opt-in.",
    { flag: "pve-verify-ssl", legacy: ["proxmox.verify_ssl"] },
  ),
  cluster("caFile", ["PROXMOX_CA_FILE"], "path", "PEM file of the CA to trust (e.g. the cluster's pve-root-ca.pem).", {
    flag: "pve-ca-file",
  }),
  cluster(
    "fingerprint",
    ["PROXMOX_FINGERPRINT"],
    "string",
    "SHA-256 fingerprint of the API certificate to pin (`AA:BB:…`, 32 bytes). `config check --pin` writes it.",
    { flag: "pve-fingerprint" },
  ),
  cluster(
    "tokenId",
    ["PROXMOX_TOKEN_ID", "PROXMOX_TOKEN_NAME"],
    "string",
    "API token id `user@realm!name`, or only `name` together with the user setting.",
    { flag: "pve-token-id", legacy: ["auth.token_name"] },
  ),
  cluster(
    "tokenSecret",
    ["PROXMOX_TOKEN_SECRET", "PROXMOX_TOKEN_VALUE"],
    "string",
    "API token secret (UUID).",
    { secret: true, legacy: ["auth.token_value"] },
  ),
  cluster(
    "user",
    ["PROXMOX_USER", "PROXMOX_USERNAME"],
    "string",
    "User `user@realm` for password login, or to complete a token name.",
    { flag: "pve-user", legacy: ["auth.user"] },
  ),
  cluster("password", ["PROXMOX_PASSWORD"], "string", "Password for ticket login (a token is preferred).", {
    secret: true,
    legacy: ["auth.password"],
  }),
  cluster(
    "connectTimeoutMs",
    ["PROXMOX_MCP_PVE_CONNECT_TIMEOUT_MS"],
    "int",
    "Time allowed to connect to the PVE API (TCP, plus TLS when pinned or insecure).",
    { flag: "pve-connect-timeout-ms" },
  ),
  cluster("timeoutMs", ["PROXMOX_MCP_PVE_TIMEOUT_MS"], "int", "Time allowed for one attempt of a PVE API request.", {
    flag: "pve-timeout-ms",
  }),
  cluster(
    "retries",
    ["PROXMOX_MCP_PVE_RETRIES"],
    "int",
    "Extra attempts of a read (GET) after a network failure, timeout or 502/503/504; changes are never retried.",
    { flag: "pve-retries" },
  ),
  cluster(
    "deadlineMs",
    ["PROXMOX_MCP_PVE_DEADLINE_MS"],
    "int",
    "Longest time one PVE API request may take over all attempts; keep it under the MCP client's timeout (often 60 s).",
    { flag: "pve-deadline-ms" },
  ),
  cluster(
    "write.tokenId",
    ["PROXMOX_WRITE_TOKEN_ID"],
    "string",
    "Optional second token used only for changes (`user@realm!name`, or `name` with the write user).",
    { flag: "pve-write-token-id" },
  ),
  cluster("write.tokenSecret", ["PROXMOX_WRITE_TOKEN_SECRET"], "string", "Secret of the change token.", {
    secret: true,
  }),
  cluster("write.user", ["PROXMOX_WRITE_USER"], "string", "User of the change credential.", {
    flag: "pve-write-user",
  }),
  cluster("write.password", ["PROXMOX_WRITE_PASSWORD"], "string", "Password of the change credential.", {
    secret: true,
  }),
  setting(
    "defaultCluster",
    "PROXMOX_MCP_DEFAULT_CLUSTER",
    "string",
    "Cluster used when a tool call names none; the `PROXMOX_*` connection variables apply to it.",
    { flag: "cluster" },
  ),
  // Logging.
  setting(
    "logging.level",
    "PROXMOX_MCP_LOG_LEVEL",
    "enum",
    "`debug`, `info`, `warning` or `error` (case-insensitive).",
    {
      flag: "log-level",
      legacy: ["logging.level"],
    },
  ),
  // Policy.
  setting("policy.mode", "PROXMOX_MCP_MODE", "enum", "`read-only`, `operator` (no destruction) or `admin`.", {
    flag: "mode",
  }),
  setting(
    "policy.toolsets",
    "PROXMOX_MCP_TOOLSETS",
    "list",
    "Enabled toolsets; empty means the registry's default toolsets, `all` enables every one.",
    { flag: "toolsets" },
  ),
  setting("policy.allowTools", "PROXMOX_MCP_ALLOW_TOOLS", "list", "Only these tools (empty = no allowlist).", {
    flag: "allow-tools",
  }),
  setting("policy.denyTools", "PROXMOX_MCP_DENY_TOOLS", "list", "Never these tools (deny wins over allow).", {
    flag: "deny-tools",
  }),
  setting(
    "policy.guests.vmids",
    "PROXMOX_MCP_GUEST_VMIDS",
    "list",
    "Guests tools may touch: vmids or ranges `100-199`.",
    {
      flag: "guest-vmids",
    },
  ),
  setting("policy.guests.pools", "PROXMOX_MCP_GUEST_POOLS", "list", "Guests tools may touch: pools.", {
    flag: "guest-pools",
  }),
  setting("policy.guests.tags", "PROXMOX_MCP_GUEST_TAGS", "list", "Guests tools may touch: tags.", {
    flag: "guest-tags",
  }),
  setting("policy.guests.nodes", "PROXMOX_MCP_GUEST_NODES", "list", "Guests tools may touch: nodes.", {
    flag: "guest-nodes",
  }),
  setting("policy.protected.vmids", "PROXMOX_MCP_PROTECTED_VMIDS", "list", "Guests never changed: vmids or ranges.", {
    flag: "protected-vmids",
  }),
  setting("policy.protected.pools", "PROXMOX_MCP_PROTECTED_POOLS", "list", "Guests never changed: pools.", {
    flag: "protected-pools",
  }),
  setting("policy.protected.tags", "PROXMOX_MCP_PROTECTED_TAGS", "list", "Guests never changed: tags.", {
    flag: "protected-tags",
  }),
  setting("policy.agentExec.vmids", "PROXMOX_MCP_AGENT_EXEC_VMIDS", "list", "Guests opted in to agent exec: vmids.", {
    flag: "agent-exec-vmids",
  }),
  setting("policy.agentExec.tags", "PROXMOX_MCP_AGENT_EXEC_TAGS", "list", "Guests opted in to agent exec: tags.", {
    flag: "agent-exec-tags",
  }),
  setting(
    "policy.agentExec.programs",
    "PROXMOX_MCP_AGENT_EXEC_PROGRAMS",
    "list",
    "Programs agent exec may run (argv[0], exact match).",
    { flag: "agent-exec-programs" },
  ),
  setting(
    "policy.confirmWithoutElicitation",
    "PROXMOX_MCP_CONFIRM_WITHOUT_ELICITATION",
    "enum",
    "Destructive calls from clients without elicitation: `refuse` or `allow`.",
    { flag: "confirm-without-elicitation" },
  ),
  setting("policy.maxTaskWaitSeconds", "PROXMOX_MCP_MAX_TASK_WAIT_SECONDS", "int", "Longest wait for a PVE task.", {
    flag: "max-task-wait-seconds",
  }),
  setting(
    "policy.allowInternalUrls",
    "PROXMOX_MCP_ALLOW_INTERNAL_URLS",
    "bool",
    "Let `pve_api` have PVE fetch from loopback, link-local and cloud-metadata addresses (`download-url`, …).",
    { flag: "allow-internal-urls" },
  ),
  // Rate limits.
  setting("rateLimit.perMinute", "PROXMOX_MCP_RATE_LIMIT_PER_MINUTE", "int", "Tool calls per minute per client.", {
    flag: "rate-limit",
  }),
  setting(
    "rateLimit.writesPerMinute",
    "PROXMOX_MCP_RATE_LIMIT_WRITES_PER_MINUTE",
    "int",
    "Changing tool calls per minute per client.",
    { flag: "rate-limit-writes" },
  ),
  setting(
    "rateLimit.destructivePerMinute",
    "PROXMOX_MCP_RATE_LIMIT_DESTRUCTIVE_PER_MINUTE",
    "int",
    "Destructive tool calls per minute per client.",
    { flag: "rate-limit-destructive" },
  ),
  // Audit.
  setting("audit.path", "PROXMOX_MCP_AUDIT_PATH", "path", "Audit log file (JSON lines, hash-chained).", {
    flag: "audit-path",
  }),
  setting("audit.key", "PROXMOX_MCP_AUDIT_KEY", "string", "HMAC key of the audit log (kept apart from the log).", {
    secret: true,
  }),
  setting("audit.keyFile", "PROXMOX_MCP_AUDIT_KEY_FILE", "path", "File holding the audit HMAC key.", {
    flag: "audit-key-file",
  }),
  setting("audit.maxBytes", "PROXMOX_MCP_AUDIT_MAX_BYTES", "int", "Rotate the audit file past this size.", {
    flag: "audit-max-bytes",
  }),
  setting(
    "audit.failReadsOnError",
    "PROXMOX_MCP_AUDIT_FAIL_READS_ON_ERROR",
    "bool",
    "Fail read-only calls too when the audit record cannot be written (changes always fail).",
    { flag: "audit-fail-reads-on-error" },
  ),
  // HTTP transport.
  setting("http.host", "PROXMOX_MCP_HTTP_HOST", "string", "Address the HTTP transport binds.", { flag: "http-host" }),
  setting("http.port", "PROXMOX_MCP_HTTP_PORT", "int", "Port of the HTTP transport (0 = any free port).", {
    flag: "http-port",
  }),
  setting("http.path", "PROXMOX_MCP_HTTP_PATH", "string", "URL path of the MCP endpoint.", { flag: "http-path" }),
  setting(
    "http.allowedHosts",
    "PROXMOX_MCP_HTTP_ALLOWED_HOSTS",
    "list",
    "Accepted `Host` header names (port ignored).",
    { flag: "http-allowed-hosts" },
  ),
  setting(
    "http.allowedOrigins",
    "PROXMOX_MCP_HTTP_ALLOWED_ORIGINS",
    "list",
    "Accepted `Origin` values (requests without Origin are not browsers).",
    { flag: "http-allowed-origins" },
  ),
  setting("http.allowNetworks", "PROXMOX_MCP_HTTP_ALLOW_NETWORKS", "list", "Client networks allowed (CIDR).", {
    flag: "http-allow-networks",
  }),
  setting(
    "http.trustedProxies",
    "PROXMOX_MCP_HTTP_TRUSTED_PROXIES",
    "list",
    "Proxies whose `X-Forwarded-For` is honoured (CIDR).",
    { flag: "http-trusted-proxies" },
  ),
  setting("http.tlsCertFile", "PROXMOX_MCP_HTTP_TLS_CERT_FILE", "path", "PEM certificate for HTTPS.", {
    flag: "http-tls-cert-file",
  }),
  setting("http.tlsKeyFile", "PROXMOX_MCP_HTTP_TLS_KEY_FILE", "path", "PEM private key for HTTPS.", {
    flag: "http-tls-key-file",
  }),
  setting("http.maxBodyBytes", "PROXMOX_MCP_HTTP_MAX_BODY_BYTES", "int", "Largest request body accepted.", {
    flag: "http-max-body-bytes",
  }),
  setting("http.requestTimeoutMs", "PROXMOX_MCP_HTTP_REQUEST_TIMEOUT_MS", "int", "Time allowed to receive a request.", {
    flag: "http-request-timeout-ms",
  }),
  setting("http.tokensFile", "PROXMOX_MCP_HTTP_TOKENS_FILE", "path", "Device-token file (hashes only, 0600).", {
    flag: "http-tokens-file",
  }),
  setting(
    "http.pveTokenMode",
    "PROXMOX_MCP_HTTP_PVE_TOKEN_MODE",
    "bool",
    "Accept `PVEAPIToken=` client credentials and use them upstream (opt-in; see docs/http.md).",
    { flag: "http-pve-token-mode" },
  ),
  setting("http.adminHost", "PROXMOX_MCP_ADMIN_HOST", "string", "Address of the admin listener.", {
    flag: "admin-host",
  }),
  setting("http.adminPort", "PROXMOX_MCP_ADMIN_PORT", "int", "Port of the admin listener (0 = any free port).", {
    flag: "admin-port",
  }),
  setting("http.adminToken", "PROXMOX_MCP_ADMIN_TOKEN", "string", "Bearer token of the admin listener.", {
    secret: true,
  }),
  // Secrets at rest.
  setting("secrets.storeFile", "PROXMOX_MCP_SECRETS_FILE", "path", "Encrypted secret store (`secret://NAME`).", {
    flag: "secrets-file",
  }),
  setting("secrets.masterKey", "PROXMOX_MCP_MASTER_KEY", "string", "Master key: 32 random bytes, base64.", {
    secret: true,
  }),
  setting("secrets.masterKeyFile", "PROXMOX_MCP_MASTER_KEY_FILE", "path", "File holding the master key.", {
    flag: "master-key-file",
  }),
  setting(
    "secrets.passphrase",
    "PROXMOX_MCP_MASTER_PASSPHRASE",
    "string",
    "Passphrase to derive the key from instead (PBKDF2-SHA256, 600,000 iterations).",
    { secret: true },
  ),
  setting(
    "secrets.passphraseFile",
    "PROXMOX_MCP_MASTER_PASSPHRASE_FILE",
    "path",
    "File holding the passphrase.",
    { flag: "master-passphrase-file" },
  ),
  setting("secrets.maxKeyAgeDays", "PROXMOX_MCP_MAX_KEY_AGE_DAYS", "int", "`config status` warns past this key age.", {
    flag: "max-key-age-days",
  }),
];

/**
 * Secret settings whose `NAME_FILE` variant is a path field of its own in the schema (the module that uses the key
 * reads the file) rather than read by the loader into the secret setting.
 */
export const FILE_PATH_FIELDS: Readonly<Record<string, string>> = {
  "audit.key": "audit.keyFile",
  "secrets.masterKey": "secrets.masterKeyFile",
  "secrets.passphrase": "secrets.passphraseFile",
};

/** Environment variables that choose where the other settings come from. */
export const META_ENV = {
  config: "PROXMOX_MCP_CONFIG",
  envFile: "PROXMOX_MCP_ENV_FILE",
} as const;

/** CLI flags that choose where the other settings come from. */
export const META_FLAGS = { config: "config", envFile: "env-file" } as const;

/** Paths of every secret setting (cluster fields as `clusters.*.field`), for redaction and leak tests. */
export const SECRET_FIELDS: readonly string[] = SETTINGS.filter((s) => s.secret).map((s) => s.path);

/** `NAME_FILE` variables the loader reads for secrets that have no path field of their own. */
export function fileEnvNames(spec: SettingSpec): string[] {
  if (!spec.secret || FILE_PATH_FIELDS[spec.path] !== undefined) return [];
  return spec.env.map((name) => `${name}_FILE`);
}

/** Every environment variable the loader reads, in documentation order. */
export const ENV_NAMES: readonly string[] = [
  META_ENV.config,
  META_ENV.envFile,
  ...SETTINGS.flatMap((s) => [...s.env, ...fileEnvNames(s)]),
];

/** Environment variables that may carry a secret value (to remove from the process env after loading). */
export const SECRET_ENV_NAMES: readonly string[] = SETTINGS.filter((s) => s.secret).flatMap((s) => s.env);

/** Looks a setting up by its schema path (`clusters.*.host` for cluster fields). */
export function settingByPath(path: string): SettingSpec | undefined {
  return SETTINGS.find((s) => s.path === path);
}
