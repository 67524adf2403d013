import assert from "node:assert/strict";
import { join } from "node:path";
import { runConfigCommand } from "../../src/cli/config_cmd.ts";
import { startSimulator } from "../../src/sim/mod.ts";
import { ALL_TOOLS } from "../../src/tools/all.ts";
import { selectTools } from "../../src/tools/registry.ts";
import { toolFilter } from "../../src/server/build_app.ts";
import { requiredPrivileges } from "../../src/tools/docs.ts";
import { loadConfig } from "../../src/config/load.ts";
import { captureIo, withTempDir } from "../secrets/helpers.ts";

const CANARY = "CANARY-check-0b3e";

async function neededPrivileges(): Promise<string[]> {
  const config = await loadConfig({
    env: { PROXMOX_HOST: "h", PROXMOX_TOKEN_ID: "a@pam!b", PROXMOX_TOKEN_SECRET: "s" },
  });
  return requiredPrivileges(selectTools(ALL_TOOLS, toolFilter(config.policy)), config.policy.mode);
}

Deno.test("config check: every step against the simulator; exit codes 0, 1 and 2", async () => {
  const needed = await neededPrivileges();
  await using sim = await startSimulator({
    tokens: {
      exact: { tokenId: "mcp@pve!exact", secret: `${CANARY}-exact`, privs: needed },
      narrow: { tokenId: "mcp@pve!narrow", secret: `${CANARY}-narrow`, privs: ["VM.Audit"] },
    },
  });
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "ca.pem"), sim.caCertPem);
    await Deno.writeTextFile(join(dir, "token"), `${CANARY}-exact\n`, { mode: 0o600 });
    const base = { PROXMOX_HOST: sim.host, PROXMOX_PORT: String(sim.port), PROXMOX_CA_FILE: join(dir, "ca.pem") };

    let c = captureIo({
      cwd: dir,
      env: { ...base, PROXMOX_TOKEN_ID: "mcp@pve!exact", PROXMOX_TOKEN_SECRET_FILE: join(dir, "token") },
    });
    assert.equal(await runConfigCommand(["check"], c.io), 0, c.stderr);
    assert.ok(c.stdout.includes(`default\t${sim.host}:${sim.port}\tsha256\t${sim.fingerprint}\n`), c.stdout);
    assert.match(c.stdout, /config check: 5 passed, 0 warnings, 0 failed/);
    assert.match(c.stderr, /tls: certificate trusted/);
    assert.match(c.stderr, /login: logged in as token mcp@pve!exact; Proxmox VE/);
    assert.match(
      c.stderr,
      new RegExp(`privileges: all ${needed.length} privileges the \\d+ enabled tools need are held`),
    );
    assert.ok(!c.all.includes(CANARY));

    c = captureIo({
      cwd: dir,
      env: { ...base, PROXMOX_TOKEN_ID: "mcp@pve!narrow", PROXMOX_TOKEN_SECRET: `${CANARY}-narrow` },
    });
    assert.equal(await runConfigCommand(["--test"], c.io), 1, "the alias --test runs the check");
    const missing = needed.filter((p) => p !== "VM.Audit");
    assert.ok(c.stderr.includes(`missing for the`) && missing.every((p) => c.stderr.includes(p)), c.stderr);
    assert.ok(!c.all.includes(CANARY));

    c = captureIo({
      cwd: dir,
      env: { ...base, PROXMOX_TOKEN_ID: sim.tokens.admin.tokenId, PROXMOX_TOKEN_SECRET: sim.tokens.admin.secret },
    });
    assert.equal(await runConfigCommand(["check", "--json"], c.io), 0);
    const report = JSON.parse(c.stdout);
    assert.equal(report.ok, true);
    assert.equal(report.steps.find((s: { step: string }) => s.step === "tls").fingerprint, sim.fingerprint);
    const warnings = report.steps.filter((s: { status: string }) => s.status === "warn").map((s: { message: string }) =>
      s.message
    );
    assert.ok(warnings.some((w: string) => w.startsWith("the credential belongs to root@pam")), warnings.join("\n"));
    assert.ok(warnings.some((w: string) => w.startsWith("the credential holds Administrator-level privileges on /")));

    c = captureIo({
      cwd: dir,
      env: { ...base, PROXMOX_TOKEN_ID: "mcp@pve!exact", PROXMOX_TOKEN_SECRET: `${CANARY}-wrong` },
    });
    assert.equal(await runConfigCommand(["check"], c.io), 1);
    assert.match(c.stderr, /login: /);
    assert.ok(!c.all.includes(CANARY));

    c = captureIo({ cwd: dir, env: { ...base, PROXMOX_PORT: "http" } });
    assert.equal(await runConfigCommand(["check"], c.io), 2);
    assert.match(c.stderr, /PROXMOX_PORT: expected an integer from 1 to 65535/);
  });
});

Deno.test("config check --pin: trust on first use written into the JSON config, then verified", async () => {
  await using sim = await startSimulator();
  await withTempDir(async (dir) => {
    const cfg = join(dir, "config.json");
    await Deno.writeTextFile(
      cfg,
      JSON.stringify({
        clusters: {
          lab: {
            host: sim.host,
            port: sim.port,
            tokenId: sim.tokens.auditor.tokenId,
            tokenSecret: sim.tokens.auditor.secret,
          },
        },
        policy: { toolsets: ["cluster"] },
      }),
      { mode: 0o600 },
    );
    const env = { PROXMOX_MCP_CONFIG: cfg };
    let c = captureIo({ cwd: dir, env });
    assert.equal(await runConfigCommand(["check"], c.io), 1, "an unknown CA fails without --pin");
    assert.match(c.stderr, /certificate not trusted .*pin it with --pin or set PROXMOX_CA_FILE/);
    c = captureIo({ cwd: dir, env, now: () => Date.parse("2025-01-01T00:00:00Z") });
    const code = await runConfigCommand(["check", "--pin"], c.io);
    assert.match(c.stderr, new RegExp(`pin: pinned ${sim.fingerprint} as clusters.lab.fingerprint in`));
    assert.equal(JSON.parse(await Deno.readTextFile(cfg)).clusters.lab.fingerprint, sim.fingerprint);
    await Deno.stat(`${cfg}.bak-20250101T000000Z`);
    assert.ok(!c.stderr.includes("login: cannot"), c.stderr);
    assert.ok(code === 0 || /privileges: missing/.test(c.stderr), c.stderr);
    c = captureIo({ cwd: dir, env });
    await runConfigCommand(["check"], c.io);
    assert.match(c.stderr, /tls: certificate matches the pinned fingerprint/);
  });
});
