/**
 * The one zod schema of every setting, with every default in one place.
 * Where each setting comes from (env names, flags, legacy paths) is in `settings.ts`.
 * @module
 */
import { z } from "zod";
import { canonicalFingerprint } from "../crypto/encoding.ts";
import { MODES, TOOLSETS } from "../core/modes.ts";
import { LOG_LEVELS } from "../log.ts";

const notSet = "not set";

const text = (what: string, missing = notSet) =>
  z.string({ error: (iss) => (iss.input === undefined ? missing : `expected ${what}`) }).min(1, {
    error: `expected ${what}, got an empty value`,
  });

const intIn = (min: number, max: number) => {
  const msg = `expected an integer from ${min} to ${max}`;
  return z.int({ error: msg }).min(min, { error: msg }).max(max, { error: msg });
};

const bool = z.boolean({ error: "expected true or false" });

const list = (item: z.ZodType<string>, what: string) =>
  z.array(item, { error: `expected a list of ${what} (comma-separated in variables and flags)` });

const name = text("a name");

const vmidRange = z.string().regex(/^\d{1,9}(-\d{1,9})?$/, {
  error: "expected VM ids or ranges such as 100 or 100-199",
});

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}(\/(3[0-2]|[12]?\d))?$/;
const IPV6 = /^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(\/(12[0-8]|1[01]\d|[1-9]?\d))?$/;
const cidr = z.string().refine((v) => IPV4.test(v) || IPV6.test(v), {
  error: "expected IP addresses or CIDR networks such as 10.0.0.0/8 or ::1/128",
});

/**
 * Normalises fingerprints (`aa:bb:…` or 64 hex digits; several separated by commas during a certificate change) to
 * upper-case colon form joined by `,`; leaves other input for the regex to reject.
 */
export function normalizeFingerprint(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const parts = value.split(/[,;\s]+/).filter((p) => p !== "");
  const out: string[] = [];
  for (const part of parts) {
    const canonical = canonicalFingerprint(part);
    if (canonical === undefined) return value;
    out.push(canonical);
  }
  return out.length === 0 ? value : out.join(",");
}

const FP = "([0-9A-F]{2}:){31}[0-9A-F]{2}";
const fingerprint = z.preprocess(
  normalizeFingerprint,
  z.string().regex(new RegExp(`^${FP}(,${FP})*$`), {
    error: "expected a SHA-256 fingerprint: 32 hex bytes such as AB:CD:… (several separated by commas)",
  }),
);

const host = text("a host name or address", "not set: the Proxmox VE host name or address is required").refine(
  (v) => !/[/\s]|^[a-z]+:\/\//i.test(v),
  {
    error: "expected a host name or address without scheme, path or spaces (e.g. pve.example.com)",
  },
);

const TOKEN_ID = /^[^\s@!:]+@[^\s@!:]+![A-Za-z][A-Za-z0-9._-]*$/;
const USER = /^[^\s@!:]+@[^\s@!:]+$/;
const tokenId = text("a token id").regex(TOKEN_ID, { error: "expected user@realm!tokenname (e.g. root@pam!mcp)" });
const user = text("a user").regex(USER, { error: "expected user@realm (e.g. root@pam)" });
const secret = text("a secret value");

/** Credentials used only for changes, when the everyday credential is read-only. */
export const WriteCredentialSchema = z
  .object({
    tokenId: tokenId.optional(),
    tokenSecret: secret.optional(),
    user: user.optional(),
    password: secret.optional(),
  })
  .strict();

/** One Proxmox VE cluster (or single node) the server talks to. */
export const ClusterSchema = z
  .object({
    host,
    port: intIn(1, 65535).default(8006),
    verifySsl: bool.default(true),
    caFile: text("a file path").optional(),
    fingerprint: fingerprint.optional(),
    tokenId: tokenId.optional(),
    tokenSecret: secret.optional(),
    user: user.optional(),
    password: secret.optional(),
    timeoutMs: intIn(100, 600_000).default(20_000),
    connectTimeoutMs: intIn(100, 600_000).default(5_000),
    deadlineMs: intIn(100, 3_600_000).default(25_000),
    retries: intIn(0, 10).default(1),
    write: WriteCredentialSchema.optional(),
  })
  .strict()
  .check(z.superRefine(checkCredentials, { when: () => true }));

/** Message of a cluster without any credential (the loader adds where to set one). */
export const NO_CREDENTIAL = "no credential: set an API token (id and secret) or a user and password";

type CredentialInput = { tokenId?: unknown; tokenSecret?: unknown; user?: unknown; password?: unknown };

function checkCredentials(value: unknown, ctx: z.RefinementCtx): void {
  if (typeof value !== "object" || value === null) return;
  const c = value as CredentialInput & { write?: unknown };
  pairIssues(c, [], ctx);
  if (c.tokenId === undefined && c.tokenSecret === undefined && c.user === undefined && c.password === undefined) {
    ctx.addIssue({ code: "custom", path: [], message: NO_CREDENTIAL });
  }
  if (typeof c.write === "object" && c.write !== null) pairIssues(c.write as CredentialInput, ["write"], ctx);
}

function pairIssues(c: CredentialInput, prefix: string[], ctx: z.RefinementCtx): void {
  if (c.tokenId !== undefined && c.tokenSecret === undefined) {
    ctx.addIssue({ code: "custom", path: [...prefix, "tokenSecret"], message: "not set, but the token id is" });
  }
  if (c.tokenSecret !== undefined && c.tokenId === undefined) {
    ctx.addIssue({ code: "custom", path: [...prefix, "tokenId"], message: "not set, but the token secret is" });
  }
  if (c.password !== undefined && c.user === undefined) {
    ctx.addIssue({ code: "custom", path: [...prefix, "user"], message: "not set, but the password is" });
  }
  if (c.user !== undefined && c.password === undefined && c.tokenId === undefined) {
    ctx.addIssue({
      code: "custom",
      path: [...prefix, "password"],
      message: "not set: the user needs a password, or set a token id and secret",
    });
  }
}

/** Names a cluster may have (they appear in tool arguments and file paths). */
export const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

const level = z.preprocess(
  (v) => {
    if (typeof v !== "string") return v;
    const l = v.trim().toLowerCase();
    return l === "warn" ? "warning" : l === "critical" ? "error" : l;
  },
  z.enum(LOG_LEVELS, { error: "expected one of debug, info, warning, error" }),
);

const PolicySchema = z
  .object({
    mode: z.enum(MODES, { error: "expected one of read-only, operator, admin" }).default("read-only"),
    toolsets: list(
      z.enum([...TOOLSETS, "all"], { error: `expected toolset names: ${TOOLSETS.join(", ")} or all` }),
      "toolset names",
    ).default([]),
    allowTools: list(name, "tool names").default([]),
    denyTools: list(name, "tool names").default([]),
    guests: z
      .object({
        vmids: list(vmidRange, "VM ids or ranges").default([]),
        pools: list(name, "pool names").default([]),
        tags: list(name, "tags").default([]),
        nodes: list(name, "node names").default([]),
      })
      .strict()
      .prefault({}),
    protected: z
      .object({
        vmids: list(vmidRange, "VM ids or ranges").default([]),
        pools: list(name, "pool names").default([]),
        tags: list(name, "tags").default([]),
      })
      .strict()
      .prefault({}),
    agentExec: z
      .object({
        vmids: list(vmidRange, "VM ids or ranges").default([]),
        tags: list(name, "tags").default([]),
        programs: list(name, "program names").default([]),
      })
      .strict()
      .prefault({}),
    confirmWithoutElicitation: z.enum(["refuse", "allow"], { error: "expected refuse or allow" }).default("refuse"),
    maxTaskWaitSeconds: intIn(1, 86_400).default(600),
    allowInternalUrls: bool.default(false),
  })
  .strict()
  .prefault({});

const RateLimitSchema = z
  .object({
    perMinute: intIn(1, 1_000_000).default(100),
    writesPerMinute: intIn(1, 1_000_000).default(20),
    destructivePerMinute: intIn(1, 1_000_000).default(5),
  })
  .strict()
  .prefault({});

const AuditSchema = z
  .object({
    path: text("a file path").optional(),
    key: secret.optional(),
    keyFile: text("a file path").optional(),
    maxBytes: intIn(65_536, 1_099_511_627_776).default(10 * 1024 * 1024),
    failReadsOnError: bool.default(false),
  })
  .strict()
  .prefault({});

const urlPath = text("a URL path").regex(/^\/[A-Za-z0-9._~\/-]*$/, { error: "expected a URL path such as /mcp" });

const HttpSchema = z
  .object({
    host: text("an address").default("127.0.0.1"),
    port: intIn(0, 65535).default(8080),
    path: urlPath.default("/mcp"),
    allowedHosts: list(name, "host names").default(["localhost", "127.0.0.1", "[::1]"]),
    allowedOrigins: list(name, "origins").default([]),
    allowNetworks: list(cidr, "networks").default(["127.0.0.0/8", "::1/128"]),
    trustedProxies: list(cidr, "networks").default([]),
    tlsCertFile: text("a file path").optional(),
    tlsKeyFile: text("a file path").optional(),
    maxBodyBytes: intIn(1024, 1_073_741_824).default(1_048_576),
    requestTimeoutMs: intIn(100, 3_600_000).default(60_000),
    tokensFile: text("a file path").optional(),
    pveTokenMode: bool.default(false),
    adminHost: text("an address").default("127.0.0.1"),
    adminPort: intIn(0, 65535).default(8081),
    adminToken: secret.optional(),
  })
  .strict()
  .check(
    z.superRefine((h: { tlsCertFile?: unknown; tlsKeyFile?: unknown }, ctx) => {
      if ((h.tlsCertFile === undefined) !== (h.tlsKeyFile === undefined)) {
        const missing = h.tlsCertFile === undefined ? "tlsCertFile" : "tlsKeyFile";
        ctx.addIssue({ code: "custom", path: [missing], message: "not set: HTTPS needs both a certificate and a key" });
      }
    }, { when: () => true }),
  )
  .prefault({});

const SecretsSchema = z
  .object({
    storeFile: text("a file path").optional(),
    masterKey: secret.optional(),
    masterKeyFile: text("a file path").optional(),
    passphrase: secret.optional(),
    passphraseFile: text("a file path").optional(),
    maxKeyAgeDays: intIn(1, 36_500).default(365),
  })
  .strict()
  .prefault({});

/** The whole configuration. Parse with `ConfigSchema.safeParse`; `loadConfig` does that with every source merged. */
export const ConfigSchema = z
  .object({
    clusters: z.record(
      z.string().regex(CLUSTER_NAME, { error: "expected a cluster name of letters, digits, - and _ (max 32)" }),
      ClusterSchema,
      { error: "expected an object of clusters by name" },
    ),
    defaultCluster: z.string({ error: "expected a cluster name" }),
    logging: z.object({ level: level.default("info") }).strict().prefault({}),
    policy: PolicySchema,
    rateLimit: RateLimitSchema,
    audit: AuditSchema,
    http: HttpSchema,
    secrets: SecretsSchema,
  })
  .strict()
  .check(
    z.superRefine((c: { clusters?: unknown; defaultCluster?: unknown }, ctx) => {
      if (typeof c.clusters !== "object" || c.clusters === null) return;
      const known = Object.keys(c.clusters);
      if (typeof c.defaultCluster !== "string") return;
      if (known.length === 0 && c.defaultCluster !== "") {
        ctx.addIssue({ code: "custom", path: ["defaultCluster"], message: "names a cluster, but none is configured" });
      } else if (known.length > 0 && !known.includes(c.defaultCluster)) {
        ctx.addIssue({
          code: "custom",
          path: ["defaultCluster"],
          message: `expected one of the configured clusters: ${known.join(", ")}`,
        });
      }
    }, { when: () => true }),
  );

/** The validated configuration every module reads. */
export type Config = z.output<typeof ConfigSchema>;
/** One cluster's connection settings. */
export type ClusterConfig = z.output<typeof ClusterSchema>;
/** The optional change-only credential of a cluster. */
export type WriteCredential = z.output<typeof WriteCredentialSchema>;
/** The policy part of the configuration. */
export type PolicyConfig = Config["policy"];
/** Log level names. */
export type LogLevel = Config["logging"]["level"];
