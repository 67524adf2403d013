import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { createAuditLog } from "../../src/audit/log.ts";
import { verifyAudit } from "../../src/audit/verify.ts";
import { entry, KEY, tempLogDir } from "./helpers.ts";

Deno.test("audit: a writer killed with SIGKILL leaves a log that verifies up to its last whole record", async () => {
  const t = await tempLogDir();
  try {
    for (let round = 0; round < 3; round++) {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("./fixtures/kill_writer.ts", import.meta.url).pathname, t.dir],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const reader = child.stdout.getReader();
      let seen = "";
      while (!seen.includes("ready")) {
        const { value, done } = await reader.read();
        if (done) throw new Error("writer exited before it was ready");
        seen += new TextDecoder().decode(value);
      }
      // Let it write a little more, then kill it mid-stream.
      await new Promise((r) => setTimeout(r, 30 + round * 40));
      child.kill("SIGKILL");
      const status = await child.status;
      assertEquals(status.signal, "SIGKILL");
      reader.releaseLock();
      await child.stdout.cancel().catch(() => {});

      const v = await verifyAudit(t.dir, KEY);
      assert(v.ok, `verify failed after SIGKILL: ${JSON.stringify(v.error)}`);
      assert(v.records > 20 * (round + 1), `only ${v.records} records`);
      if (v.tornTail !== undefined) console.log(`round ${round}: torn tail of ${v.tornTail.bytes} bytes tolerated`);

      // The next writer recovers and continues the same chain.
      const log = await createAuditLog({ path: t.dir, key: KEY, maxBytes: 200_000 });
      assertEquals(log.head().seq >= v.lastSeq!, true);
      await log.write(entry());
      await log.close();
      const after = await verifyAudit(t.dir, KEY);
      assert(after.ok && after.tornTail === undefined);
    }
  } finally {
    await t.cleanup();
  }
});
