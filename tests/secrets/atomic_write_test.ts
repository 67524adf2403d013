import assert from "node:assert/strict";
import { join } from "node:path";
import { backupFile, createExclusive, SimulatedCrash, writeFileAtomic } from "../../src/secrets/atomic_write.ts";
import { modeOf, withTempDir } from "./helpers.ts";

const posix = Deno.build.os !== "windows";

Deno.test("writeFileAtomic: replaces whole, 0600, no temp file left", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "f.json");
    await Deno.writeTextFile(path, "old", { mode: 0o644 });
    await writeFileAtomic(path, "new content");
    assert.equal(await Deno.readTextFile(path), "new content");
    if (posix) assert.equal(await modeOf(path), 0o600);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["f.json"]);
  });
});

Deno.test("writeFileAtomic: a crash before the rename keeps the old file whole", async () => {
  for (const step of ["temp-written", "temp-synced"] as const) {
    await withTempDir(async (dir) => {
      const path = join(dir, "f");
      await Deno.writeTextFile(path, "old");
      await assert.rejects(
        writeFileAtomic(path, "new", {
          onStep: (s) => {
            if (s === step) throw new SimulatedCrash(s);
          },
        }),
        SimulatedCrash,
      );
      assert.equal(await Deno.readTextFile(path), "old");
    });
  }
  await withTempDir(async (dir) => {
    const path = join(dir, "f");
    await Deno.writeTextFile(path, "old");
    await assert.rejects(writeFileAtomic(path, "new", {
      onStep: (s) => {
        if (s === "temp-synced") throw new Error("disk full");
      },
    }));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["f"], "an ordinary failure removes the temp file");
  });
});

Deno.test("backupFile: timestamped 0600 copy, never overwriting an earlier backup", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "c.env");
    await Deno.writeTextFile(path, "A=1\n", { mode: 0o640 });
    const now = Date.parse("2025-03-04T05:06:07.890Z");
    const b1 = await backupFile(path, now);
    const b2 = await backupFile(path, now);
    assert.equal(b1, `${path}.bak-20250304T050607Z`);
    assert.equal(b2, `${path}.bak-20250304T050607Z-1`);
    assert.equal(await Deno.readTextFile(b1), "A=1\n");
    if (posix) assert.equal(await modeOf(b1), 0o600);
  });
});

Deno.test("createExclusive: 0600, refuses to overwrite", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "k");
    assert.equal(await createExclusive(path, "one"), true);
    assert.equal(await createExclusive(path, "two"), false);
    assert.equal(await Deno.readTextFile(path), "one");
    if (posix) assert.equal(await modeOf(path), 0o600);
  });
});
