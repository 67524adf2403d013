import { backup, backupEffect, classifyBackup, parseBackupVolume } from "../../src/tools/backups.ts";
import { cleanDeep } from "../../src/guard/untrusted.ts";
import { assert, assertEquals, errorOf, fakeContext, guest } from "./guest_fake.ts";

const VOL = "nas:backup/vzdump-qemu-100-2025_01_02-03_04_05.vma.zst";
const CTVOL = "nas:backup/vzdump-lxc-200-2025_01_03-03_04_05.tar.zst";

function setup(nodes = ["pve1"]) {
  return fakeContext({
    nodes,
    guests: [guest(100, "qemu", { status: "running" }), guest(200, "lxc")],
    route: (s) => {
      if (s.method === "GET" && /\/nodes\/[^/]+\/storage$/.test(s.path)) {
        return [{ storage: "nas", active: 1 }, { storage: "local", active: 1 }];
      }
      if (s.method === "GET" && s.path.endsWith("/nas/content")) {
        return [
          { volid: VOL, vmid: 100, size: 5 * 1048576, ctime: 1735787045, notes: "db\u200B-01" },
          { volid: CTVOL, vmid: 200, size: 1048576, ctime: 1735873445, protected: 1 },
        ].filter((r) => s.params.vmid === undefined || String(r.vmid) === s.params.vmid);
      }
      return undefined;
    },
  });
}
const parse = (a: Record<string, unknown>) => backup.input.parse(a);

Deno.test("backup: volume names tell type and vmid (vzdump and PBS)", () => {
  assertEquals(parseBackupVolume(VOL), { storage: "nas", type: "qemu", vmid: 100 });
  assertEquals(parseBackupVolume(CTVOL), { storage: "nas", type: "lxc", vmid: 200 });
  assertEquals(parseBackupVolume("pbs:backup/ct/300/2025-01-02T03:04:05Z"), { storage: "pbs", type: "lxc", vmid: 300 });
  assertEquals(parseBackupVolume("local:iso/x.iso"), undefined);
});

Deno.test("backup: run sends vzdump on the guest's node and reports the new volume", async () => {
  const { ctx, sent } = setup();
  const out = await backup.handler(
    parse({ action: "run", vmid: 100, storage: "nas", compress: "zstd", notes: "{{guestname}}" }),
    ctx,
  );
  const post = sent.find((s) => s.method === "POST")!;
  assertEquals(post.path, "/nodes/pve1/vzdump");
  assertEquals(post.params, {
    vmid: "100",
    storage: "nas",
    mode: "snapshot",
    compress: "zstd",
    "notes-template": "{{guestname}}",
  });
  assertEquals(out.volid, VOL);
  const noStorage = await errorOf(() => backup.handler(parse({ action: "run", vmid: 100, notes: "x" }), ctx));
  assert(noStorage.includes("notes need storage"), noStorage);
});

Deno.test("backup: list walks the node's backup storages, newest first, notes only on request", async () => {
  const { ctx, sent } = setup();
  const out = await backup.handler(parse({ action: "list" }), ctx);
  assertEquals(out.backups?.map((b) => b.volid), [CTVOL, VOL]);
  assertEquals(out.backups?.[0]?.protected, true);
  assert(out.backups?.every((b) => b.notes === undefined), "notes without include_notes");
  assert(sent.some((s) => s.path === "/nodes/pve1/storage" && s.params.content === "backup"), "storage filter");
  const withNotes = cleanDeep( // as the pipeline sanitises every result
    await backup.handler(parse({ action: "list", vmid: 100, include_notes: true }), ctx),
    backup.textCaps,
  );
  assertEquals(withNotes.backups?.[0]?.notes, { untrusted: true, text: "db-01" });
  const { ctx: multi } = setup(["pve1", "pve2"]);
  const msg = await errorOf(() => backup.handler(parse({ action: "list" }), multi));
  assert(msg.includes("needs a node"), msg);
});

Deno.test("backup: restore as a new guest (qemu archive / lxc restore=1), overwrite needs force", async () => {
  const { ctx, sent } = setup();
  let out = await backup.handler(parse({ action: "restore", volume: VOL, storage: "local-lvm", unique: true }), ctx);
  let post = sent.find((s) => s.method === "POST")!;
  assertEquals(post.path, "/nodes/pve1/qemu");
  assertEquals(post.params, { vmid: "900", storage: "local-lvm", unique: "1", archive: VOL });
  assertEquals(out.vmid, 900);
  sent.length = 0;
  out = await backup.handler(parse({ action: "restore", volume: CTVOL, vmid: 200, force: true }), ctx);
  post = sent.find((s) => s.method === "POST")!;
  assertEquals(post.path, "/nodes/pve1/lxc");
  assertEquals(post.params, { vmid: "200", force: "1", ostemplate: CTVOL, restore: "1" });
  const exists = await errorOf(() => backup.handler(parse({ action: "restore", volume: CTVOL, vmid: 200 }), ctx));
  assert(exists.includes("pass force=true"), exists);
  const running = await errorOf(() =>
    backup.handler(parse({ action: "restore", volume: VOL, vmid: 100, force: true }), ctx)
  );
  assert(running.includes("stop it before restoring"), running);
  const wrongType = await errorOf(() =>
    backup.handler(parse({ action: "restore", volume: VOL, vmid: 200, force: true }), ctx)
  );
  assert(wrongType.includes("holds a qemu one"), wrongType);
});

Deno.test("backup: delete removes the volume; classes and targets follow what is changed", async () => {
  const { ctx, sent } = setup();
  await backup.handler(parse({ action: "delete", volume: VOL }), ctx);
  const del = sent.find((s) => s.method === "DELETE")!;
  assertEquals(del.path, `/nodes/pve1/storage/nas/content/${VOL}`);
  assertEquals(classifyBackup({ action: "list", force: false }), "read");
  assertEquals(classifyBackup({ action: "run", force: false }), "write");
  assertEquals(classifyBackup({ action: "restore", force: false }), "write");
  assertEquals(classifyBackup({ action: "restore", force: true }), "destructive");
  assertEquals(classifyBackup({ action: "delete", force: false }), "destructive");
  const eff = (a: Record<string, unknown>) => backupEffect(parse(a));
  assertEquals(eff({ action: "run", vmid: 100 }).guests, [{ vmid: 100, role: "source" }]);
  assertEquals(eff({ action: "run", mode: "stop", vmid: 100 }).guests, [{ vmid: 100, role: "target" }]);
  assertEquals(eff({ action: "restore", volume: CTVOL, vmid: 100, node: "pve1", force: true }).guests, [
    { vmid: parseBackupVolume(CTVOL)!.vmid, role: "source" },
    { vmid: 100, role: "target" },
  ]);
  assertEquals(eff({ action: "restore", volume: CTVOL, vmid: 900, node: "pve1" }).guests[1], {
    vmid: 900,
    role: "new",
  });
  assert(eff({ action: "restore", volume: CTVOL }).undetermined?.includes("pass vmid"), "vmid left to run time");
  assertEquals(eff({ action: "delete", volume: CTVOL }).guests, [{
    vmid: parseBackupVolume(CTVOL)!.vmid,
    role: "volume",
  }]);
  const plan = await backup.plan!(parse({ action: "restore", volume: CTVOL, vmid: 200, force: true }), ctx);
  assert(plan.effect.includes("destroys the guest's current disks"), plan.effect);
});

Deno.test("backup: plans for run (dry run) and for a restore as a new guest", async () => {
  const { ctx } = setup();
  const run = await backup.plan!(parse({ action: "run", vmid: 100, mode: "stop", storage: "nas" }), ctx);
  assert(run.effect.includes("the guest is stopped while it runs") && run.current === "running", JSON.stringify(run));
  const fresh = await backup.plan!(parse({ action: "restore", volume: VOL }), ctx);
  assertEquals(fresh.target, "vmid 900 (does not exist yet)");
  assert(fresh.effect.includes("creates a new guest"), fresh.effect);
});
