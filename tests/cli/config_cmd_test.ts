import assert from "node:assert/strict";
import { join } from "node:path";
import { CONFIG_HELP, runConfigCommand } from "../../src/cli/config_cmd.ts";
import { loadConfigDetailed } from "../../src/config/load.ts";
import { formatKeyFile, generateKeyBytes, MasterKey, parseKeyText } from "../../src/crypto/keys.ts";
import { sealValue } from "../../src/crypto/sealed.ts";
import { parseSecretFile } from "../../src/config/secret_file.ts";
import { captureIo, modeOf, withTempDir } from "../secrets/helpers.ts";

const CANARY = "CANARY-cli-41d7";
const posix = Deno.build.os !== "windows";
const NOW = Date.parse("2025-06-01T12:00:00Z");

async function keyFileIn(dir: string, name = "master.key", created = new Date("2025-05-01T00:00:00Z")) {
  const raw = generateKeyBytes();
  const path = join(dir, name);
  await Deno.writeTextFile(path, await formatKeyFile(raw, created), { mode: 0o600 });
  return { path, key: await MasterKey.fromBytes(raw, { source: path }) };
}

Deno.test("config --help and every subcommand's --help", async () => {
  for (const sub of Object.keys(CONFIG_HELP)) {
    const c = captureIo();
    const code = await runConfigCommand(sub ? [sub, "--help"] : ["--help"], c.io);
    assert.equal(code, 0, sub);
    assert.match(c.stdout, sub ? new RegExp(`^Usage: pve-mcp config ${sub}`) : /^Usage: pve-mcp config <command>/);
  }
  const c = captureIo();
  assert.equal(await runConfigCommand(["frobnicate"], c.io), 2);
  assert.match(c.stderr, /Unknown config command "frobnicate"/);
  assert.equal(await runConfigCommand(["encrypt", "--bogus=x"], captureIo().io), 2);
});

Deno.test("generate-key: 0600 file, never overwritten; printing only to a terminal", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "k.key");
    let c = captureIo({ now: () => NOW });
    assert.equal(await runConfigCommand(["generate-key", "--out", out], c.io), 0);
    const text = await Deno.readTextFile(out);
    const parsed = parseKeyText(text, out);
    assert.equal(parsed.raw.length, 32);
    assert.equal(parsed.createdAt?.getTime(), NOW);
    if (posix) assert.equal(await modeOf(out), 0o600);
    assert.equal(c.stdout, "", "nothing on stdout");
    assert.ok(!c.all.includes(text.trim().split("\n").pop()!), "the key itself is not printed");
    c = captureIo();
    assert.equal(await runConfigCommand(["generate-key", "--out", out], c.io), 1);
    assert.equal(await Deno.readTextFile(out), text);
    c = captureIo({ terminal: false });
    assert.equal(await runConfigCommand(["generate-key", "--print"], c.io), 2);
    assert.equal(c.stdout, "");
    assert.match(c.stderr, /Refusing to print a key into a pipe/);
    c = captureIo({ terminal: true });
    assert.equal(await runConfigCommand(["generate-key", "--print"], c.io), 0);
    assert.equal(parseKeyText(c.stdout, "x").raw.length, 32);
    assert.equal(await runConfigCommand(["generate-key"], captureIo().io), 2);
  });
});

Deno.test("encrypt: seals JSON and .env in place with a backup; loadConfig opens them; no value printed", async () => {
  await withTempDir(async (dir) => {
    const { path: keyFile } = await keyFileIn(dir);
    const cfg = join(dir, "config.json");
    await Deno.writeTextFile(
      cfg,
      JSON.stringify({
        proxmox: { host: "pve" },
        auth: { user: "root@pam", token_name: "mcp", token_value: `${CANARY}-1` },
      }),
      { mode: 0o644 },
    );
    const env = join(dir, ".env");
    await Deno.writeTextFile(env, `# mine\nPROXMOX_MCP_ADMIN_TOKEN="${CANARY}-2"\nPROXMOX_MCP_MODE=operator\n`);
    const vars = { PROXMOX_MCP_MASTER_KEY_FILE: keyFile };
    for (const file of [cfg, env]) {
      const c = captureIo({ env: vars, cwd: dir, now: () => NOW });
      assert.equal(await runConfigCommand(["encrypt", file], c.io), 0, c.stderr);
      assert.ok(!c.all.includes(CANARY), c.all);
      assert.match(c.stderr, /Sealed 1 value in/);
      assert.match(c.stderr, /still holds the plain values/);
      assert.ok(!(await Deno.readTextFile(file)).includes(CANARY));
      if (posix) assert.equal(await modeOf(file), 0o600);
    }
    assert.match(
      await Deno.readTextFile(env),
      /^# mine\nPROXMOX_MCP_ADMIN_TOKEN=enc:v1:[^\n]+\nPROXMOX_MCP_MODE=operator\n$/,
    );
    const loaded = await loadConfigDetailed({ env: { ...vars, PROXMOX_MCP_CONFIG: cfg }, cwd: dir, now: () => NOW });
    assert.equal(loaded.config.clusters.default!.tokenSecret, `${CANARY}-1`);
    assert.equal(loaded.config.http.adminToken, `${CANARY}-2`);
    assert.equal(loaded.sealed.length, 2);
    const again = captureIo({ env: vars, cwd: dir });
    assert.equal(await runConfigCommand(["encrypt", cfg], again.io), 0);
    assert.match(again.stderr, /Nothing to seal/);
    const none = captureIo({ env: {}, cwd: dir });
    assert.equal(await runConfigCommand(["encrypt", cfg], none.io), 2);
    assert.match(none.stderr, /No master key is set/);
  });
});

Deno.test("encrypt -o OUT leaves the original and writes a sealed copy", async () => {
  await withTempDir(async (dir) => {
    const { path: keyFile } = await keyFileIn(dir);
    const cfg = join(dir, "c.json");
    const original = JSON.stringify({ clusters: { a: { host: "a", user: "u@pve", password: CANARY } } });
    await Deno.writeTextFile(cfg, original);
    const c = captureIo({ env: {}, cwd: dir });
    assert.equal(
      await runConfigCommand(["encrypt", cfg, "-o", join(dir, "sealed.json"), "--key-file", keyFile], c.io),
      0,
    );
    assert.equal(await Deno.readTextFile(cfg), original);
    const sealed = parseSecretFile("s.json", await Deno.readTextFile(join(dir, "sealed.json")));
    assert.deepEqual(sealed.slots.map((s) => [s.field, s.state]), [["clusters.a.password", "sealed"]]);
  });
});

Deno.test("status: states, key ids, checks, age — never values; exit 1 on a bad value or an old key", async () => {
  await withTempDir(async (dir) => {
    const { path: keyFile, key } = await keyFileIn(dir);
    const other = await keyFileIn(dir, "other.key");
    const cfg = join(dir, "c.json");
    await Deno.writeTextFile(
      cfg,
      JSON.stringify({
        clusters: {
          a: { host: "a", tokenId: "a@pam!t", tokenSecret: await sealValue(key, CANARY, "clusters.a.tokenSecret") },
          b: { host: "b", user: "u@pve", password: `${CANARY}-plain` },
          c: { host: "c", tokenId: "c@pam!t", tokenSecret: "secret://c-token" },
        },
        http: { adminToken: await sealValue(other.key, CANARY, "http.adminToken") },
      }),
      { mode: 0o644 },
    );
    const c = captureIo({ env: { PROXMOX_MCP_MASTER_KEY_FILE: keyFile }, cwd: dir, now: () => NOW });
    assert.equal(await runConfigCommand(["status", cfg], c.io), 1, "the value sealed with another key fails");
    assert.ok(!c.all.includes(CANARY), c.all);
    const rows = c.stdout.trim().split("\n").map((l) => l.split("\t"));
    assert.deepEqual(rows, [
      ["FIELD", "STATE", "KEY ID", "CHECK"],
      ["clusters.a.tokenSecret", "sealed", key.id!, "ok"],
      ["clusters.b.password", "plain", "", "seal with config encrypt"],
      ["clusters.c.tokenSecret", "secret-ref", "", ""],
      ["http.adminToken", "sealed", other.key.id!, "wrong key"],
    ]);
    assert.match(
      c.stderr,
      new RegExp(`Current key ${key.id} from PROXMOX_MCP_MASTER_KEY_FILE .*31 days old \\(maximum 365\\)`),
    );
    if (posix) assert.match(c.stderr, /can be read or changed by every user \(mode 0644\)/);
    assert.match(c.stderr, /1 plain secret: seal with pve-mcp config encrypt/);

    const j = captureIo({ env: { PROXMOX_MCP_MASTER_KEY_FILE: keyFile }, cwd: dir, now: () => NOW });
    await runConfigCommand(["status", cfg, "--json"], j.io);
    const report = JSON.parse(j.stdout);
    assert.equal(report.key.id, key.id);
    assert.equal(report.key.ageDays, 31);
    assert.equal(report.fields.length, 4);

    await Deno.writeTextFile(cfg, JSON.stringify({ audit: { key: await sealValue(key, "k", "audit.key") } }));
    const old = captureIo({ env: { PROXMOX_MCP_MASTER_KEY_FILE: keyFile }, cwd: dir, now: () => NOW });
    assert.equal(await runConfigCommand(["status", cfg, "--max-key-age-days", "30"], old.io), 1);
    assert.match(old.stderr, /The master key is 31 days old, past the maximum of 30/);
    const fine = captureIo({
      env: { PROXMOX_MCP_MASTER_KEY_FILE: keyFile, PROXMOX_MCP_MAX_KEY_AGE_DAYS: "60" },
      cwd: dir,
      now: () => NOW,
    });
    assert.equal(await runConfigCommand(["status", cfg], fine.io), 0, fine.stderr);
  });
});

Deno.test("rotate-key: new key beside the old one, file re-sealed and verified, summary", async () => {
  await withTempDir(async (dir) => {
    const keys = join(dir, "keys");
    await Deno.mkdir(keys);
    const { path: keyFile, key } = await keyFileIn(keys);
    const cfg = join(dir, "c.json");
    await Deno.writeTextFile(
      cfg,
      JSON.stringify({
        clusters: {
          a: { host: "a", tokenId: "a@pam!t", tokenSecret: await sealValue(key, CANARY, "clusters.a.tokenSecret") },
        },
      }),
    );
    const c = captureIo({ env: { PROXMOX_MCP_MASTER_KEY_FILE: keyFile }, cwd: dir, now: () => NOW });
    assert.equal(await runConfigCommand(["rotate-key", cfg], c.io), 0, c.stderr);
    const newKeyFile = join(keys, "master-20250601T120000Z.key");
    if (posix) assert.equal(await modeOf(newKeyFile), 0o600);
    assert.match(c.stdout, /^Summary: 1 processed, 0 skipped, 0 failed\n$/);
    assert.match(c.stderr, new RegExp(`is in ${newKeyFile.replaceAll("/", "\\/")}`));
    assert.ok(!c.all.includes(CANARY));
    const withNew = await loadConfigDetailed({
      env: { PROXMOX_MCP_CONFIG: cfg, PROXMOX_MCP_MASTER_KEY_FILE: newKeyFile },
      cwd: dir,
    });
    assert.equal(withNew.config.clusters.a!.tokenSecret, CANARY);
    await assert.rejects(
      loadConfigDetailed({ env: { PROXMOX_MCP_CONFIG: cfg, PROXMOX_MCP_MASTER_KEY_FILE: keyFile }, cwd: dir }),
      /the master key does not match/,
    );
    const nothing = captureIo({ env: { PROXMOX_MCP_MASTER_KEY: "x".repeat(4) }, cwd: dir });
    assert.equal(await runConfigCommand(["rotate-key", cfg], nothing.io), 2);
  });
});

Deno.test("rotate-key-all: progress, skips examples and plain files, one new key, resumable", async () => {
  await withTempDir(async (dir) => {
    const { path: keyFile, key } = await keyFileIn(dir, "old.key");
    const stray = await keyFileIn(dir, "stray.key");
    const conf = join(dir, "conf");
    await Deno.mkdir(join(conf, "sub"), { recursive: true });
    const sealedJson = async (field: string, k = key) =>
      JSON.stringify({
        clusters: { a: { host: "a", tokenId: "a@pam!t", tokenSecret: await sealValue(k, CANARY, field) } },
      });
    await Deno.writeTextFile(join(conf, "a.json"), await sealedJson("clusters.a.tokenSecret"));
    await Deno.writeTextFile(join(conf, "config.example.json"), await sealedJson("clusters.a.tokenSecret"));
    await Deno.writeTextFile(join(conf, "plain.json"), JSON.stringify({ policy: { mode: "admin" } }));
    await Deno.writeTextFile(
      join(conf, "sub", ".env"),
      `PROXMOX_TOKEN_SECRET=${await sealValue(key, CANARY, "PROXMOX_TOKEN_SECRET")}\n`,
    );
    await Deno.writeTextFile(join(conf, "sub", "other.json"), await sealedJson("clusters.a.tokenSecret", stray.key));
    const newKey = join(dir, "new.key");
    const c = captureIo({ env: { PROXMOX_MCP_MASTER_KEY_FILE: keyFile }, cwd: dir, now: () => NOW });
    assert.equal(await runConfigCommand(["rotate-key-all", conf, "--new-key-file", newKey], c.io), 1);
    assert.match(c.stdout, /^Summary: 2 processed, 1 skipped, 1 failed\n$/);
    for (const line of ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]) assert.ok(c.stderr.includes(line), c.stderr);
    assert.match(c.stderr, /plain\.json: skipped \(no sealed values\)/);
    assert.match(c.stderr, /other\.json: failed: the master key does not match/);
    assert.ok(!c.stderr.includes("config.example.json"), "example files are not touched");
    assert.ok(!c.all.includes(CANARY));
    // Running again with the same new key: done files are skipped, nothing is re-sealed twice.
    const again = captureIo({ env: { PROXMOX_MCP_MASTER_KEY_FILE: keyFile }, cwd: dir, now: () => NOW + 1000 });
    await runConfigCommand(["rotate-key-all", conf, "--new-key-file", newKey], again.io);
    assert.match(again.stdout, /^Summary: 0 processed, 3 skipped, 1 failed\n$/);
    assert.match(again.stderr, /Using the existing key/);
    const loaded = await loadConfigDetailed({
      env: { PROXMOX_HOST: "h", PROXMOX_TOKEN_ID: "a@pam!t", PROXMOX_MCP_MASTER_KEY_FILE: newKey },
      cwd: join(conf, "sub"),
    });
    assert.equal(loaded.config.clusters.default!.tokenSecret, CANARY);
  });
});

// Made with Python's `cryptography` exactly as the Python Proxmox MCP server does (see tests/crypto).
const PY_MASTER = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const PY_VALUE =
  "enc:ZGVmZ2hpamtsbW5vcHFycw==:Z0FBQUFBQnJBanJ6OGNGWHNOYVMtTkVCWmNFSldVZ2pFZmJyV2RzcWNELW9tUHo3NUhDMXJfaXlxVS1sR2FmRDlsOWpuTEFzRzBEdnh1T3NXWlJ0d0VJbTU4SU9WV19qYkE9PQ==";

Deno.test("migrate: the Python server's config becomes enc:v1 and loads; a wrong legacy key writes nothing", async () => {
  await withTempDir(async (dir) => {
    const cfg = join(dir, "config.json");
    const original = JSON.stringify(
      {
        proxmox: { host: "pve", port: 8006, verify_ssl: true, service: "PVE" },
        auth: { user: "root@pam", token_name: "mcp", token_value: PY_VALUE },
        logging: { level: "INFO" },
      },
      null,
      2,
    );
    await Deno.writeTextFile(cfg, original);
    const wrong = captureIo({ env: { PROXMOX_MCP_LEGACY_MASTER_KEY: btoa("y".repeat(32)) }, cwd: dir });
    assert.equal(await runConfigCommand(["migrate", cfg, "--new-key-file", join(dir, "k1.key")], wrong.io), 1);
    assert.equal(await Deno.readTextFile(cfg), original);
    assert.match(wrong.stderr, /auth\.token_value in .*: the legacy master key does not open this value/);

    await Deno.writeTextFile(join(dir, "py.key"), `${PY_MASTER}\n`);
    const newKey = join(dir, "master.key");
    const c = captureIo({ env: {}, cwd: dir, now: () => NOW });
    assert.equal(
      await runConfigCommand(
        ["migrate", cfg, "--legacy-key-file", join(dir, "py.key"), "--new-key-file", newKey],
        c.io,
      ),
      0,
      c.stderr,
    );
    assert.match(c.stderr, /Migrated 1 value of config\.json to enc:v1/);
    assert.ok(!c.all.includes("py-token-9f8e"));
    const loaded = await loadConfigDetailed({
      env: { PROXMOX_MCP_CONFIG: cfg, PROXMOX_MCP_MASTER_KEY_FILE: newKey },
      cwd: dir,
    });
    assert.equal(loaded.config.clusters.default!.tokenSecret, "py-token-9f8e");
    assert.equal(loaded.config.clusters.default!.tokenId, "root@pam!mcp");
    const before = captureIo({ env: { PROXMOX_MCP_CONFIG: join(dir, "config.json.bak-20250601T120000Z") }, cwd: dir });
    assert.equal(await runConfigCommand(["check"], before.io), 2, "the backup still has the Python value");
    assert.match(before.stderr, /config migrate/);
  });
});
