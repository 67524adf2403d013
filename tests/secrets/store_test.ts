import assert from "node:assert/strict";
import { join } from "node:path";
import { createSecretStore, SecretStoreError } from "../../src/secrets/store.ts";
import { callSecretResolver, findSecretRefs, secretRefsIn } from "../../src/secrets/resolve.ts";
import { rotateFile } from "../../src/config/rotate.ts";
import { MasterKey } from "../../src/crypto/keys.ts";
import { modeOf, newKey, withTempDir } from "./helpers.ts";

Deno.test("store: set/get/list/rm in one 0600 file, values sealed and bound to their names", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "sub", "secrets.json");
    let t = Date.parse("2025-01-01T00:00:00Z");
    const key = await newKey();
    const store = createSecretStore(path, key, { now: () => t });
    assert.deepEqual(await store.list(), []);
    await store.set("ci-password", "CANARY-store-1");
    t += 1000;
    await store.set("ssh.key", "ssh-ed25519 AAAA… CANARY-store-2");
    await store.set("ci-password", "CANARY-store-3");
    assert.equal(await store.get("ci-password"), "CANARY-store-3");
    assert.equal(await store.get("ssh.key"), "ssh-ed25519 AAAA… CANARY-store-2");
    const text = await Deno.readTextFile(path);
    assert.ok(!text.includes("CANARY"), "values are sealed on disk");
    if (Deno.build.os !== "windows") assert.equal(await modeOf(path), 0o600);
    const list = await store.list();
    assert.deepEqual(list.map((e) => e.name), ["ci-password", "ssh.key"]);
    assert.equal(list[0]!.created, "2025-01-01T00:00:00.000Z");
    assert.equal(list[0]!.updated, "2025-01-01T00:00:01.000Z");
    assert.ok(!JSON.stringify(list).includes("CANARY"));
    // A value swapped to another name does not open.
    const data = JSON.parse(text);
    [data.entries["ci-password"].value, data.entries["ssh.key"].value] = [
      data.entries["ssh.key"].value,
      data.entries["ci-password"].value,
    ];
    await Deno.writeTextFile(path, JSON.stringify(data));
    await assert.rejects(store.get("ci-password"), /failed authentication/);
    assert.equal(await store.rm("ci-password"), true);
    assert.equal(await store.rm("ci-password"), false);
    await assert.rejects(
      store.get("ci-password"),
      (e: unknown) => e instanceof SecretStoreError && e.kind === "not_found",
    );
  });
});

Deno.test("store: names are listable without the key; values need it; bad names rejected", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "secrets.json");
    const key = await newKey();
    await createSecretStore(path, key).set("a", "1");
    const keyless = createSecretStore(path, undefined);
    assert.deepEqual((await keyless.list()).map((e) => e.name), ["a"]);
    await assert.rejects(keyless.get("a"), (e: unknown) => e instanceof SecretStoreError && e.kind === "no_key");
    await assert.rejects(keyless.set("b", "2"), (e: unknown) => e instanceof SecretStoreError && e.kind === "no_key");
    await assert.rejects(
      createSecretStore(path, key).set("../etc", "x"),
      (e: unknown) => e instanceof SecretStoreError && e.kind === "bad_name",
    );
    await assert.rejects(createSecretStore(path, await newKey()).get("a"), /the master key does not match/);
  });
});

Deno.test("store: last use recorded at most once a minute", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "s.json");
    let t = Date.parse("2025-01-01T00:00:00Z");
    const store = createSecretStore(path, await newKey(), { now: () => t });
    await store.set("x", "v");
    await store.touchLastUsed("x");
    assert.equal((await store.list())[0]!.lastUsed, "2025-01-01T00:00:00.000Z");
    t += 30_000;
    await store.touchLastUsed("x");
    assert.equal((await store.list())[0]!.lastUsed, "2025-01-01T00:00:00.000Z");
    t += 31_000;
    await store.touchLastUsed("x");
    assert.equal((await store.list())[0]!.lastUsed, "2025-01-01T00:01:01.000Z");
  });
});

Deno.test("store: passphrase keys share one salt per file; the store rotates like any sealed file", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "s.json");
    const pass = MasterKey.fromPassphrase("a long enough passphrase", { source: "t" });
    const store = createSecretStore(path, pass);
    await store.set("a", "1");
    await store.set("b", "2");
    const refs = Object.values(JSON.parse(await Deno.readTextFile(path)).entries).map((e) =>
      (e as { value: string }).value.split(":")[2]
    );
    assert.equal(refs[0], refs[1], "same key reference (salt) for every value of the file");
    const next = await newKey();
    const result = await rotateFile(path, pass, next);
    assert.equal(result.status, "rotated", result.reason);
    assert.equal(result.values, 2);
    assert.equal(await createSecretStore(path, next).get("b"), "2");
  });
});

Deno.test("secretRefsIn: every secret:// string with its path; the call resolver gives only cleared names", async () => {
  await withTempDir(async (dir) => {
    let t = 0;
    const store = createSecretStore(join(dir, "s.json"), await newKey(), { now: () => t });
    await store.set("pw", "hunter2-CANARY");
    await store.set("key", "ssh-ed25519 AAA");
    t = 120_000;
    const args = {
      vmid: 100,
      cipassword: "secret://pw",
      sshkeys: ["secret://key", "literal"],
      nested: { note: "see secret://pw for details", again: "secret://pw", bad: "secret://../x" },
    };
    assert.deepEqual(secretRefsIn(args), [
      { path: ["cipassword"], name: "pw" },
      { path: ["sshkeys", 0], name: "key" },
      { path: ["nested", "again"], name: "pw" },
      { path: ["nested", "bad"], name: undefined },
    ]);
    assert.deepEqual(findSecretRefs(args), ["pw", "key"]);
    const seen: string[] = [];
    const resolve = callSecretResolver(store, new Map([["cipassword", "pw"]]), (v) => seen.push(v));
    assert.equal(await resolve("cipassword", "secret://pw"), "hunter2-CANARY");
    assert.deepEqual(seen, ["hunter2-CANARY"], "the value is registered for scrubbing");
    assert.equal((await store.list()).find((e) => e.name === "pw")!.lastUsed, "1970-01-01T00:02:00.000Z");
    await assert.rejects(resolve("cipassword", "secret://key"), /not cleared/);
    await assert.rejects(resolve("sshkeys", "secret://key"), /not cleared/);
    const missing = callSecretResolver(store, new Map([["a", "missing"]]), () => {});
    await assert.rejects(missing("a", "secret://missing"), /Secret "missing" is not in the secret store/);
  });
});

Deno.test("store: use policy is stored with the entry, kept on replace, readable without the key", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "s.json");
    const store = createSecretStore(path, await newKey());
    await store.set("a", "value-a", { allow: ["guest_config.cipassword"], principals: ["device:ci"] });
    await store.set("b", "value-b");
    await store.set("a", "value-a2"); // no policy given: the old one is kept
    const keyless = createSecretStore(path, undefined);
    assert.deepEqual(await keyless.info("a").then((i) => ({ allow: i!.allow, principals: i!.principals })), {
      allow: ["guest_config.cipassword"],
      principals: ["device:ci"],
    });
    const b = await keyless.info("b");
    assert.ok(b && b.allow === undefined && b.principals === undefined, "no policy: the default");
    assert.equal(await keyless.info("constructor"), undefined);
    await store.set("a", "value-a3", {});
    assert.equal((await keyless.list()).find((e) => e.name === "a")!.allow, undefined, "an empty policy resets");
    // An entry written before policies existed (no fields) reads as the default.
    const raw = JSON.parse(await Deno.readTextFile(path));
    assert.ok(!("allow" in raw.entries.b) && !("principals" in raw.entries.b));
  });
});

Deno.test("store: concurrent changes within one process are all kept", async () => {
  await withTempDir(async (dir) => {
    const store = createSecretStore(join(dir, "s.json"), await newKey());
    await Promise.all(Array.from({ length: 8 }, (_, i) => store.set(`n${i}`, `v${i}`)));
    assert.equal((await store.list()).length, 8);
    await Promise.all([store.rm("n0"), store.set("n9", "v9"), store.touchLastUsed("n1")]);
    assert.deepEqual((await store.list()).map((e) => e.name), ["n1", "n2", "n3", "n4", "n5", "n6", "n7", "n9"]);
  });
});

Deno.test("openSecretStore: from the configuration's secrets settings", async () => {
  const { openSecretStore } = await import("../../src/secrets/open.ts");
  const { formatKeyFile, generateKeyBytes } = await import("../../src/crypto/keys.ts");
  await withTempDir(async (dir) => {
    const keyFile = join(dir, "k");
    await Deno.writeTextFile(keyFile, await formatKeyFile(generateKeyBytes(), new Date()));
    assert.equal(await openSecretStore({}), undefined);
    const store = await openSecretStore({ storeFile: join(dir, "s.json"), masterKeyFile: keyFile });
    await store!.set("a", "b");
    const again = await openSecretStore({ storeFile: join(dir, "s.json"), masterKeyFile: keyFile });
    assert.equal(await again!.get("a"), "b");
  });
});
