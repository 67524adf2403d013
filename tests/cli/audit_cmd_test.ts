import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { runAuditCommand } from "../../src/cli/audit_cmd.ts";
import { createAuditLog } from "../../src/audit/log.ts";
import { resolveAuditKey } from "../../src/audit/key.ts";
import { captureIo } from "./cli_io.ts";

async function makeLog(n: number) {
  const root = await Deno.makeTempDir();
  const path = `${root}/audit`;
  const { key } = await resolveAuditKey({ path });
  const log = await createAuditLog({ path, key });
  for (let i = 1; i <= n; i++) {
    await log.write({
      phase: "call",
      principal: "device:laptop",
      transport: "http",
      tool: `tool_${i}`,
      decision: i === 3 ? "denied" : "allowed",
      ...(i === 3 ? { reason: "VM 100 is protected" } : { result: "ok" as const }),
      durationMs: 5,
    });
  }
  await log.close();
  return { root, path, cleanup: () => Deno.remove(root, { recursive: true }) };
}

Deno.test("audit CLI: verify passes on a good log and names the broken record (exit 1)", async () => {
  const l = await makeLog(5);
  try {
    const ok = captureIo();
    assertEquals(await runAuditCommand(["verify", l.path], ok.io), 0, ok.err());
    assert(ok.out().includes("Audit log OK: 5 record(s), seq 1..5"), ok.out());
    const file = `${l.path}/audit.jsonl`;
    const text = await Deno.readTextFile(file);
    await Deno.writeTextFile(file, text.replace('"tool":"tool_4"', '"tool":"tool_X"'));
    const bad = captureIo();
    assertEquals(await runAuditCommand(["verify", l.path], bad.io), 1);
    assert(bad.out().includes("BROKEN at audit.jsonl line 4 (seq 4)"), bad.out());
    const json = captureIo();
    await runAuditCommand(["verify", l.path, "--json"], json.io);
    assertEquals(JSON.parse(json.out()).error.seq, 4);
  } finally {
    await l.cleanup();
  }
});

Deno.test("audit CLI: verify without the key file fails clearly and never creates a key", async () => {
  const l = await makeLog(1);
  try {
    const c = captureIo();
    assertEquals(await runAuditCommand(["verify", l.path, "--key-file", `${l.root}/missing.key`], c.io), 1);
    assert(c.err().includes("Cannot find the audit key file"), c.err());
    assertEquals(await Deno.stat(`${l.root}/missing.key`).catch(() => null), null);
  } finally {
    await l.cleanup();
  }
});

Deno.test("audit CLI: tail prints the newest records, -n, --json; -f follows until stopped", async () => {
  const l = await makeLog(5);
  try {
    const c = captureIo();
    assertEquals(await runAuditCommand(["tail", l.path, "-n", "3"], c.io), 0, c.err());
    const lines = c.out().trim().split("\n");
    assertEquals(lines.length, 3);
    assert(lines[0]!.includes("#3") && lines[0]!.includes("denied") && lines[0]!.includes("VM 100 is protected"));
    assert(lines[2]!.includes("#5") && lines[2]!.includes("tool_5"));
    const j = captureIo();
    await runAuditCommand(["tail", l.path, "-n", "1", "--json"], j.io);
    assertEquals(JSON.parse(j.out()).seq, 5);

    const ctl = new AbortController();
    const f = captureIo({ signal: ctl.signal });
    const done = runAuditCommand(["tail", l.path, "-n", "1", "-f"], f.io);
    const { key } = await resolveAuditKey({ path: l.path, create: false });
    const log = await createAuditLog({ path: l.path, key });
    await log.write({ phase: "auth", principal: "device:x", transport: "http", decision: "denied", reason: "revoked" });
    await log.close();
    for (let i = 0; i < 50 && !f.out().includes("#6"); i++) await new Promise((r) => setTimeout(r, 100));
    ctl.abort();
    assertEquals(await done, 0);
    assert(f.out().includes("#6 auth device:x - denied"), f.out());
  } finally {
    await l.cleanup();
  }
});

Deno.test("audit CLI: no path and no audit.path is a usage error", async () => {
  const c = captureIo();
  assertEquals(await runAuditCommand(["verify"], c.io), 2);
  assert(c.err().includes("audit.path"));
});
