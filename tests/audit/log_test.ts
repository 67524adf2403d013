import { deepStrictEqual as assertEquals, ok as assert, rejects as assertRejects } from "node:assert/strict";
import { type Principal } from "../../src/core/mod.ts";
import { createAuditLog } from "../../src/audit/log.ts";
import { verifyAudit } from "../../src/audit/verify.ts";
import { auditLocation, listAuditFiles } from "../../src/audit/files.ts";
import { AuditWriteError, GENESIS_HASH } from "../../src/audit/types.ts";
import { entry, KEY, tempLogDir } from "./helpers.ts";

async function lines(path: string): Promise<Record<string, unknown>[]> {
  return (await Deno.readTextFile(path)).split("\n").filter((l) => l).map((l) => JSON.parse(l));
}

Deno.test("audit log: records carry seq, time, chain and HMAC, and verify", async () => {
  const t = await tempLogDir();
  try {
    const log = await createAuditLog({ path: t.dir, key: KEY, now: () => Date.UTC(2026, 0, 2, 3, 4, 5) });
    await log.write(entry());
    await log.write(entry({ phase: "intent", class: "write", tool: "guest_power", arguments: { vmid: 105 } }));
    await log.close();
    const recs = await lines(log.activePath);
    assertEquals(recs.length, 2);
    assertEquals(recs[0]?.seq, 1);
    assertEquals(recs[0]?.prevHash, GENESIS_HASH);
    assertEquals(recs[0]?.time, "2026-01-02T03:04:05.000Z");
    assertEquals(recs[0]?.principal, "laptop");
    assertEquals(recs[0]?.client, { name: "claude", version: "1.0" });
    assertEquals(recs[0]?.pveCalls, [{ method: "GET", path: "/cluster/resources", status: 200 }]);
    assertEquals(recs[1]?.seq, 2);
    assert(/^[0-9a-f]{64}$/.test(String(recs[1]?.hmac)));
    const v = await verifyAudit(t.dir, KEY);
    assertEquals([v.ok, v.records, v.firstSeq, v.lastSeq], [true, 2, 1, 2]);
    const stat = await Deno.stat(log.activePath);
    assertEquals((stat.mode ?? 0) & 0o777, 0o600);
  } finally {
    await t.cleanup();
  }
});

Deno.test("audit log: maps call-pipeline events (principal object, denied / rate_limited phases)", async () => {
  const t = await tempLogDir();
  try {
    const log = await createAuditLog({ path: t.dir, key: KEY });
    const principal: Principal = { id: "dev1", transport: "http", client: { name: "cursor", version: "2" } };
    const base = { principal, tool: "guest_power", cluster: "default", class: "write" as const, args: { vmid: 1 } };
    await log.write({ ...base, phase: "denied", reason: "VM 1 is protected" });
    await log.write({ ...base, phase: "rate_limited", reason: "retry in 3 s" });
    await log.write({ ...base, phase: "intent" });
    await log.write({
      ...base,
      phase: "result",
      outcome: "error" as const,
      errorKind: "permission",
      durationMs: 3.7,
      upids: [],
    });
    await log.close();
    const recs = await lines(log.activePath);
    assertEquals(recs.map((r) => [r.phase, r.decision]), [
      ["call", "denied"],
      ["call", "rate_limited"],
      ["intent", "allowed"],
      ["result", "allowed"],
    ]);
    assertEquals(recs[0]?.principal, "dev1");
    assertEquals(recs[0]?.transport, "http");
    assertEquals(recs[0]?.client, { name: "cursor", version: "2" });
    assertEquals(recs[0]?.cluster, "default");
    assertEquals(recs[0]?.class, "write");
    assertEquals(recs[3]?.result, "error");
    assertEquals(recs[3]?.errorKind, "permission");
    assertEquals(recs[3]?.durationMs, 4);
  } finally {
    await t.cleanup();
  }
});

Deno.test("audit log: concurrent writes keep one consistent chain", async () => {
  const t = await tempLogDir();
  try {
    const log = await createAuditLog({ path: t.dir, key: KEY });
    await Promise.all(Array.from({ length: 50 }, (_, i) => log.write(entry({ tool: `t${i}` }))));
    await log.close();
    const v = await verifyAudit(t.dir, KEY);
    assertEquals([v.ok, v.records], [true, 50]);
  } finally {
    await t.cleanup();
  }
});

Deno.test("audit log: size-based rotation keeps the chain across files and continues after reopening", async () => {
  const t = await tempLogDir();
  try {
    let log = await createAuditLog({ path: t.dir, key: KEY, maxBytes: 1200 });
    for (let i = 0; i < 20; i++) await log.write(entry({ tool: `tool_${i}` }));
    await log.close();
    const files = await listAuditFiles(auditLocation(t.dir));
    assert(files.length >= 5, `expected several files, got ${files.length}`);
    for (const f of files) assert((await Deno.stat(f.path)).size <= 1200, f.name);
    log = await createAuditLog({ path: t.dir, key: KEY, maxBytes: 1200 });
    assertEquals(log.head().seq, 20);
    await log.write(entry());
    await log.close();
    const v = await verifyAudit(t.dir, KEY);
    assertEquals([v.ok, v.records, v.lastSeq], [true, 21, 21]);
    // One rotated file alone still checks (its first record anchors the chain).
    const one = await verifyAudit((files[1] as { path: string }).path, KEY);
    assert(one.ok && one.startsLate);
  } finally {
    await t.cleanup();
  }
});

Deno.test("audit log: maxFiles prunes old files; verify reports the late start", async () => {
  const t = await tempLogDir();
  try {
    const log = await createAuditLog({ path: t.dir, key: KEY, maxBytes: 800, maxFiles: 2 });
    for (let i = 0; i < 20; i++) await log.write(entry());
    await log.close();
    assertEquals((await listAuditFiles(auditLocation(t.dir))).length, 3);
    const v = await verifyAudit(t.dir, KEY);
    assert(v.ok);
    assert(v.startsLate);
    assertEquals(v.lastSeq, 20);
  } finally {
    await t.cleanup();
  }
});

Deno.test("audit log: a failed write rejects for changes and resolves for reads unless failReadsOnError", async () => {
  for (const failReadsOnError of [false, true]) {
    const t = await tempLogDir();
    try {
      const log = await createAuditLog({ path: t.dir, key: KEY, failReadsOnError });
      await log.write(entry());
      await log.close(); // from now on every write fails
      await assertRejects(log.write(entry({ phase: "intent", class: "destructive" })), AuditWriteError);
      if (failReadsOnError) await assertRejects(log.write(entry()), AuditWriteError);
      else await log.write(entry()); // resolves
      await log.write(entry({ phase: "auth" })); // auth entries never fail the caller
    } finally {
      await t.cleanup();
    }
  }
});

Deno.test("audit log: an intent is on disk when write() resolves", async () => {
  const t = await tempLogDir();
  try {
    const log = await createAuditLog({ path: t.dir, key: KEY });
    await log.write(entry({ phase: "intent", class: "write", tool: "guest_power" }));
    const text = await Deno.readTextFile(log.activePath); // read while the log is still open
    assert(text.includes('"phase":"intent"') && text.endsWith("\n"));
    await log.close();
  } finally {
    await t.cleanup();
  }
});

Deno.test("audit log: a second writer on the same directory is refused", async () => {
  const t = await tempLogDir();
  try {
    const log = await createAuditLog({ path: t.dir, key: KEY });
    await assertRejects(createAuditLog({ path: t.dir, key: KEY }), /holds its lock/);
    await log.close();
  } finally {
    await t.cleanup();
  }
});

Deno.test("audit log: refuses to continue a log whose last record does not verify with the key", async () => {
  const t = await tempLogDir();
  try {
    const log = await createAuditLog({ path: t.dir, key: KEY });
    await log.write(entry());
    await log.close();
    const other = new TextEncoder().encode("another-key-0123456789abcdef");
    await assertRejects(createAuditLog({ path: t.dir, key: other }), /last record does not verify/);
  } finally {
    await t.cleanup();
  }
});

Deno.test("audit log: a torn last line is cut off on open and noted in a 'recovered' record", async () => {
  const t = await tempLogDir();
  try {
    let log = await createAuditLog({ path: t.dir, key: KEY });
    for (let i = 0; i < 3; i++) await log.write(entry());
    await log.close();
    const path = log.activePath;
    const full = await Deno.readTextFile(path);
    await Deno.writeTextFile(path, full + full.split("\n")[0]!.slice(0, 40)); // a torn 4th record
    const before = await verifyAudit(t.dir, KEY);
    assertEquals([before.ok, before.records, before.tornTail?.bytes], [true, 3, 40]);
    log = await createAuditLog({ path: t.dir, key: KEY });
    await log.write(entry());
    await log.close();
    const recs = await lines(path);
    assertEquals(recs.map((r) => r.phase), ["call", "call", "call", "recovered", "call"]);
    assert(String(recs[3]?.reason).includes("dropped 40 bytes"));
    const after = await verifyAudit(t.dir, KEY);
    assertEquals([after.ok, after.records, after.tornTail], [true, 5, undefined]);
  } finally {
    await t.cleanup();
  }
});

Deno.test("audit log: a whole last record without its newline is kept, not dropped", async () => {
  const t = await tempLogDir();
  try {
    let log = await createAuditLog({ path: t.dir, key: KEY });
    for (let i = 0; i < 2; i++) await log.write(entry());
    await log.close();
    const full = await Deno.readTextFile(log.activePath);
    await Deno.writeTextFile(log.activePath, full.slice(0, -1));
    assertEquals((await verifyAudit(t.dir, KEY)).records, 2);
    log = await createAuditLog({ path: t.dir, key: KEY });
    await log.write(entry());
    await log.close();
    const v = await verifyAudit(t.dir, KEY);
    assertEquals([v.ok, v.records], [true, 3]);
  } finally {
    await t.cleanup();
  }
});

Deno.test("audit log: audit.path may name the active file; rotated files sit beside it", async () => {
  const t = await tempLogDir();
  try {
    const path = `${t.root}/logs/mcp.jsonl`;
    const log = await createAuditLog({ path, key: KEY, maxBytes: 900 });
    for (let i = 0; i < 8; i++) await log.write(entry());
    await log.close();
    const names = (await listAuditFiles(auditLocation(path))).map((f) => f.name);
    assertEquals(names[0], "mcp-000001.jsonl");
    assertEquals(names[names.length - 1], "mcp.jsonl");
    const whole = await verifyAudit(path, KEY);
    assertEquals([whole.ok, whole.records], [true, 8]);
    const one = await verifyAudit(`${t.root}/logs/mcp-000002.jsonl`, KEY);
    assert(one.ok && one.startsLate && one.records < 8);
  } finally {
    await t.cleanup();
  }
});

Deno.test("audit log: any file name with an extension works as the active file (mcp-audit.log)", async () => {
  const t = await tempLogDir();
  try {
    const path = `${t.root}/mcp-audit.log`;
    const log = await createAuditLog({ path, key: KEY, maxBytes: 900 });
    for (let i = 0; i < 5; i++) await log.write(entry());
    await log.close();
    const names = (await listAuditFiles(auditLocation(path))).map((f) => f.name);
    assertEquals(names[0], "mcp-audit-000001.log");
    assertEquals(names[names.length - 1], "mcp-audit.log");
    assertEquals((await verifyAudit(path, KEY)).records, 5);
    assertEquals(auditLocation(`${t.root}/logs`).active, "audit.jsonl", "no extension: a directory");
    assertEquals(auditLocation(`${t.root}/x.jsonl/`).dir, `${t.root}/x.jsonl`, "trailing slash: a directory");
  } finally {
    await t.cleanup();
  }
});
