/**
 * `pve-mcp config check` (alias `config --test`): what the server would do at start, step by step — load the
 * configuration, open sealed secrets, reach each cluster over TLS (printing the certificate fingerprint, `--pin`
 * writes it into the configuration), log in, and compare the credential's privileges with what the enabled tools
 * need. Exit code 0 when everything passed, 1 when a check failed, 2 when the configuration is invalid.
 * @module
 */
import { ConfigError } from "../config/errors.ts";
import { loadConfigDetailed, type LoadedConfig } from "../config/load.ts";
import type { ClusterConfig, Config } from "../config/schema.ts";
import { CONFIG_FLAG_OPTIONS } from "../config/sources.ts";
import type { PveClientOptions } from "../pve/client.ts";
import type { CertificateInfo } from "../pve/tls.ts";
import type { PveApi } from "../pve/types.ts";
import { PveError } from "../pve/types.ts";
import type { ToolDef } from "../tools/registry.ts";
import { parseCommandArgs } from "./cli_args.ts";
import { type CliIo, outputFor } from "./cli_io.ts";
import { usage } from "./config_common.ts";
import { pinFingerprint } from "./config_pin.ts";
import { EXIT } from "./exit_codes.ts";

/** Injection points of `config check` for tests; defaults are the real client, probe and tool registry. */
export interface CheckDeps {
  createClient?: (opts: PveClientOptions) => PveApi & { close(): void };
  probe?: (host: string, port: number, opts: { timeoutMs?: number; caCertPem?: string }) => Promise<CertificateInfo>;
  tools?: readonly ToolDef[];
}

/** One step's outcome. */
export interface CheckStep {
  step: string;
  cluster?: string;
  status: "ok" | "warn" | "fail";
  message: string;
  /** The server certificate's SHA-256 fingerprint (tls step). */
  fingerprint?: string;
}

/** Privileges that only administrators need; holding them on `/` is over-broad for this server. */
const ADMIN_PRIVS = ["Permissions.Modify", "Sys.Modify", "User.Modify", "Realm.Allocate"];

/** Runs `config check`. */
export async function runCheck(args: string[], io: CliIo, deps: CheckDeps = {}): Promise<number> {
  const p = parseCommandArgs(args, {
    pin: { type: "boolean" },
    cluster: { type: "string" },
    json: { type: "boolean" },
    ...CONFIG_FLAG_OPTIONS,
  }, 0);
  if (!p.ok) return usage(io, "check", p.problem);
  const out = outputFor(io, !!p.values.json);
  const steps: CheckStep[] = [];
  const add = (s: CheckStep) => {
    steps.push(s);
    if (out.format === "json") return;
    const text = `${s.cluster ? `[${s.cluster}] ` : ""}${s.step}: ${s.message}`;
    if (s.status === "ok") out.success(text);
    else if (s.status === "warn") out.warn(text);
    else out.error(text);
  };

  let loaded: LoadedConfig;
  const flags = Object.fromEntries(
    Object.entries(p.values).filter(([k, v]) => k in CONFIG_FLAG_OPTIONS && typeof v === "string"),
  ) as Record<string, string>;
  try {
    loaded = await loadConfigDetailed({
      flags,
      env: io.env ?? Deno.env.toObject(),
      cwd: io.cwd ?? Deno.cwd(),
      scrubEnv: false,
      ...(io.now ? { now: io.now } : {}),
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    add({ step: "configuration", status: "fail", message: error.message });
    if (out.format === "json") out.value({ ok: false, steps });
    return EXIT.USAGE;
  }
  const config = loaded.config;
  const files = [loaded.files.config, loaded.files.dotenv].filter(Boolean).join(", ") || "environment only";
  add({
    step: "configuration",
    status: "ok",
    message: `loaded (${files}); ${Object.keys(config.clusters).length} cluster(s), mode ${config.policy.mode}`,
  });
  for (const w of loaded.warnings) add({ step: "configuration", status: "warn", message: w });
  add({
    step: "secrets",
    status: "ok",
    message: loaded.sealed.length > 0
      ? `${loaded.sealed.length} sealed value(s) opened${loaded.keyId ? ` with key ${loaded.keyId}` : ""}`
      : "no sealed values",
  });

  const names = p.values.cluster ? [p.values.cluster as string] : Object.keys(config.clusters);
  const tools = deps.tools ?? (await import("../tools/all.ts")).ALL_TOOLS;
  for (const name of names) {
    const cluster = config.clusters[name];
    if (!cluster) {
      add({ step: "cluster", cluster: name, status: "fail", message: `no cluster "${name}" is configured` });
      continue;
    }
    await checkCluster(name, cluster, config, loaded, tools, !!p.values.pin, out.format === "json", deps, io, add);
  }
  const failed = steps.filter((s) => s.status === "fail").length;
  const warned = steps.filter((s) => s.status === "warn").length;
  if (out.format === "json") out.value({ ok: failed === 0, steps });
  else io.stdout(`config check: ${steps.length - failed - warned} passed, ${warned} warnings, ${failed} failed\n`);
  return failed > 0 ? EXIT.FAILURE : EXIT.OK;
}

async function checkCluster(
  name: string,
  cluster: ClusterConfig,
  config: Config,
  loaded: LoadedConfig,
  tools: readonly ToolDef[],
  pin: boolean,
  json: boolean,
  deps: CheckDeps,
  io: CliIo,
  add: (s: CheckStep) => void,
): Promise<void> {
  const where = `${cluster.host}:${cluster.port}`;
  let certFingerprint: string | undefined;
  const step = (s: string, status: CheckStep["status"], message: string) =>
    add({
      step: s,
      cluster: name,
      status,
      message,
      ...(s === "tls" && certFingerprint ? { fingerprint: certFingerprint } : {}),
    });
  // TLS: the certificate and its fingerprint.
  let caCertPem: string | undefined;
  if (cluster.caFile) {
    try {
      caCertPem = await Deno.readTextFile(cluster.caFile);
    } catch {
      step("tls", "fail", `cannot read the CA file ${cluster.caFile}`);
      return; // every later step would fail for the same reason
    }
  }
  const probe = deps.probe ?? (await import("../pve/tls.ts")).probeCertificate;
  let fingerprint = cluster.fingerprint;
  try {
    const cert = await probe(cluster.host, cluster.port, {
      timeoutMs: cluster.timeoutMs,
      ...(caCertPem ? { caCertPem } : {}),
    });
    certFingerprint = cert.fingerprint;
    if (!json) io.stdout(`${name}\t${where}\tsha256\t${cert.fingerprint}\n`);
    const pinned = cluster.fingerprint?.split(",") ?? [];
    if (pin && !pinned.includes(cert.fingerprint)) {
      const result = await pinFingerprint(name, cert.fingerprint, loaded, io.now ?? Date.now);
      step("pin", result.ok ? "ok" : "fail", result.message);
      if (!result.ok) return;
      fingerprint = cert.fingerprint;
      step("tls", "ok", "certificate pinned by its SHA-256 fingerprint");
    } else if (pinned.length > 0) {
      if (pinned.includes(cert.fingerprint)) step("tls", "ok", `certificate matches the pinned fingerprint`);
      else step("tls", "fail", `certificate fingerprint ${cert.fingerprint} does not match the pinned one(s)`);
    } else if (cert.trusted) step("tls", "ok", "certificate trusted (system store or CA file)");
    else if (!cluster.verifySsl) step("tls", "warn", "certificate NOT verified (verifySsl is off); pin it with --pin");
    else {
      step(
        "tls",
        "fail",
        `certificate not trusted (${cert.trustError ?? "unknown issuer"}); pin it with --pin or set PROXMOX_CA_FILE`,
      );
    }
  } catch (error) {
    step("tls", "fail", error instanceof Error ? error.message : `cannot reach ${where}`);
    return;
  }

  // Login and version.
  const createClient = deps.createClient ?? (await import("../pve/client.ts")).createPveClient;
  const auth = cluster.tokenId && cluster.tokenSecret
    ? { tokenId: cluster.tokenId, tokenSecret: cluster.tokenSecret }
    : { user: cluster.user!, password: cluster.password! };
  const who = "tokenId" in auth ? `token ${auth.tokenId}` : `user ${auth.user}`;
  let client: ReturnType<typeof createClient>;
  try {
    client = createClient({
      host: cluster.host,
      port: cluster.port,
      tls: {
        ...(cluster.caFile ? { caFile: cluster.caFile } : {}),
        ...(fingerprint ? { fingerprint } : {}),
        ...(cluster.verifySsl ? {} : { insecure: true }),
      },
      auth,
      connectTimeoutMs: cluster.connectTimeoutMs,
      timeoutMs: cluster.timeoutMs,
      retries: 0,
    });
  } catch (error) {
    // Settings the client refuses (CA file, fingerprint, host): reported as a failed step, not a crash.
    step("login", "fail", error instanceof Error ? error.message : String(error));
    return;
  }
  try {
    const version = await client.request<{ version?: string; release?: string }>({ method: "GET", path: "/version" });
    step("login", "ok", `logged in as ${who}; Proxmox VE ${version.data.version ?? version.data.release ?? "?"}`);
    await checkPrivileges(client, auth, config, tools, step);
  } catch (error) {
    step("login", "fail", error instanceof PveError ? error.message : `cannot log in as ${who}`);
  } finally {
    client.close();
  }
}

async function checkPrivileges(
  client: PveApi,
  auth: { tokenId: string } | { user: string },
  config: Config,
  tools: readonly ToolDef[],
  step: (s: string, status: CheckStep["status"], message: string) => void,
): Promise<void> {
  const { selectTools } = await import("../tools/registry.ts");
  const { toolFilter } = await import("../server/build_app.ts");
  const { requiredPrivileges } = await import("../tools/docs.ts");
  const enabled = selectTools(tools, toolFilter(config.policy));
  const needed = requiredPrivileges(enabled, config.policy.mode);
  let perms: Record<string, Record<string, number>>;
  try {
    perms =
      (await client.request<Record<string, Record<string, number>>>({ method: "GET", path: "/access/permissions" }))
        .data;
  } catch (error) {
    step(
      "privileges",
      "fail",
      `cannot read the credential's permissions: ${error instanceof Error ? error.message : ""}`,
    );
    return;
  }
  const held = new Set(Object.values(perms).flatMap((p) => Object.keys(p)));
  const missing = needed.filter((priv) => !held.has(priv));
  if (missing.length > 0) {
    step(
      "privileges",
      "fail",
      `missing for the ${enabled.length} enabled tools: ${missing.join(", ")} (pve-mcp role prints a fitting role)`,
    );
  } else step("privileges", "ok", `all ${needed.length} privileges the ${enabled.length} enabled tools need are held`);

  const userId = "tokenId" in auth ? auth.tokenId.split("!")[0]! : auth.user;
  if (userId === "root@pam") {
    step("privileges", "warn", "the credential belongs to root@pam: use a dedicated user with a narrow role");
  }
  const adminHeld = ADMIN_PRIVS.filter((priv) => perms["/"]?.[priv] !== undefined);
  if (adminHeld.length >= 2) {
    step(
      "privileges",
      "warn",
      `the credential holds Administrator-level privileges on / (${adminHeld.join(", ")}); ` +
        `the enabled tools need only: ${needed.join(", ") || "none"}`,
    );
  }
  if ("tokenId" in auth) {
    const [user, token] = auth.tokenId.split("!") as [string, string];
    try {
      const info = await client.request<{ privsep?: number | boolean }>({
        method: "GET",
        path: `/access/users/${encodeURIComponent(user)}/token/${encodeURIComponent(token)}`,
      });
      if (info.data.privsep === 0 || info.data.privsep === false) {
        step("privileges", "warn", "the token has privilege separation off: it holds every right of its user");
      }
    } catch {
      // Reading token details may itself need privileges; the permission list above is what counts.
    }
  }
}
