import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createAuditLog } from "../../src/audit/log.ts";
import { followAudit, readRecentAudit, type ReadRecord } from "../../src/audit/tail.ts";
import { entry, KEY, tempLogDir } from "./helpers.ts";

Deno.test("readRecentAudit: newest records across rotated files, filtered and verified", async () => {
  const t = await tempLogDir();
  try {
    const log = await createAuditLog({ path: t.dir, key: KEY, maxBytes: 900 });
    for (let i = 1; i <= 15; i++) await log.write(entry({ tool: i % 3 === 0 ? "guest_power" : "guest_list" }));
    await log.close();
    const last = await readRecentAudit(t.dir, { limit: 4, key: KEY });
    assertEquals(last.map((r) => r.record.seq), [12, 13, 14, 15]);
    assertEquals(last.every((r) => r.verified === true), true);
    const power = await readRecentAudit(t.dir, { limit: 100, filter: (r) => r.tool === "guest_power" });
    assertEquals(power.map((r) => r.record.seq), [3, 6, 9, 12, 15]);
  } finally {
    await t.cleanup();
  }
});

Deno.test("followAudit: yields new records, across rotation, until aborted (fake sleep)", async () => {
  const t = await tempLogDir();
  try {
    const log = await createAuditLog({ path: t.dir, key: KEY, maxBytes: 900 });
    await log.write(entry()); // before following: not reported
    const seen: ReadRecord[] = [];
    const ctl = new AbortController();
    let polls = 0;
    const sleep = async () => {
      polls++;
      if (polls === 2) { for (let i = 0; i < 3; i++) await log.write(entry()); }
      if (polls === 4) { for (let i = 0; i < 6; i++) await log.write(entry()); // rotates
       }
      if (polls === 6) ctl.abort();
    };
    await followAudit(t.dir, (r) => void seen.push(r), { signal: ctl.signal, sleep, key: KEY });
    await log.close();
    const seqs = seen.map((r) => r.record.seq);
    assertEquals(seqs, [2, 3, 4, 5, 6, 7, 8, 9, 10]);
  } finally {
    await t.cleanup();
  }
});

Deno.test("followAudit: a partial line is held back until its newline arrives", async () => {
  const t = await tempLogDir();
  try {
    const log = await createAuditLog({ path: t.dir, key: KEY });
    await log.write(entry());
    await log.close();
    const path = `${t.dir}/audit.jsonl`;
    const first = (await Deno.readTextFile(path)).trim();
    const seen: number[] = [];
    const ctl = new AbortController();
    let polls = 0;
    // Hand-made lines (unverified, no key): seq 2 arrives in two halves.
    const line2 = first.replace('"seq":1', '"seq":2');
    const sleep = async () => {
      polls++;
      if (polls === 1) await Deno.writeTextFile(path, line2.slice(0, 30), { append: true });
      if (polls === 2) {
        assertEquals(seen, []);
        await Deno.writeTextFile(path, `${line2.slice(30)}\n`, { append: true });
      }
      if (polls === 3) ctl.abort();
    };
    await followAudit(t.dir, (r) => void seen.push(r.record.seq), { signal: ctl.signal, sleep });
    assertEquals(seen, [2]);
  } finally {
    await t.cleanup();
  }
});
