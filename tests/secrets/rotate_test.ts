import assert from "node:assert/strict";
import { join } from "node:path";
import { rotateFile, type RotateStep } from "../../src/config/rotate.ts";
import { SimulatedCrash, TEMP_MARK } from "../../src/secrets/atomic_write.ts";
import { openSlots } from "../../src/secrets/sealed_file.ts";
import { parseSecretFile } from "../../src/config/secret_file.ts";
import { sealValue } from "../../src/crypto/sealed.ts";
import type { MasterKey } from "../../src/crypto/keys.ts";
import { modeOf, newKey, withTempDir } from "./helpers.ts";

const STEPS: RotateStep[] = ["checked", "backup-written", "temp-written", "temp-synced", "renamed", "verified"];
const isWindows = Deno.build.os === "windows";

async function writeFixtures(dir: string, key: MasterKey) {
  const json = join(dir, "config.json");
  await Deno.writeTextFile(
    json,
    JSON.stringify(
      {
        clusters: {
          a: { host: "a", tokenId: "a@pam!t", tokenSecret: await sealValue(key, "secret-a", "clusters.a.tokenSecret") },
          b: { host: "b", user: "u@pve", password: await sealValue(key, "secret-b", "clusters.b.password") },
        },
        http: { adminToken: "plain-admin" },
      },
      null,
      2,
    ),
    { mode: 0o600 },
  );
  const env = join(dir, "prod.env");
  await Deno.writeTextFile(
    env,
    `# prod\nPROXMOX_HOST=h\nexport PROXMOX_TOKEN_SECRET=${await sealValue(
      key,
      "secret-env",
      "PROXMOX_TOKEN_SECRET",
    )}\n`,
    { mode: 0o600 },
  );
  return { json, env, expected: { [json]: ["secret-a", "secret-b"], [env]: ["secret-env"] } };
}

/** Opens every sealed value of `path` with whichever key its key id names. */
async function openWithEither(path: string, keys: MasterKey[]): Promise<{ values: string[]; key: MasterKey }> {
  const file = parseSecretFile(path, await Deno.readTextFile(path));
  const ids = new Set(file.slots.filter((s) => s.state === "sealed").map((s) => s.keyId));
  assert.equal(ids.size, 1, "all values of a file use one key");
  const key = keys.find((k) => ids.has(k.id))!;
  assert.ok(key, "the file opens with one of the keys");
  const opened = await openSlots(file, () => key);
  return { values: [...opened.values()], key };
}

Deno.test("rotateFile: re-seals JSON and .env, backup 0600, plain values untouched, verifies", async () => {
  await withTempDir(async (dir) => {
    const oldKey = await newKey();
    const nextKey = await newKey();
    const { json, env, expected } = await writeFixtures(dir, oldKey);
    const envBefore = await Deno.readTextFile(env);
    for (const path of [json, env]) {
      const result = await rotateFile(path, oldKey, nextKey, { now: () => Date.parse("2025-02-03T04:05:06Z") });
      assert.equal(result.status, "rotated", result.reason);
      assert.equal(result.values, expected[path]!.length);
      assert.equal(result.backup, `${path}.bak-20250203T040506Z`);
      assert.equal(
        await Deno.readTextFile(result.backup!),
        path === env ? envBefore : await Deno.readTextFile(result.backup!),
      );
      const { values, key } = await openWithEither(path, [oldKey, nextKey]);
      assert.equal(key, nextKey);
      assert.deepEqual(values, expected[path]);
      if (!isWindows) {
        assert.equal(await modeOf(path), 0o600);
        assert.equal(await modeOf(result.backup!), 0o600);
      }
    }
    assert.equal(JSON.parse(await Deno.readTextFile(json)).http.adminToken, "plain-admin");
    const envAfter = (await Deno.readTextFile(env)).split("\n");
    assert.equal(envAfter[0], "# prod");
    assert.match(envAfter[2]!, /^export PROXMOX_TOKEN_SECRET=enc:v1:/);
    const again = await rotateFile(json, oldKey, nextKey);
    assert.equal(again.status, "skipped");
    assert.equal(again.reason, "already sealed with the new key");
  });
});

Deno.test("rotateFile: a wrong current key changes nothing", async () => {
  await withTempDir(async (dir) => {
    const oldKey = await newKey();
    const { json } = await writeFixtures(dir, oldKey);
    const before = await Deno.readTextFile(json);
    const result = await rotateFile(json, await newKey(), await newKey());
    assert.equal(result.status, "failed");
    assert.match(result.reason!, /^the master key does not match: file sealed with key id/);
    assert.equal(await Deno.readTextFile(json), before);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["config.json", "prod.env"]);
  });
});

for (const crashAt of STEPS) {
  Deno.test(`rotateFile: a crash after "${crashAt}" leaves a whole file that opens with its key`, async () => {
    await withTempDir(async (dir) => {
      const oldKey = await newKey();
      const nextKey = await newKey();
      const { json, env, expected } = await writeFixtures(dir, oldKey);
      for (const path of [json, env]) {
        await assert.rejects(
          rotateFile(path, oldKey, nextKey, {
            onStep: (s) => {
              if (s === crashAt) throw new SimulatedCrash(`crash after ${s}`);
            },
          }),
          SimulatedCrash,
        );
        const { values, key } = await openWithEither(path, [oldKey, nextKey]);
        assert.deepEqual(values, expected[path]);
        const replaced = STEPS.indexOf(crashAt) >= STEPS.indexOf("renamed");
        assert.equal(key, replaced ? nextKey : oldKey, `after ${crashAt}`);
        const names = [...Deno.readDirSync(dir)].map((e) => e.name);
        const base = path.split("/").pop()!;
        const backups = names.filter((n) => n.startsWith(`${base}.bak-`) && !n.includes(TEMP_MARK));
        assert.equal(backups.length, STEPS.indexOf(crashAt) >= STEPS.indexOf("backup-written") ? 1 : 0, names.join());
        // Running again finishes the job (or finds it done), leftovers notwithstanding.
        const resumed = await rotateFile(path, oldKey, nextKey);
        assert.ok(["rotated", "skipped"].includes(resumed.status), resumed.reason);
        const after = await openWithEither(path, [oldKey, nextKey]);
        assert.equal(after.key, nextKey);
        assert.deepEqual(after.values, expected[path]);
      }
    });
  });
}
