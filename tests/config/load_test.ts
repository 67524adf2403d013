import assert from "node:assert/strict";
import { loadConfig, loadConfigDetailed, scrubSecretEnv } from "../../src/config/load.ts";
import { CONFIG_ERROR_EXIT_CODE, ConfigError, exitCodeFor } from "../../src/config/errors.ts";
import { BASE_ENV, memFs } from "./helpers.ts";

const CWD = "/srv/app";

async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return [...error.problems];
  }
  throw new Error("expected the configuration to be rejected");
}

Deno.test("defaults: one env-only cluster named default with the documented defaults", async () => {
  const config = await loadConfig({ env: BASE_ENV, cwd: CWD, ...memFs({}) });
  assert.deepEqual(Object.keys(config.clusters), ["default"]);
  assert.equal(config.defaultCluster, "default");
  const c = config.clusters.default!;
  assert.equal(c.host, "pve.example.com");
  assert.equal(c.port, 8006);
  assert.equal(c.verifySsl, true);
  assert.equal(c.timeoutMs, 20_000);
  // The latency budget fits an MCP client's patience: a host that never answers fails a call within 30 s.
  assert.deepEqual([c.connectTimeoutMs, c.retries, c.deadlineMs], [5_000, 1, 25_000]);
  assert.ok(c.deadlineMs < 30_000 && c.connectTimeoutMs * (c.retries + 1) < c.deadlineMs);
  assert.equal(config.policy.mode, "read-only");
  assert.equal(config.policy.confirmWithoutElicitation, "refuse");
  assert.deepEqual(config.rateLimit, { perMinute: 100, writesPerMinute: 20, destructivePerMinute: 5 });
  assert.ok(config.rateLimit.writesPerMinute < config.rateLimit.perMinute);
  assert.ok(config.rateLimit.destructivePerMinute < config.rateLimit.writesPerMinute);
  assert.equal(config.http.host, "127.0.0.1");
  assert.equal(config.http.port, 8080);
  assert.equal(config.http.path, "/mcp");
  assert.equal(config.http.adminHost, "127.0.0.1");
  assert.equal(config.http.adminPort, 8081);
  assert.equal(config.secrets.maxKeyAgeDays, 365);
  assert.equal(config.logging.level, "info");
});

Deno.test("precedence: flag > env > .env > JSON file", async () => {
  const files = {
    [`${CWD}/c.json`]: JSON.stringify({ policy: { mode: "admin" }, logging: { level: "error" } }),
    [`${CWD}/.env`]: "PROXMOX_MCP_MODE=operator\nPROXMOX_MCP_CONFIG=c.json\nPROXMOX_MCP_LOG_LEVEL=warning\n",
  };
  const base = { cwd: CWD, ...memFs(files) };
  const env = { ...BASE_ENV, PROXMOX_MCP_MODE: "read-only", PROXMOX_MCP_LOG_LEVEL: "debug" };
  let config = await loadConfig({ ...base, env, args: ["--mode", "admin", "--log-level", "error"] });
  assert.equal(config.policy.mode, "admin");
  assert.equal(config.logging.level, "error");
  config = await loadConfig({ ...base, env });
  assert.equal(config.policy.mode, "read-only");
  assert.equal(config.logging.level, "debug");
  config = await loadConfig({ ...base, env: BASE_ENV });
  assert.equal(config.policy.mode, "operator", ".env beats the JSON file");
  assert.equal(config.logging.level, "warning");
  const missing = await problemsOf(
    loadConfig({ ...base, env: { ...BASE_ENV, PROXMOX_MCP_ENV_FILE: "none.env" }, args: ["--config", "c.json"] }),
  );
  assert.deepEqual(missing, [`cannot read ${CWD}/none.env: the file does not exist`], "a named .env must exist");
  config = await loadConfig({
    ...base,
    env: { ...BASE_ENV, PROXMOX_MCP_ENV_FILE: "c.json" },
    flags: { config: "c.json" },
  })
    .catch(() =>
      loadConfig({
        cwd: CWD,
        ...memFs({ [`${CWD}/c.json`]: files[`${CWD}/c.json`] }),
        env: BASE_ENV,
        args: ["--config", "c.json"],
      })
    );
  assert.equal(config.policy.mode, "admin", "the JSON file applies when nothing else sets the mode");
});

Deno.test("precedence: pre-parsed flags object beats args and ignores foreign keys", async () => {
  const config = await loadConfig({
    env: BASE_ENV,
    cwd: CWD,
    ...memFs({}),
    args: ["--mode", "operator"],
    flags: { mode: "admin", http: true, stdio: undefined },
  });
  assert.equal(config.policy.mode, "admin");
});

Deno.test("aliases of the existing servers: USERNAME, TOKEN_NAME, TOKEN_VALUE, VERIFY", async () => {
  const config = await loadConfig({
    env: {
      PROXMOX_HOST: "10.0.0.5",
      PROXMOX_PORT: "8443",
      PROXMOX_USERNAME: "mcp@pve",
      PROXMOX_TOKEN_NAME: "reader",
      PROXMOX_TOKEN_VALUE: "secret-value",
      PROXMOX_VERIFY: "false",
    },
    cwd: CWD,
    ...memFs({}),
  });
  const c = config.clusters.default!;
  assert.equal(c.tokenId, "mcp@pve!reader");
  assert.equal(c.tokenSecret, "secret-value");
  assert.equal(c.port, 8443);
  assert.equal(c.verifySsl, false);
});

Deno.test("token id: full user@realm!name accepted; name without user rejected", async () => {
  let config = await loadConfig({ env: { ...BASE_ENV, PROXMOX_USER: "other@pve" }, cwd: CWD, ...memFs({}) });
  assert.equal(config.clusters.default!.tokenId, "root@pam!mcp", "a full id is kept as given");
  config = await loadConfig({ env: { ...BASE_ENV, PROXMOX_TOKEN_ID: "mcp", PROXMOX_USER: "root@pam" }, cwd: CWD });
  assert.equal(config.clusters.default!.tokenId, "root@pam!mcp");
  const problems = await problemsOf(
    loadConfig({ env: { ...BASE_ENV, PROXMOX_TOKEN_ID: "mcp" }, cwd: CWD, ...memFs({}) }),
  );
  assert.deepEqual(problems, ["PROXMOX_TOKEN_ID: expected user@realm!tokenname (e.g. root@pam!mcp)"]);
});

Deno.test("alias conflicts: the primary name wins with a warning; NAME and NAME_FILE together is an error", async () => {
  const files = { "/run/secrets/token": "from-file\n" };
  const loaded = await loadConfigDetailed({
    env: { ...BASE_ENV, PROXMOX_TOKEN_VALUE: "other" },
    cwd: CWD,
    ...memFs(files),
  });
  assert.equal(loaded.config.clusters.default!.tokenSecret, BASE_ENV.PROXMOX_TOKEN_SECRET);
  assert.ok(loaded.warnings.some((w) => w.includes("PROXMOX_TOKEN_VALUE is ignored because PROXMOX_TOKEN_SECRET")));
  const problems = await problemsOf(
    loadConfig({ env: { ...BASE_ENV, PROXMOX_TOKEN_SECRET_FILE: "/run/secrets/token" }, cwd: CWD, ...memFs(files) }),
  );
  assert.deepEqual(problems, [
    "PROXMOX_TOKEN_SECRET: set only one of PROXMOX_TOKEN_SECRET and PROXMOX_TOKEN_SECRET_FILE",
  ]);
});

Deno.test("_FILE: every secret can come from a file; trailing newline trimmed; missing file named", async () => {
  const files = {
    "/run/secrets/token": "tok-secret\n",
    "/run/secrets/pw": "pw-secret\r\n",
    [`${CWD}/admin.txt`]: "admin-secret\n",
    "/run/secrets/wtoken": "write-secret",
  };
  const env = {
    PROXMOX_HOST: "pve",
    PROXMOX_TOKEN_ID: "root@pam!mcp",
    PROXMOX_TOKEN_SECRET_FILE: "/run/secrets/token",
    PROXMOX_USER: "root@pam",
    PROXMOX_PASSWORD_FILE: "/run/secrets/pw",
    PROXMOX_WRITE_TOKEN_ID: "writer",
    PROXMOX_WRITE_TOKEN_SECRET_FILE: "/run/secrets/wtoken",
    PROXMOX_MCP_ADMIN_TOKEN_FILE: "admin.txt",
    PROXMOX_MCP_AUDIT_KEY_FILE: "/etc/pve-mcp/audit.key",
  };
  const config = await loadConfig({ env, cwd: CWD, ...memFs(files) });
  const c = config.clusters.default!;
  assert.equal(c.tokenSecret, "tok-secret");
  assert.equal(c.password, "pw-secret");
  assert.deepEqual(c.write, { tokenId: "root@pam!writer", tokenSecret: "write-secret" });
  assert.equal(config.http.adminToken, "admin-secret");
  assert.equal(config.audit.keyFile, "/etc/pve-mcp/audit.key");
  const problems = await problemsOf(
    loadConfig({ env: { ...env, PROXMOX_TOKEN_SECRET_FILE: "/run/secrets/nope" }, cwd: CWD, ...memFs(files) }),
  );
  assert.deepEqual(problems, [
    "PROXMOX_TOKEN_SECRET_FILE: cannot read /run/secrets/nope: the file does not exist",
    "PROXMOX_TOKEN_SECRET (config file: clusters.default.tokenSecret): not set, but the token id is",
  ]);
});

Deno.test(".env in the working directory: parsed, env beats it, optional when absent", async () => {
  const files = {
    [`${CWD}/.env`]: [
      "# comment",
      "PROXMOX_HOST=pve-from-dotenv",
      'PROXMOX_TOKEN_ID="root@pam!mcp"',
      "PROXMOX_TOKEN_SECRET='dotenv-secret'",
      "export PROXMOX_PORT=9000",
    ].join("\n"),
  };
  const loaded = await loadConfigDetailed({ env: { PROXMOX_PORT: "8006" }, cwd: CWD, ...memFs(files) });
  const c = loaded.config.clusters.default!;
  assert.equal(c.host, "pve-from-dotenv");
  assert.equal(c.tokenSecret, "dotenv-secret");
  assert.equal(c.port, 8006, "the environment beats .env");
  assert.equal(loaded.files.dotenv, `${CWD}/.env`);
  assert.equal(loaded.origins.get("clusters.default.host")?.label, `PROXMOX_HOST (in ${CWD}/.env)`);
  const without = await loadConfigDetailed({ env: BASE_ENV, cwd: CWD, ...memFs({}) });
  assert.equal(without.files.dotenv, undefined);
});

Deno.test("JSON: the Python server's proxmox/auth layout", async () => {
  const files = {
    "/etc/pve-mcp/config.json": JSON.stringify({
      proxmox: { host: "pve.lan", port: 8006, verify_ssl: false, service: "PVE" },
      auth: { user: "root@pam", token_name: "mcp", token_value: "py-secret" },
      logging: { level: "DEBUG", format: "%(message)s", file: "x.log" },
    }),
  };
  const loaded = await loadConfigDetailed({
    env: { PROXMOX_MCP_CONFIG: "/etc/pve-mcp/config.json" },
    cwd: CWD,
    ...memFs(files),
  });
  const c = loaded.config.clusters.default!;
  assert.deepEqual(
    { host: c.host, port: c.port, verifySsl: c.verifySsl, tokenId: c.tokenId, tokenSecret: c.tokenSecret },
    { host: "pve.lan", port: 8006, verifySsl: false, tokenId: "root@pam!mcp", tokenSecret: "py-secret" },
  );
  assert.equal(loaded.config.logging.level, "debug");
  assert.equal(loaded.origins.get("clusters.default.tokenSecret")?.aad, "auth.token_value");
  assert.equal(loaded.warnings.filter((w) => w.includes("is a setting of another server")).length, 3);
});

Deno.test("JSON: our multi-cluster layout; env applies to the default cluster", async () => {
  const file = {
    defaultCluster: "prod",
    clusters: {
      lab: { host: "lab.lan", tokenId: "root@pam!lab", tokenSecret: "lab-secret", verifySsl: false },
      prod: { host: "prod.lan", user: "ops@pve", password: "prod-pw", fingerprint: "ab".repeat(32) },
    },
    policy: { mode: "operator", toolsets: ["guests", "storage"], protected: { vmids: ["100-199"] } },
  };
  const files = { "/cfg/c.json": JSON.stringify(file) };
  const config = await loadConfig({
    env: { PROXMOX_PORT: "8443" },
    args: ["--config", "/cfg/c.json"],
    cwd: CWD,
    ...memFs(files),
  });
  assert.equal(config.defaultCluster, "prod");
  assert.equal(config.clusters.prod!.port, 8443);
  assert.equal(config.clusters.lab!.port, 8006);
  assert.equal(config.clusters.prod!.fingerprint, Array(32).fill("AB").join(":"));
  assert.deepEqual(config.policy.toolsets, ["guests", "storage"]);
  assert.deepEqual(config.policy.protected.vmids, ["100-199"]);

  delete (file as { defaultCluster?: string }).defaultCluster;
  const files2 = { "/cfg/c.json": JSON.stringify(file) };
  const problems = await problemsOf(
    loadConfig({ env: { PROXMOX_PORT: "8443" }, args: ["--config", "/cfg/c.json"], cwd: CWD, ...memFs(files2) }),
  );
  assert.equal(problems.length, 1);
  assert.match(
    problems[0]!,
    /^PROXMOX_PORT: 2 clusters are configured in \/cfg\/c.json; set PROXMOX_MCP_DEFAULT_CLUSTER/,
  );
  const noEnv = await loadConfig({ env: {}, args: ["--config", "/cfg/c.json"], cwd: CWD, ...memFs(files2) });
  assert.equal(noEnv.defaultCluster, "lab", "without a choice the first cluster is the default");
  const bad = await problemsOf(
    loadConfig({
      env: { PROXMOX_MCP_DEFAULT_CLUSTER: "nope" },
      args: ["--config", "/cfg/c.json"],
      cwd: CWD,
      ...memFs(files2),
    }),
  );
  assert.ok(bad.some((p) => p.startsWith("PROXMOX_MCP_DEFAULT_CLUSTER: ")), bad.join("\n"));
});

Deno.test("errors: every problem listed by variable or file key, exit code 2", async () => {
  const files = {
    "/cfg/c.json": JSON.stringify({
      clusters: { prod: { host: "p", tokenId: "root@pam!x", tokenSecret: "s", hots: "typo", port: 70000 } },
      policy: { mode: "god", guests: { vmids: ["abc"] } },
      http: { tlsCertFile: "/x.pem" },
      bogus: 1,
    }),
  };
  const env = {
    PROXMOX_MCP_CONFIG: "/cfg/c.json",
    PROXMOX_MCP_RATE_LIMIT_PER_MINUTE: "many",
    PROXMOX_MCP_HTTP_PORT: "99999",
    PROXMOX_MCP_LOG_LEVEL: "loud",
    PROXMOX_MCP_AUDIT_FAIL_READS_ON_ERROR: "maybe",
  };
  let error: unknown;
  try {
    await loadConfig({ env, cwd: CWD, ...memFs(files) });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ConfigError);
  assert.equal(exitCodeFor(error), CONFIG_ERROR_EXIT_CODE);
  assert.equal(CONFIG_ERROR_EXIT_CODE, 2);
  assert.equal(exitCodeFor(new Error("x")), 1);
  const expected = [
    "clusters.prod.hots (in /cfg/c.json): unknown setting (did you mean host?)",
    "clusters.prod.port (in /cfg/c.json): expected an integer from 1 to 65535",
    "policy.mode (in /cfg/c.json): expected one of read-only, operator, admin",
    "policy.guests.vmids (in /cfg/c.json) (item 1): expected VM ids or ranges such as 100 or 100-199",
    "PROXMOX_MCP_RATE_LIMIT_PER_MINUTE: expected an integer from 1 to 1000000",
    "PROXMOX_MCP_AUDIT_FAIL_READS_ON_ERROR: expected true or false",
    "PROXMOX_MCP_HTTP_PORT: expected an integer from 0 to 65535",
    "PROXMOX_MCP_HTTP_TLS_KEY_FILE (config file: http.tlsKeyFile): not set: HTTPS needs both a certificate and a key",
    "PROXMOX_MCP_LOG_LEVEL: expected one of debug, info, warning, error",
    "bogus (in /cfg/c.json): unknown setting",
  ];
  for (const line of expected) assert.ok(error.problems.includes(line), `missing: ${line}\n${error.message}`);
  assert.equal(error.problems.length, expected.length, error.message);
  assert.match(error.message, /^Invalid configuration: 10 problems\n/);
});

Deno.test("errors: no host and no credential name the variables and file keys", async () => {
  const problems = await problemsOf(loadConfig({ env: {}, cwd: CWD, ...memFs({}) }));
  assert.deepEqual(problems, [
    "PROXMOX_HOST (config file: clusters.default.host): not set: the Proxmox VE host name or address is required",
    'cluster "default": no credential: set an API token (id and secret) or a user and password ' +
    "(PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET, or PROXMOX_USER and PROXMOX_PASSWORD; config file: " +
    "clusters.default.tokenId and .tokenSecret)",
  ]);
  const legacy = await problemsOf(
    loadConfig({
      env: { PROXMOX_MCP_CONFIG: "/c.json" },
      cwd: CWD,
      ...memFs({ "/c.json": '{"auth":{"user":"a@pam"}}' }),
    }),
  );
  assert.ok(
    legacy.includes(
      "PROXMOX_HOST (config file: clusters.default.host or proxmox.host): not set: " +
        "the Proxmox VE host name or address is required",
    ),
    legacy.join("\n"),
  );
});

Deno.test("errors: bad JSON reports the position, never the text", async () => {
  const canary = "CANARY-json-7f3a";
  const files = { "/c.json": `{\n  "auth": {"token_value": "${canary}" oops }\n}` };
  const problems = await problemsOf(loadConfig({ env: { PROXMOX_MCP_CONFIG: "/c.json" }, cwd: CWD, ...memFs(files) }));
  assert.ok(problems.some((p) => /^\/c.json: not valid JSON \(line 2, column \d+\)$/.test(p)), problems.join("\n"));
  assert.ok(!problems.join("\n").includes(canary));
});

Deno.test("errors: an unreadable, empty or invalid config file is the only problem reported (no knock-on errors)", async () => {
  for (
    const [files, want] of [
      [{ "/c.json": "{" }, /^\/c.json: not valid JSON/],
      [{ "/c.json": "  \n" }, /^\/c.json: the file is empty/],
      [{ "/c.json": "[1]" }, /^\/c.json: expected a JSON object/],
      [{}, /^cannot read \/c.json: the file does not exist$/],
    ] as const
  ) {
    const problems = await problemsOf(
      loadConfig({ env: { PROXMOX_MCP_CONFIG: "/c.json" }, cwd: CWD, ...memFs(files) }),
    );
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(problems[0]!, want);
  }
});

Deno.test("canary: no secret value appears in any problem or warning", async () => {
  const canary = "CANARY-5e1b9d";
  const files = {
    "/run/s": `${canary}-file\n`,
    "/c.json": JSON.stringify({
      clusters: { a: { host: "h", tokenId: `${canary}-id`, tokenSecret: `${canary}-a`, password: `${canary}-b` } },
      audit: { key: `${canary}-audit`, maxBytes: canary },
      http: { adminToken: "" },
      secrets: { masterKey: `${canary}-mk` },
    }),
  };
  const env = {
    PROXMOX_MCP_CONFIG: "/c.json",
    PROXMOX_TOKEN_SECRET: `${canary}-env`,
    PROXMOX_PASSWORD: `${canary}-pw`,
    PROXMOX_WRITE_TOKEN_SECRET: `${canary}-w`,
    PROXMOX_WRITE_PASSWORD_FILE: "/run/s",
    PROXMOX_MCP_ADMIN_TOKEN: `${canary}-admin`,
    PROXMOX_PORT: canary,
    PROXMOX_USER: canary,
    PROXMOX_MCP_MODE: canary,
    PROXMOX_MCP_TOKEN_SECRET: canary,
  };
  let text = "";
  try {
    const loaded = await loadConfigDetailed({
      env,
      cwd: CWD,
      args: [`--tokensecret=${canary}`, canary],
      ...memFs(files),
    });
    text = loaded.warnings.join("\n");
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    text = error.message;
  }
  assert.ok(text.length > 0);
  assert.ok(!text.includes(canary), text);
});

Deno.test("paths are made absolute against the config file's directory or the working directory", async () => {
  const files = {
    "/etc/pve-mcp/c.json": JSON.stringify({
      clusters: { a: { host: "h", tokenId: "a@pam!b", tokenSecret: "s", caFile: "ca.pem" } },
    }),
  };
  const config = await loadConfig({
    env: { PROXMOX_MCP_CONFIG: "/etc/pve-mcp/c.json", PROXMOX_MCP_AUDIT_PATH: "logs/audit.jsonl", HOME: "/home/u" },
    args: ["--secrets-file", "~/secrets.json"],
    cwd: CWD,
    ...memFs(files),
  });
  assert.equal(config.clusters.a!.caFile, "/etc/pve-mcp/ca.pem");
  assert.equal(config.audit.path, `${CWD}/logs/audit.jsonl`);
  assert.equal(config.secrets.storeFile, "/home/u/secrets.json");
});

Deno.test("values: booleans, lists, levels and modes in their usual spellings", async () => {
  const config = await loadConfig({
    env: {
      ...BASE_ENV,
      PROXMOX_VERIFY_SSL: "No",
      PROXMOX_MCP_TOOLSETS: " guests, storage ,,tasks ",
      PROXMOX_MCP_LOG_LEVEL: "WARN",
      PROXMOX_MCP_MODE: "READONLY",
      PROXMOX_MCP_HTTP_PVE_TOKEN_MODE: "on",
      PROXMOX_MCP_HTTP_ALLOW_NETWORKS: "10.0.0.0/8, fd00::/8",
    },
    cwd: CWD,
    ...memFs({}),
  });
  assert.equal(config.clusters.default!.verifySsl, false);
  assert.deepEqual(config.policy.toolsets, ["guests", "storage", "tasks"]);
  assert.equal(config.logging.level, "warning");
  assert.equal(config.policy.mode, "read-only");
  assert.equal(config.http.pveTokenMode, true);
  assert.deepEqual(config.http.allowNetworks, ["10.0.0.0/8", "fd00::/8"]);
});

Deno.test("flags: unknown options and stray arguments are problems", async () => {
  const problems = await problemsOf(
    loadConfig({ env: BASE_ENV, cwd: CWD, args: ["--nope", "--mode"], ...memFs({}) }),
  );
  assert.deepEqual(problems, ["--nope: unknown option (see docs/configuration.md)", "--mode: expects a value"]);
});

Deno.test("requireCluster: false accepts a configuration without clusters", async () => {
  const config = await loadConfig({
    env: { PROXMOX_MCP_HTTP_PORT: "0" },
    cwd: CWD,
    requireCluster: false,
    ...memFs({}),
  });
  assert.deepEqual(config.clusters, {});
  assert.equal(config.http.port, 0);
});

Deno.test("scrubSecretEnv removes every secret variable and nothing else", () => {
  const removed: string[] = [];
  scrubSecretEnv({ delete: (name) => void removed.push(name) });
  for (const name of ["PROXMOX_TOKEN_SECRET", "PROXMOX_TOKEN_VALUE", "PROXMOX_PASSWORD", "PROXMOX_MCP_MASTER_KEY"]) {
    assert.ok(removed.includes(name), name);
  }
  assert.ok(!removed.includes("PROXMOX_HOST"));
});

Deno.test("file modes: group- or world-readable secret files are warned about; Windows gets advice", async () => {
  const files = {
    [`${CWD}/.env`]: { text: "PROXMOX_TOKEN_SECRET=s\nPROXMOX_HOST=h\nPROXMOX_TOKEN_ID=a@pam!b\n", mode: 0o100644 },
    "/run/pw": { text: "pw", mode: 0o100600 },
  };
  const loaded = await loadConfigDetailed({ env: {}, cwd: CWD, ...memFs(files) });
  assert.ok(
    loaded.warnings.includes(
      `${CWD}/.env can be read or changed by every user (mode 0644); restrict it with: chmod 600 ${CWD}/.env`,
    ),
    loaded.warnings.join("\n"),
  );
  const win = await loadConfigDetailed({
    env: {},
    cwd: CWD,
    ...memFs({ [`${CWD}/.env`]: { text: files[`${CWD}/.env`].text, mode: null } }),
  });
  assert.ok(win.warnings.some((w) => w.startsWith("file permissions cannot be checked on Windows")));
});

Deno.test("loadConfig logs its warnings as JSON lines on stderr, nothing on stdout, no values", async () => {
  const canary = "CANARY-log-77e1";
  const module = new URL("../../src/config/load.ts", import.meta.url).href;
  const code = `import { loadConfig } from "${module}"; await loadConfig({ cwd: "/" });`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    env: { PROXMOX_HOST: "h", PROXMOX_TOKEN_ID: "a@pam!b", PROXMOX_TOKEN_SECRET: canary, NO_COLOR: "1" },
    clearEnv: false,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.equal(new TextDecoder().decode(out.stdout), "");
  const line = JSON.parse(stderr.trim().split("\n").find((l) => l.includes("plain secret"))!);
  assert.equal(line.level, "warning");
  assert.equal(line.logger, "pve-mcp.config");
  assert.ok(!stderr.includes(canary));
});
