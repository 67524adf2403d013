/**
 * The chain's start is anchored: the first record of every file is marked (`fileStart`, format v2), so a log whose
 * head was cut off fails verification, while rotation and pruned rotated files still verify and v1 logs are reported.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { createAuditLog } from "../../src/audit/log.ts";
import { encodeRecord } from "../../src/audit/chain.ts";
import { formatVerifyResult, verifyAudit } from "../../src/audit/verify.ts";
import { auditLocation, listAuditFiles } from "../../src/audit/files.ts";
import { type AuditRecord, GENESIS_HASH } from "../../src/audit/types.ts";
import { resolveAuditKey } from "../../src/audit/key.ts";
import { runAuditCommand } from "../../src/cli/audit_cmd.ts";
import { captureIo } from "../cli/cli_io.ts";
import { entry, KEY, tempLogDir } from "./helpers.ts";

async function writeLog(dir: string, key: Uint8Array, n: number, opts: { maxBytes?: number; maxFiles?: number } = {}) {
  const log = await createAuditLog({ path: dir, key, ...opts });
  for (let i = 0; i < n; i++) await log.write(entry({ tool: `tool_${i}` }));
  await log.close();
}

async function dropHead(path: string, count: number): Promise<void> {
  const lines = (await Deno.readTextFile(path)).split("\n");
  await Deno.writeTextFile(path, lines.slice(count).join("\n"));
}

Deno.test("anchor: deleting the first records of a single active log is reported, and `audit verify` exits 1", async () => {
  const t = await tempLogDir();
  try {
    const { key } = await resolveAuditKey({ path: t.dir });
    await writeLog(t.dir, key, 8);
    const first = JSON.parse((await Deno.readTextFile(`${t.dir}/audit.jsonl`)).split("\n")[0]!) as AuditRecord;
    assertEquals([first.v, first.seq, first.fileStart, first.prevHash], [2, 1, true, GENESIS_HASH]);
    const good = captureIo();
    assertEquals(await runAuditCommand(["verify", t.dir], good.io), 0, good.out() + good.err());
    for (const cut of [1, 3]) {
      await dropHead(`${t.dir}/audit.jsonl`, cut);
      const v = await verifyAudit(t.dir, key);
      assertEquals([v.ok, v.error?.line, v.error?.seq], [false, 1, cut === 1 ? 2 : 5]);
      assert(v.error?.message.includes("records before it were removed"), v.error?.message);
      const c = captureIo();
      assertEquals(await runAuditCommand(["verify", t.dir], c.io), 1);
      assert(c.out().includes("BROKEN at audit.jsonl line 1"), c.out());
    }
  } finally {
    await t.cleanup();
  }
});

Deno.test("anchor: rotation and pruning still verify; each file starts marked; a cut oldest file is reported", async () => {
  const t = await tempLogDir();
  try {
    await writeLog(t.dir, KEY, 20, { maxBytes: 1600, maxFiles: 2 }); // three records a file
    const files = await listAuditFiles(auditLocation(t.dir));
    assertEquals(files.length, 3);
    for (const f of files) {
      const first = JSON.parse((await Deno.readTextFile(f.path)).split("\n")[0]!) as AuditRecord;
      assertEquals(first.fileStart, true, f.name);
    }
    const v = await verifyAudit(t.dir, KEY);
    assert(v.ok && v.startsLate && v.lastSeq === 20, formatVerifyResult(v));
    // One rotated file on its own starts at a file start too.
    assert((await verifyAudit(files[1]!.path, KEY)).ok);

    await dropHead(files[0]!.path, 1);
    const cut = await verifyAudit(t.dir, KEY);
    assertEquals([cut.ok, cut.error?.file, cut.error?.line], [false, files[0]!.path, 1]);
    assert(!(await verifyAudit(files[0]!.path, KEY)).ok, "the cut file alone");
  } finally {
    await t.cleanup();
  }
});

Deno.test("anchor: a log written before v2 verifies with a note; the server continues it and the next file is anchored", async () => {
  const t = await tempLogDir();
  try {
    await Deno.mkdir(t.dir, { recursive: true });
    let prevHash = GENESIS_HASH;
    const lines: string[] = [];
    for (let seq = 1; seq <= 4; seq++) {
      const { line, hash } = encodeRecord({
        v: 1,
        seq,
        time: new Date(0).toISOString(),
        phase: "call",
        principal: "laptop",
        transport: "http",
        decision: "allowed",
        prevHash,
      }, KEY);
      lines.push(line);
      prevHash = hash;
    }
    await Deno.writeTextFile(`${t.dir}/audit.jsonl`, lines.join("\n") + "\n");
    const v1 = await verifyAudit(t.dir, KEY);
    assert(v1.ok && v1.unanchored === true);
    assert(formatVerifyResult(v1).includes("format v1"), formatVerifyResult(v1));

    await writeLog(t.dir, KEY, 12, { maxBytes: 1600 });
    const both = await verifyAudit(t.dir, KEY);
    assert(both.ok && both.records === 16, formatVerifyResult(both));
    const files = await listAuditFiles(auditLocation(t.dir));
    assert(files.length >= 2);
    // The newer files are anchored: cutting the head of one of them is reported.
    assert((await verifyAudit(files[1]!.path, KEY)).ok);
    await dropHead(files[1]!.path, 1);
    assert(!(await verifyAudit(files[1]!.path, KEY)).ok, "a cut v2 file alone");
  } finally {
    await t.cleanup();
  }
});
