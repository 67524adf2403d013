import assert from "node:assert/strict";
import { join } from "node:path";
import { runSecretsCommand, SECRETS_HELP } from "../../src/cli/secrets_cmd.ts";
import { createSecretStore } from "../../src/secrets/store.ts";
import { formatKeyFile, generateKeyBytes, MasterKey } from "../../src/crypto/keys.ts";
import { captureIo, modeOf, withTempDir } from "../secrets/helpers.ts";

const CANARY = "CANARY-secrets-cli-9a2c";

async function setup(dir: string) {
  const raw = generateKeyBytes();
  const keyFile = join(dir, "master.key");
  await Deno.writeTextFile(keyFile, await formatKeyFile(raw, new Date()), { mode: 0o600 });
  const storeFile = join(dir, "secrets.json");
  return {
    key: await MasterKey.fromBytes(raw, { source: "t" }),
    storeFile,
    env: { PROXMOX_MCP_MASTER_KEY_FILE: keyFile, PROXMOX_MCP_SECRETS_FILE: storeFile },
  };
}

Deno.test("secrets --help and every subcommand's --help", async () => {
  for (const sub of Object.keys(SECRETS_HELP)) {
    const c = captureIo();
    assert.equal(await runSecretsCommand(sub ? [sub, "--help"] : ["--help"], c.io), 0);
    assert.match(c.stdout, sub ? new RegExp(`^Usage: pve-mcp secrets ${sub}`) : /^Usage: pve-mcp secrets <command>/);
  }
  assert.equal(await runSecretsCommand(["nope"], captureIo().io), 2);
});

Deno.test("secrets set from stdin, list without values, rm; the store file is 0600 and sealed", async () => {
  await withTempDir(async (dir) => {
    const { key, storeFile, env } = await setup(dir);
    let c = captureIo({ env, cwd: dir, stdin: `${CANARY}\n`, now: () => Date.parse("2025-01-02T03:04:05Z") });
    assert.equal(await runSecretsCommand(["set", "ci.password"], c.io), 0, c.stderr);
    assert.match(c.stderr, /Stored secret "ci.password" in .*; use it as secret:\/\/ci.password/);
    assert.ok(!c.all.includes(CANARY));
    assert.ok(!(await Deno.readTextFile(storeFile)).includes(CANARY));
    if (Deno.build.os !== "windows") assert.equal(await modeOf(storeFile), 0o600);
    assert.equal(await createSecretStore(storeFile, key).get("ci.password"), CANARY, "one trailing newline removed");

    c = captureIo({ env: { PROXMOX_MCP_SECRETS_FILE: storeFile }, cwd: dir });
    assert.equal(await runSecretsCommand(["list"], c.io), 0, "listing needs no key");
    assert.equal(
      c.stdout,
      "NAME\tALLOW\tPRINCIPALS\tCREATED\tUPDATED\tLAST USED\n" +
        "ci.password\t(default: no round trips)\t(any)\t2025-01-02T03:04:05.000Z\t2025-01-02T03:04:05.000Z\t\n",
    );
    c = captureIo({ env, cwd: dir });
    await runSecretsCommand(["list", "--json"], c.io);
    assert.deepEqual(JSON.parse(c.stdout).map((r: { name: string }) => r.name), ["ci.password"]);
    assert.ok(!c.all.includes(CANARY));

    c = captureIo({ env, cwd: dir });
    assert.equal(await runSecretsCommand(["rm", "ci.password"], c.io), 0);
    assert.equal(await runSecretsCommand(["rm", "ci.password"], captureIo({ env, cwd: dir }).io), 1);
  });
});

Deno.test("secrets set --allow/--principal records the use policy; list shows it; bad flags are usage errors", async () => {
  await withTempDir(async (dir) => {
    const { storeFile, env } = await setup(dir);
    const set = async (args: string[]) => {
      const c = captureIo({ env, cwd: dir, stdin: `${CANARY}\n` });
      return { code: await runSecretsCommand(["set", ...args], c.io), c };
    };
    let r = await set([
      "ci",
      "--allow",
      "guest_config.cipassword",
      "--allow",
      "guest_agent.content",
      "--principal",
      "device:ci",
      "--principal",
      "stdio",
    ]);
    assert.equal(r.code, 0, r.c.stderr);
    assert.match(r.c.stderr, /only in guest_config\.cipassword, guest_agent\.content, by device:ci, stdio/);
    r = await set(["ci"]); // a new value keeps the policy
    assert.equal(r.code, 0, r.c.stderr);
    const keyless = createSecretStore(storeFile, undefined);
    let info = await keyless.info("ci");
    assert.deepEqual([info?.allow, info?.principals], [["guest_config.cipassword", "guest_agent.content"], [
      "device:ci",
      "stdio",
    ]]);
    r = await set(["ci", "--default-policy"]);
    assert.equal(r.code, 0, r.c.stderr);
    assert.match(
      r.c.stderr,
      /any argument that accepts secret:\/\/ and does not hand the value back, by any principal/,
    );
    info = await keyless.info("ci");
    assert.deepEqual([info?.allow, info?.principals], [undefined, undefined]);
    await set(["ci", "--allow", "guest_create.password"]);
    const c = captureIo({ env, cwd: dir });
    await runSecretsCommand(["list", "--json"], c.io);
    assert.deepEqual(JSON.parse(c.stdout)[0].allow, ["guest_create.password"]);
    for (
      const [args, problem] of [
        [["ci", "--allow", "guest_config.notes"], /is not an argument that accepts secret:\/\//],
        [["ci", "--principal", "alice"], /is not a principal: use stdio, device:NAME/],
        [["ci", "--default-policy", "--allow", "guest_create.password"], /cannot be combined/],
      ] as const
    ) {
      r = await set([...args]);
      assert.equal(r.code, 2, r.c.stderr);
      assert.match(r.c.stderr, problem);
    }
    const rm = captureIo({ env, cwd: dir });
    assert.equal(await runSecretsCommand(["rm", "ci", "--allow", "guest_create.password"], rm.io), 2);
  });
});

Deno.test("secrets set on a terminal: asked twice without echo; a mismatch or Ctrl-C stores nothing", async () => {
  await withTempDir(async (dir) => {
    const { key, storeFile, env } = await setup(dir);
    const enc = (t: string) => new TextEncoder().encode(t);
    let c = captureIo({ env, cwd: dir, terminal: true, stdin: [enc("hunter"), enc("2x\x7f\r"), enc("hunter2\r")] });
    assert.equal(await runSecretsCommand(["set", "pw"], c.io), 0, c.stderr);
    assert.deepEqual(c.rawCalls, [true, false, true, false], "echo off while typing");
    assert.ok(!c.all.includes("hunter"));
    assert.equal(await createSecretStore(storeFile, key).get("pw"), "hunter2");

    c = captureIo({ env, cwd: dir, terminal: true, stdin: "one\rtwo\r" });
    assert.equal(await runSecretsCommand(["set", "other"], c.io), 1);
    assert.match(c.stderr, /The two entries differ: nothing stored/);
    c = captureIo({ env, cwd: dir, terminal: true, stdin: "abc\x03" });
    assert.equal(await runSecretsCommand(["set", "other"], c.io), 130);
    assert.equal(await createSecretStore(storeFile, key).has("other"), false);
  });
});

Deno.test("secrets: usage errors — no store, no key, bad name, value on the command line", async () => {
  await withTempDir(async (dir) => {
    const { env } = await setup(dir);
    let c = captureIo({ env: {}, cwd: dir });
    assert.equal(await runSecretsCommand(["list"], c.io), 2);
    assert.match(c.stderr, /No secret store is set/);
    c = captureIo({ env: { PROXMOX_MCP_SECRETS_FILE: join(dir, "s.json") }, cwd: dir, stdin: "v" });
    assert.equal(await runSecretsCommand(["set", "x"], c.io), 2);
    assert.match(c.stderr, /No master key is set/);
    c = captureIo({ env, cwd: dir, stdin: "v" });
    assert.equal(await runSecretsCommand(["set", "../x"], c.io), 2);
    c = captureIo({ env, cwd: dir });
    assert.equal(await runSecretsCommand(["set", "name", CANARY], c.io), 2);
    assert.ok(!c.all.includes(CANARY), "a value typed as an argument is not echoed");
    c = captureIo({ env, cwd: dir });
    assert.equal(await runSecretsCommand(["set", "name", `--value=${CANARY}`], c.io), 2);
    assert.ok(!c.all.includes(CANARY));
  });
});
