import { deepStrictEqual as assertEquals, ok as assert, rejects as assertRejects } from "node:assert/strict";
import { defaultAuditKeyFile, resolveAuditKey } from "../../src/audit/key.ts";
import { tempLogDir } from "./helpers.ts";

Deno.test("audit key: generated once as a 0600 file beside the log dir, then reused", async () => {
  const t = await tempLogDir();
  try {
    const first = await resolveAuditKey({ path: t.dir });
    assertEquals(first.source, "generated");
    assertEquals(first.keyFile, `${t.root}/audit.key`);
    assertEquals(defaultAuditKeyFile(`${t.dir}/`), `${t.root}/audit.key`);
    assertEquals(((await Deno.stat(first.keyFile!)).mode ?? 0) & 0o777, 0o600);
    assert(first.key.length >= 40);
    const again = await resolveAuditKey({ path: t.dir });
    assertEquals(again.source, "file");
    assertEquals(again.key, first.key);
  } finally {
    await t.cleanup();
  }
});

Deno.test("audit key: a key file inside the log dir is refused", async () => {
  const t = await tempLogDir();
  try {
    await assertRejects(resolveAuditKey({ path: t.dir, keyFile: `${t.dir}/k` }), /inside the audit log directory/);
  } finally {
    await t.cleanup();
  }
});

Deno.test("audit key: configured key is used; a short one is refused without echoing it", async () => {
  const t = await tempLogDir();
  try {
    const k = await resolveAuditKey({ path: t.dir, key: "a-long-enough-configured-key" });
    assertEquals(k.source, "config");
    await assertRejects(resolveAuditKey({ path: t.dir, key: "short-s3cr3t" }), (e: Error) => {
      assert(e.message.includes("at least 16") && !e.message.includes("short-s3cr3t"));
      return true;
    });
  } finally {
    await t.cleanup();
  }
});
