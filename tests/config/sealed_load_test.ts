import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfigDetailed } from "../../src/config/load.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { formatKeyFile, generateKeyBytes, MasterKey } from "../../src/crypto/keys.ts";
import { sealValue } from "../../src/crypto/sealed.ts";
import { sealLegacyValue } from "../../src/crypto/legacy_python.ts";
import { createSecretStore } from "../../src/secrets/store.ts";

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-sealed-" });
  const raw = generateKeyBytes();
  const keyFile = join(dir, "master.key");
  await Deno.writeTextFile(keyFile, await formatKeyFile(raw, new Date("2025-01-01T00:00:00Z")), { mode: 0o600 });
  const key = await MasterKey.fromBytes(raw, { source: "test" });
  return { dir, keyFile, key, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

async function problems(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return [...e.problems];
  }
  throw new Error("expected a ConfigError");
}

const now = () => Date.parse("2025-06-01T00:00:00Z");

Deno.test("sealed values open transparently from JSON, .env, the environment and NAME_FILE", async () => {
  const { dir, keyFile, key, cleanup } = await setup();
  try {
    const cfg = join(dir, "config.json");
    await Deno.writeTextFile(
      cfg,
      JSON.stringify({
        clusters: {
          prod: {
            host: "p",
            tokenId: "a@pam!t",
            tokenSecret: await sealValue(key, "json-secret", "clusters.prod.tokenSecret"),
          },
        },
      }),
      { mode: 0o600 },
    );
    await Deno.writeTextFile(
      join(dir, ".env"),
      `PROXMOX_MCP_ADMIN_TOKEN=${await sealValue(key, "dotenv-admin", "PROXMOX_MCP_ADMIN_TOKEN")}\n`,
      { mode: 0o600 },
    );
    await Deno.writeTextFile(join(dir, "pw"), `${await sealValue(key, "file-pw", "PROXMOX_WRITE_PASSWORD")}\n`, {
      mode: 0o600,
    });
    const loaded = await loadConfigDetailed({
      env: {
        PROXMOX_MCP_CONFIG: cfg,
        PROXMOX_MCP_MASTER_KEY_FILE: keyFile,
        PROXMOX_WRITE_USER: "w@pve",
        PROXMOX_WRITE_PASSWORD_FILE: join(dir, "pw"),
        PROXMOX_MCP_AUDIT_KEY: await sealValue(key, "env-audit-key-123456", "PROXMOX_MCP_AUDIT_KEY"),
      },
      cwd: dir,
      now,
    });
    const c = loaded.config.clusters.prod!;
    assert.equal(c.tokenSecret, "json-secret");
    assert.equal(c.write?.password, "file-pw");
    assert.equal(loaded.config.http.adminToken, "dotenv-admin");
    assert.equal(loaded.config.audit.key, "env-audit-key-123456");
    assert.equal(loaded.keyId, key.id);
    assert.equal(loaded.sealed.length, 4);
    assert.deepEqual(loaded.warnings, [], "sealed values raise no plain-secret warning");
  } finally {
    await cleanup();
  }
});

Deno.test("an alias variable opens a value sealed for its primary name", async () => {
  const { dir, keyFile, key, cleanup } = await setup();
  try {
    const loaded = await loadConfigDetailed({
      env: {
        PROXMOX_HOST: "h",
        PROXMOX_USER: "root@pam",
        PROXMOX_TOKEN_NAME: "mcp",
        PROXMOX_TOKEN_VALUE: await sealValue(key, "aliased", "PROXMOX_TOKEN_SECRET"),
        PROXMOX_MCP_MASTER_KEY_FILE: keyFile,
      },
      cwd: dir,
      now,
    });
    assert.equal(loaded.config.clusters.default!.tokenSecret, "aliased");
  } finally {
    await cleanup();
  }
});

Deno.test("the Python server's layout with our sealed value under auth.token_value", async () => {
  const { dir, keyFile, key, cleanup } = await setup();
  try {
    const cfg = join(dir, "config.json");
    const value = await sealValue(key, "legacy-layout", "auth.token_value");
    await Deno.writeTextFile(
      cfg,
      JSON.stringify({ proxmox: { host: "h" }, auth: { user: "a@pam", token_name: "t", token_value: value } }),
    );
    const loaded = await loadConfigDetailed({
      env: { PROXMOX_MCP_CONFIG: cfg, PROXMOX_MCP_MASTER_KEY_FILE: keyFile },
      cwd: dir,
      now,
    });
    assert.equal(loaded.config.clusters.default!.tokenSecret, "legacy-layout");
  } finally {
    await cleanup();
  }
});

Deno.test("errors: wrong key, missing key, moved value, damaged value, Fernet value, sealed key", async () => {
  const { dir, keyFile, key, cleanup } = await setup();
  try {
    const other = await MasterKey.fromBytes(generateKeyBytes(), { source: "other" });
    const otherFile = join(dir, "other.key");
    await Deno.writeTextFile(otherFile, await formatKeyFile(generateKeyBytes(), new Date()), { mode: 0o600 });
    const base = { PROXMOX_HOST: "h", PROXMOX_TOKEN_ID: "a@pam!t" };
    const sealed = await sealValue(key, "CANARY-sealed-1", "PROXMOX_TOKEN_SECRET");

    let p = await problems(
      loadConfigDetailed({
        env: { ...base, PROXMOX_TOKEN_SECRET: sealed, PROXMOX_MCP_MASTER_KEY_FILE: otherFile },
        cwd: dir,
        now,
      }),
    );
    assert.equal(p.length, 1);
    assert.match(
      p[0]!,
      new RegExp(
        `^the master key does not match: file sealed with key id ${key.id}, the current key has id [0-9a-f]{8}`,
      ),
    );

    p = await problems(loadConfigDetailed({ env: { ...base, PROXMOX_TOKEN_SECRET: sealed }, cwd: dir, now }));
    assert.match(
      p[0]!,
      new RegExp(`^value of PROXMOX_TOKEN_SECRET is sealed \\(key id ${key.id}\\) but no master key is set`),
    );

    p = await problems(loadConfigDetailed({
      env: { PROXMOX_HOST: "h", PROXMOX_USER: "a@pam", PROXMOX_PASSWORD: sealed, PROXMOX_MCP_MASTER_KEY_FILE: keyFile },
      cwd: dir,
      now,
    }));
    assert.match(p[0]!, /^value of PROXMOX_PASSWORD failed authentication: the file was changed or damaged/);

    const cfg = join(dir, "c.json");
    const jsonSealed = await sealValue(key, "CANARY-sealed-2", "auth.token_value");
    const damaged = jsonSealed.slice(0, -3) + (jsonSealed.at(-3) === "A" ? "B" : "A") + jsonSealed.slice(-2);
    await Deno.writeTextFile(
      cfg,
      JSON.stringify({ proxmox: { host: "h" }, auth: { user: "a@pam", token_name: "t", token_value: damaged } }),
    );
    p = await problems(
      loadConfigDetailed({ env: { PROXMOX_MCP_CONFIG: cfg, PROXMOX_MCP_MASTER_KEY_FILE: keyFile }, cwd: dir, now }),
    );
    assert.deepEqual(p, [
      `value of auth.token_value (in ${cfg}) failed authentication: the file was changed or damaged ` +
      "(a sealed value also fails when it is moved to another setting)",
    ]);

    const fernet = await sealLegacyValue("CANARY-py", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
    p = await problems(
      loadConfigDetailed({
        env: { ...base, PROXMOX_TOKEN_SECRET: fernet, PROXMOX_MCP_MASTER_KEY_FILE: keyFile },
        cwd: dir,
        now,
      }),
    );
    assert.match(p[0]!, /Python Proxmox MCP server's format \(Fernet\); convert it with `pve-mcp config migrate`/);

    p = await problems(
      loadConfigDetailed({
        env: { ...base, PROXMOX_TOKEN_SECRET: "x", PROXMOX_MCP_MASTER_KEY: sealed },
        cwd: dir,
        now,
      }),
    );
    assert.ok(
      p.some((l) => l.startsWith("PROXMOX_MCP_MASTER_KEY: the master key cannot itself be sealed")),
      p.join("\n"),
    );

    p = await problems(
      loadConfigDetailed({
        env: { ...base, PROXMOX_TOKEN_SECRET: "x", PROXMOX_MCP_MASTER_KEY: "CANARY-badkey" },
        cwd: dir,
        now,
      }),
    );
    assert.deepEqual(p, [
      "PROXMOX_MCP_MASTER_KEY: not a master key; expected 32 random bytes in base64 (make one with `pve-mcp config generate-key`)",
    ]);

    p = await problems(
      loadConfigDetailed({
        env: { ...base, PROXMOX_TOKEN_SECRET: "x", PROXMOX_MCP_MASTER_KEY: "a", PROXMOX_MCP_MASTER_KEY_FILE: keyFile },
        cwd: dir,
        now,
      }),
    );
    assert.deepEqual(p, ["PROXMOX_MCP_MASTER_KEY and PROXMOX_MCP_MASTER_KEY_FILE: set only one master key source"]);
    assert.ok(other.id);
  } finally {
    await cleanup();
  }
});

Deno.test("plain secrets keep working with a warning that suggests sealing", async () => {
  const { dir, cleanup } = await setup();
  try {
    await Deno.writeTextFile(
      join(dir, ".env"),
      "PROXMOX_HOST=h\nPROXMOX_TOKEN_ID=a@pam!t\nPROXMOX_TOKEN_SECRET=plain\n",
      { mode: 0o600 },
    );
    const loaded = await loadConfigDetailed({ env: { PROXMOX_PASSWORD: "pw", PROXMOX_USER: "a@pam" }, cwd: dir, now });
    assert.equal(loaded.config.clusters.default!.tokenSecret, "plain");
    assert.ok(
      loaded.warnings.includes(
        `PROXMOX_TOKEN_SECRET (in ${join(dir, ".env")}) holds a plain secret; seal it with: pve-mcp config encrypt ${
          join(dir, ".env")
        }`,
      ),
      loaded.warnings.join("\n"),
    );
    assert.ok(loaded.warnings.some((w) => w.startsWith("PROXMOX_PASSWORD holds a plain secret in the environment")));
  } finally {
    await cleanup();
  }
});

Deno.test("secret://NAME in a secret setting is read from the secret store", async () => {
  const { dir, keyFile, key, cleanup } = await setup();
  try {
    const storeFile = join(dir, "secrets.json");
    await createSecretStore(storeFile, key).set("pve-token", "from-store");
    const loaded = await loadConfigDetailed({
      env: {
        PROXMOX_HOST: "h",
        PROXMOX_TOKEN_ID: "a@pam!t",
        PROXMOX_TOKEN_SECRET: "secret://pve-token",
        PROXMOX_MCP_MASTER_KEY_FILE: keyFile,
        PROXMOX_MCP_SECRETS_FILE: storeFile,
      },
      cwd: dir,
      now,
    });
    assert.equal(loaded.config.clusters.default!.tokenSecret, "from-store");
    const p = await problems(loadConfigDetailed({
      env: {
        PROXMOX_HOST: "h",
        PROXMOX_TOKEN_ID: "a@pam!t",
        PROXMOX_TOKEN_SECRET: "secret://nope",
        PROXMOX_MCP_MASTER_KEY_FILE: keyFile,
        PROXMOX_MCP_SECRETS_FILE: storeFile,
      },
      cwd: dir,
      now,
    }));
    assert.match(p[0]!, /^PROXMOX_TOKEN_SECRET: Secret "nope" is not in the secret store/);
  } finally {
    await cleanup();
  }
});

Deno.test("key age: a warning past secrets.maxKeyAgeDays", async () => {
  const { dir, keyFile, key, cleanup } = await setup();
  try {
    const env = {
      PROXMOX_HOST: "h",
      PROXMOX_TOKEN_ID: "a@pam!t",
      PROXMOX_TOKEN_SECRET: await sealValue(key, "s", "PROXMOX_TOKEN_SECRET"),
      PROXMOX_MCP_MASTER_KEY_FILE: keyFile,
    };
    const young = await loadConfigDetailed({ env, cwd: dir, now });
    assert.deepEqual(young.warnings, []);
    const old = await loadConfigDetailed({ env, cwd: dir, now: () => Date.parse("2026-03-01T00:00:00Z") });
    assert.ok(
      old.warnings.some((w) => /is 424 days old, past the maximum of 365 days/.test(w)),
      old.warnings.join("\n"),
    );
    const custom = await loadConfigDetailed({ env: { ...env, PROXMOX_MCP_MAX_KEY_AGE_DAYS: "90" }, cwd: dir, now });
    assert.ok(custom.warnings.some((w) => /151 days old, past the maximum of 90 days/.test(w)));
  } finally {
    await cleanup();
  }
});
