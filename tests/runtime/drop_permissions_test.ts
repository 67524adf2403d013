/**
 * dropPermissions runs in a child process under a profile's exact flags (revocation is process-wide and one-way), and
 * the probe shows each permission granted before and denied by the runtime after.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { permissionFlags, type ProfileOptions } from "../../src/permissions/profiles.ts";
import { type DropPlan, dropPlanFromConfig, type DropReport } from "../../src/runtime/drop_permissions.ts";
import type { ProbeOutcome, ProbeSpec } from "../sandbox/probe.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface ChildResult {
  before: Record<string, ProbeOutcome>;
  after: Record<string, ProbeOutcome>;
  report: DropReport;
  handleWrite?: string;
}

async function runChild(
  profile: ProfileOptions,
  input: { plan: DropPlan; probe: ProbeSpec; handle?: string },
): Promise<ChildResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissionFlags(profile), "tests/runtime/drop_child.ts", JSON.stringify(input)],
    cwd: ROOT,
    env: { PROXMOX_MCP_TEST_VALUE: "present", NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  ok(out.success, `child failed (${out.code}):\n${new TextDecoder().decode(out.stderr)}\n${stdout}`);
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
}

function outcomes(results: Record<string, ProbeOutcome>): Record<string, string> {
  return Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.outcome]));
}

async function fixture() {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-drop-" });
  const configDir = join(dir, "config");
  const dataDir = join(dir, "data");
  await Deno.mkdir(configDir);
  await Deno.mkdir(join(dataDir, "audit"), { recursive: true });
  await Deno.writeTextFile(join(configDir, "config.json"), "{}");
  await Deno.writeTextFile(join(configDir, "ca.pem"), "pem");
  await Deno.writeTextFile(join(dataDir, "secrets.json"), "{}");
  return { dir, configDir, dataDir };
}

Deno.test("release profile, nothing needed later: env, read and write are denied after the drop", async () => {
  const { dir, configDir, dataDir } = await fixture();
  try {
    const config = join(configDir, "config.json");
    const r = await runChild({ profile: "release" }, {
      plan: { readDone: [config] },
      probe: {
        envAllowed: ["PROXMOX_MCP_TEST_VALUE"],
        readAllowed: [config],
        writeAllowed: [join(dataDir, "probe.txt")],
        connectDenied: [{ hostname: "169.254.169.254", port: 80 }],
      },
      handle: join(dataDir, "audit", "audit.jsonl"),
    });
    deepStrictEqual(outcomes(r.before), {
      "env PROXMOX_MCP_TEST_VALUE": "allowed",
      [`read ${config}`]: "allowed",
      [`write ${join(dataDir, "probe.txt")}`]: "allowed",
      "connect 169.254.169.254:80": "denied",
    });
    strictEqual(r.before["env PROXMOX_MCP_TEST_VALUE"]?.value, "present");
    // --ignore-env turns a revoked variable into undefined rather than an exception.
    strictEqual(r.after["env PROXMOX_MCP_TEST_VALUE"]?.value, "undefined");
    strictEqual(r.after[`read ${config}`]?.outcome, "denied");
    strictEqual(r.after[`write ${join(dataDir, "probe.txt")}`]?.outcome, "denied");
    ok(r.report.revoked.includes("env") && r.report.revoked.includes("read") && r.report.revoked.includes("write"));
    strictEqual(r.handleWrite, "allowed", "a file opened before the drop stays writable");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("release profile, audit still written: the global fs grants stay, env goes", async () => {
  const { dir, dataDir } = await fixture();
  try {
    const r = await runChild({ profile: "release" }, {
      plan: { keepWrite: [join(dataDir, "audit")] },
      probe: { envDenied: ["PROXMOX_MCP_TEST_VALUE"], writeAllowed: [join(dataDir, "audit", "x")] },
    });
    strictEqual(r.before["env PROXMOX_MCP_TEST_VALUE"]?.outcome, "allowed");
    strictEqual(r.after["env PROXMOX_MCP_TEST_VALUE"]?.outcome, "denied");
    strictEqual(r.after[`write ${join(dataDir, "audit", "x")}`]?.outcome, "allowed");
    ok(r.report.kept.some((k) => k.startsWith("write (global grant")), r.report.kept.join("; "));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("locked profile: the config directory is revoked, the data directory stays", async () => {
  const { dir, configDir, dataDir } = await fixture();
  try {
    const profile: ProfileOptions = { profile: "locked", pveHosts: ["127.0.0.1:8006"], configDir, dataDir };
    const config = join(configDir, "config.json");
    const store = join(dataDir, "secrets.json");
    const r = await runChild(profile, {
      plan: { readDone: [config, join(configDir, "ca.pem")], keepRead: [store], keepWrite: [join(dataDir, "audit")] },
      probe: { readAllowed: [config, store], writeAllowed: [join(dataDir, "audit", "x")], spawn: true },
    });
    deepStrictEqual(outcomes(r.before), {
      [`read ${config}`]: "allowed",
      [`read ${store}`]: "allowed",
      [`write ${join(dataDir, "audit", "x")}`]: "allowed",
      "spawn Deno.Command": "denied",
      "spawn node:child_process": "denied",
    });
    deepStrictEqual(outcomes(r.after), {
      [`read ${config}`]: "denied",
      [`read ${store}`]: "allowed",
      [`write ${join(dataDir, "audit", "x")}`]: "allowed",
      "spawn Deno.Command": "denied",
      "spawn node:child_process": "denied",
    });
    ok(r.report.revoked.includes(`read ${configDir}`), r.report.revoked.join(", "));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("under -A (development), run, ffi and sys are revoked too", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tests/runtime/drop_child.ts", JSON.stringify({ plan: {}, probe: { spawn: true, sys: true } })],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "{}") as ChildResult;
  strictEqual(r.before["spawn Deno.Command"]?.outcome, "allowed");
  strictEqual(r.before["sys hostname"]?.outcome, "allowed");
  strictEqual(r.after["spawn Deno.Command"]?.outcome, "denied");
  strictEqual(r.after["sys hostname"]?.outcome, "denied");
  for (const name of ["run", "ffi", "sys", "import", "env", "read", "write"]) ok(r.report.revoked.includes(name), name);
});

Deno.test("dropPlanFromConfig: start-up files are done, audit/store/tokens are kept", () => {
  const plan = dropPlanFromConfig({
    config: {
      clusters: { a: { caFile: "/etc/pve-mcp/ca.pem" }, b: {} },
      audit: { path: "/var/lib/pve-mcp/audit/audit.jsonl", keyFile: "/etc/pve-mcp/audit.key" },
      http: { tlsCertFile: "/etc/pve-mcp/tls.crt", tlsKeyFile: "/etc/pve-mcp/tls.key", tokensFile: "/var/lib/t.json" },
      secrets: { storeFile: "/var/lib/pve-mcp/secrets.json", masterKeyFile: "/run/secrets/master" },
    },
    files: { config: "/etc/pve-mcp/config.json" },
    origins: new Map([["clusters.a.tokenSecret", { file: "/run/secrets/token" }], ["x", {}]]),
  });
  deepStrictEqual(plan, {
    readDone: [
      "/etc/pve-mcp/config.json",
      "/etc/pve-mcp/ca.pem",
      "/etc/pve-mcp/tls.crt",
      "/etc/pve-mcp/tls.key",
      "/etc/pve-mcp/audit.key",
      "/run/secrets/master",
      "/run/secrets/token",
    ],
    // The store and the tokens file are rewritten atomically beside themselves: their directories stay writable.
    keepRead: ["/var/lib/pve-mcp", "/var/lib"],
    keepWrite: ["/var/lib/pve-mcp/audit", "/var/lib/pve-mcp", "/var/lib"],
  });
  const pveTokenMode = dropPlanFromConfig({
    config: {
      clusters: { a: { caFile: "/etc/pve-mcp/ca.pem" } },
      audit: {},
      http: { pveTokenMode: true },
      secrets: {},
    },
  });
  deepStrictEqual(pveTokenMode, { readDone: [], keepRead: ["/etc/pve-mcp/ca.pem"], keepWrite: [] });
});
