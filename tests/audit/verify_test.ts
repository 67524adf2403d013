import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { createAuditLog } from "../../src/audit/log.ts";
import { formatVerifyResult, verifyAudit } from "../../src/audit/verify.ts";
import { auditLocation, listAuditFiles } from "../../src/audit/files.ts";
import { entry, KEY, tempLogDir } from "./helpers.ts";

async function writeLog(dir: string, n: number, maxBytes?: number): Promise<void> {
  const log = await createAuditLog({ path: dir, key: KEY, ...(maxBytes !== undefined && { maxBytes }) });
  for (let i = 0; i < n; i++) {
    await log.write(entry({ tool: `tool_${i}`, arguments: { vmid: 100 + i, note: "ünïcødé ✓" } }));
  }
  await log.close();
}

Deno.test("verify: flipping any byte of any record fails verification at that record", async () => {
  const t = await tempLogDir();
  try {
    await writeLog(t.dir, 6, 1500); // several files, so flips in rotated files are covered too
    const files = await listAuditFiles(auditLocation(t.dir));
    assert(files.length >= 2);
    let flips = 0;
    for (const f of files) {
      const original = await Deno.readFile(f.path);
      const text = new TextDecoder().decode(original);
      // Map each byte offset to its line number (1-based) within the file.
      const lineOf: number[] = [];
      let line = 1;
      for (const b of original) {
        lineOf.push(line);
        if (b === 0x0a) line++;
      }
      const firstSeqOfFile = Number(JSON.parse(text.split("\n")[0]!).seq);
      for (let i = 0; i < original.length; i++) {
        for (const mask of [0x01, 0x80]) {
          const damaged = original.slice();
          damaged[i] = damaged[i]! ^ mask;
          await Deno.writeFile(f.path, damaged);
          const v = await verifyAudit(t.dir, KEY);
          flips++;
          assert(!v.ok, `flip of byte ${i} (mask ${mask}) in ${f.name} went unnoticed`);
          assertEquals(v.error?.file, f.path);
          assertEquals(v.error?.line, lineOf[i], `byte ${i} mask ${mask}: ${v.error?.message}`);
          const expectedSeq = firstSeqOfFile + lineOf[i]! - 1;
          if (expectedSeq > 1) assertEquals(v.error?.seq, expectedSeq);
        }
      }
      await Deno.writeFile(f.path, original);
    }
    assert(flips > 2000);
    assert((await verifyAudit(t.dir, KEY)).ok);
  } finally {
    await t.cleanup();
  }
});

Deno.test("verify: a removed record is named as missing", async () => {
  const t = await tempLogDir();
  try {
    await writeLog(t.dir, 5);
    const path = `${t.dir}/audit.jsonl`;
    const lines = (await Deno.readTextFile(path)).split("\n");
    lines.splice(2, 1); // remove seq 3
    await Deno.writeTextFile(path, lines.join("\n"));
    const v = await verifyAudit(t.dir, KEY);
    assertEquals([v.ok, v.records, v.error?.seq, v.error?.line], [false, 2, 3, 3]);
    assert(v.error?.message.includes("record 3 is missing"));
    assert(formatVerifyResult(v).includes("BROKEN at audit.jsonl line 3 (seq 3)"));
  } finally {
    await t.cleanup();
  }
});

Deno.test("verify: a removed rotated file is noticed at the next file's first record", async () => {
  const t = await tempLogDir();
  try {
    await writeLog(t.dir, 12, 1200);
    const files = await listAuditFiles(auditLocation(t.dir));
    assert(files.length >= 3);
    await Deno.remove(files[1]!.path);
    const v = await verifyAudit(t.dir, KEY);
    assert(!v.ok);
    assertEquals(v.error?.file, files[2]!.path);
    assertEquals(v.error?.line, 1);
    assert(v.error?.message.includes("missing"));
  } finally {
    await t.cleanup();
  }
});

Deno.test("verify: swapped records and a wrong key are reported", async () => {
  const t = await tempLogDir();
  try {
    await writeLog(t.dir, 4);
    const path = `${t.dir}/audit.jsonl`;
    const lines = (await Deno.readTextFile(path)).split("\n");
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    await Deno.writeTextFile(path, lines.join("\n"));
    const v = await verifyAudit(t.dir, KEY);
    assertEquals([v.ok, v.error?.line], [false, 2]);
    const w = await verifyAudit(t.dir, new TextEncoder().encode("wrong-key-wrong-key-wrong"));
    assertEquals([w.ok, w.error?.line], [false, 1]);
    assert(w.error?.message.includes("different key"));
  } finally {
    await t.cleanup();
  }
});

Deno.test("verify: an empty or absent log verifies with zero records", async () => {
  const t = await tempLogDir();
  try {
    await Deno.mkdir(t.dir);
    const v = await verifyAudit(t.dir, KEY);
    assertEquals([v.ok, v.records, v.files.length], [true, 0, 0]);
  } finally {
    await t.cleanup();
  }
});
