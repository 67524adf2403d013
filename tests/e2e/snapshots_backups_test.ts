/**
 * Snapshot and backup tools end to end: real MCP client ↔ server (stdio subprocess) ↔ simulator. Every step asserts
 * on the simulator's state; at the end, no request the tools emitted failed schema validation (400).
 */
import { assert, assertEquals, call, type Sim, startStack } from "./harness.ts";
import { fails, guest, ok, startGuestStack } from "./guest_fixtures.ts";

function volume(sim: Sim, volid: string) {
  const s = sim.state.storages.get(volid.slice(0, volid.indexOf(":")));
  return s
    ? [...sim.state.nodes.keys()].flatMap((n) => [...sim.state.volumes(s, n)]).find((v) => v.volid === volid)
    : undefined;
}

interface SnapRow {
  name: string;
  parent?: string;
  ram?: boolean;
  description?: { untrusted: true; text: string };
}

Deno.test("e2e: snapshots and backups against the simulator", async (t) => {
  const stack = await startGuestStack();
  const { sim, c } = stack;
  // Seed 5: 100 qemu pve1 running, 104 lxc pve2 running, 111 qemu pve3 stopped.
  try {
    await t.step("snapshot: create with RAM, change, create without, list the chain", async () => {
      assertEquals((ok(await c("snapshot", { vmid: 100 }), "empty list").snapshots as unknown[]).length, 0);
      ok(
        await c("snapshot", { vmid: 100, action: "create", name: "before", vmstate: true, description: "clean" }),
        "before",
      );
      assertEquals(guest(sim, 100).config.parent, "before");
      assertEquals(guest(sim, 100).lock, undefined, "unlocked after the task");
      ok(await c("guest_config", { vmid: 111, cores: 3 }), "unrelated change");
      const coresBefore = guest(sim, 100).config.cores;
      ok(await c("guest_config", { vmid: 100, name: "changed-name" }), "change");
      ok(
        await c("snapshot", { vmid: 100, action: "create", name: "after", description: "x\u200B\u202Ey \u0007hidden" }),
        "after",
      );
      const list = ok(await c("snapshot", { vmid: 100, include_notes: true }), "list");
      const rows = list.snapshots as SnapRow[];
      assertEquals(rows.map((r) => r.name), ["before", "after"]);
      assertEquals(rows[1]?.parent, "before");
      assertEquals(rows[0]?.ram, true);
      assertEquals(rows[1]?.ram, undefined);
      assertEquals(list.current_parent, "after");
      assertEquals(rows[1]?.description, { untrusted: true, text: "xy hidden" }, "notes are cleaned and labelled");
      const plain = ok(await c("snapshot", { vmid: 100 }), "list without notes").snapshots as SnapRow[];
      assert(plain.every((r) => r.description === undefined), "notes are left out unless asked for");
      fails(
        await c("snapshot", { vmid: 100, action: "create", name: "after" }),
        /snapshot name 'after' already used/,
        "dup",
      );
      assertEquals(coresBefore, guest(sim, 100).config.cores);
    });

    await t.step("snapshot rollback: dry run sends nothing; rollback restores config and RAM state", async () => {
      const mark = sim.requests.length;
      const dry = await c("snapshot", { vmid: 100, action: "rollback", name: "before", dry_run: true });
      assert(/Dry run, nothing changed/.test(dry.content[0]?.text ?? ""), dry.content[0]?.text ?? "");
      assert(/every change since is lost/.test(dry.content[0]!.text), dry.content[0]!.text);
      assertEquals(sim.requests.slice(mark).filter((r) => r.method !== "GET").length, 0, "dry run wrote nothing");
      ok(await c("snapshot", { vmid: 100, action: "rollback", name: "before" }), "rollback");
      const g = guest(sim, 100);
      assertEquals(g.config.parent, "before");
      assert(g.name !== "changed-name", "the name came back from the snapshot");
      assertEquals(g.status, "running", "RAM snapshot resumes running");
      fails(await c("snapshot", { vmid: 100, action: "rollback", name: "nope" }), /has no snapshot "nope"/, "missing");
    });

    await t.step("snapshot delete re-parents the chain; containers snapshot without RAM", async () => {
      ok(await c("snapshot", { vmid: 100, action: "create", name: "third" }), "third");
      ok(await c("snapshot", { vmid: 100, action: "delete", name: "before" }), "delete before");
      const rows = ok(await c("snapshot", { vmid: 100 }), "list").snapshots as SnapRow[];
      // "after" and "third" both descended from "before"; with it gone they hang off the root.
      assertEquals(rows.map((r) => [r.name, r.parent ?? null]), [["after", null], ["third", null]]);
      fails(await c("snapshot", { vmid: 104, action: "create", name: "x", vmstate: true }), /VMs only/, "ct ram");
      ok(await c("snapshot", { vmid: 104, action: "create", name: "ct_snap" }), "ct snapshot");
      ok(await c("guest_power", { vmid: 104, action: "stop" }), "stop ct");
      ok(await c("snapshot", { vmid: 104, action: "rollback", name: "ct_snap", start: true }), "ct rollback + start");
      assertEquals(guest(sim, 104).status, "running");
    });

    let made = "";
    await t.step("backup run: vzdump to the shared storage, with notes; refusals", async () => {
      const seeded = [...sim.state.volumes(sim.state.storages.get("nas")!, "pve1")].filter((v) =>
        v.content === "backup"
      );
      const before = ok(await c("backup", { action: "list", node: "pve1", storage: "nas" }), "list");
      assertEquals(before.total, seeded.length);
      const out = ok(
        await c("backup", { action: "run", vmid: 100, storage: "nas", notes: "{{guestname}} nightly" }),
        "run",
      );
      made = out.volid as string;
      assert(/^nas:backup\/vzdump-qemu-100-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.vma\.zst$/.test(made), made);
      const vol = volume(sim, made);
      assertEquals(vol?.notes, `${guest(sim, 100).name} nightly`);
      const sent = sim.requests.findLast((r) => r.path === "/nodes/pve1/vzdump");
      assertEquals(sent?.params, {
        vmid: "100",
        storage: "nas",
        mode: "snapshot",
        compress: "zstd",
        "notes-template": "{{guestname}} nightly",
      });
      fails(
        await c("backup", { action: "run", vmid: 100, storage: "local-lvm" }),
        /does not support backups/,
        "no backup content",
      );
      const after = ok(await c("backup", { action: "list", vmid: 100, include_notes: true }), "list for 100");
      const rows = after.backups as { volid: string; notes?: { text: string } }[];
      assertEquals(rows[0]?.volid, made, "newest first");
      assertEquals(rows[0]?.notes?.text, vol?.notes);
    });

    await t.step("backup restore: as a new guest, then over the original (force, stopped first)", async () => {
      const next = sim.state.nextVmid();
      const restored = ok(await c("backup", { action: "restore", volume: made, unique: true }), "restore new");
      assertEquals(restored.vmid, next);
      const g = guest(sim, next);
      assertEquals(g.name, guest(sim, 100).name);
      assertEquals(g.node, "pve1");
      assert(String(g.config.scsi0).includes(`vm-${next}-disk-`), String(g.config.scsi0));
      assert(String(g.config.net0) !== String(guest(sim, 100).config.net0), "unique gives new MACs");
      fails(
        await c("backup", { action: "restore", volume: made, vmid: 100 }),
        /exists: omit vmid .* or pass force=true/,
        "exists",
      );
      fails(
        await c("backup", { action: "restore", volume: made, vmid: 100, force: true }),
        /is running: stop it/,
        "running",
      );
      ok(await c("guest_power", { vmid: 100, action: "stop" }), "stop 100");
      const backedUp = guest(sim, 100).config.description;
      ok(await c("guest_config", { vmid: 100, notes: "changed after the backup" }), "change after backup");
      ok(await c("backup", { action: "restore", volume: made, vmid: 100, force: true, start: true }), "restore over");
      const r = guest(sim, 100);
      assertEquals(r.config.description, backedUp, "the config is the backup's again");
      assertEquals(r.status, "running", "started after restore");
      assertEquals(r.config.parent, undefined, "snapshots do not survive a restore");
      assertEquals((ok(await c("snapshot", { vmid: 100 }), "snaps").snapshots as unknown[]).length, 0);
    });

    await t.step("containers: backup in stop mode and restore (restore=1)", async () => {
      const out = ok(
        await c("backup", { action: "run", vmid: 104, storage: "nas", mode: "stop", compress: "gzip" }),
        "ct run",
      );
      const volid = out.volid as string;
      assert(/vzdump-lxc-104-.*\.tar\.gz$/.test(volid), volid);
      assertEquals(guest(sim, 104).status, "running", "stop mode restarts the guest");
      const r = ok(await c("backup", { action: "restore", volume: volid, vmid: 7000, node: "pve2" }), "ct restore");
      assertEquals(r.vmid, 7000);
      assertEquals(guest(sim, 7000).type, "lxc");
      const sent = sim.requests.findLast((x) => x.method === "POST" && x.path === "/nodes/pve2/lxc");
      assertEquals(sent?.params.restore, "1");
      assertEquals(sent?.params.ostemplate, volid);
      // Converting a container to a template is synchronous in PVE (no task): the tool reports it done.
      const tpl = ok(await c("guest_manage", { action: "template", vmid: 7000 }), "ct template");
      assertEquals([tpl.status, tpl.ok], ["stopped", true]);
      assertEquals(guest(sim, 7000).template, true);
    });

    await t.step("backup delete: removes the volume; protected backups are refused by PVE", async () => {
      ok(await c("backup", { action: "delete", volume: made, node: "pve1" }), "delete");
      assertEquals(volume(sim, made), undefined);
      const nas = sim.state.storages.get("nas")!;
      const prot = [...sim.state.volumes(nas, "")].find((v) => v.content === "backup" && v.protected);
      if (prot) {
        fails(await c("backup", { action: "delete", volume: prot.volid, node: "pve1" }), /is protected/, "protected");
      } else {
        sim.state.addVolume({
          volid: "nas:backup/vzdump-qemu-111-2025_01_01-00_00_00.vma.zst",
          storage: "nas",
          content: "backup",
          format: "vma.zst",
          size: 1024,
          ctime: 1735689600,
          vmid: 111,
          protected: true,
        });
        fails(
          await c("backup", {
            action: "delete",
            volume: "nas:backup/vzdump-qemu-111-2025_01_01-00_00_00.vma.zst",
            node: "pve1",
          }),
          /is protected/,
          "protected",
        );
      }
      fails(
        await c("backup", { action: "delete", volume: "local:iso/x.iso", node: "pve1" }),
        /not a vzdump\/PBS backup volume/,
        "iso",
      );
    });

    await t.step(
      "operator mode: snapshots and backups run; rollback, delete and forced restore are refused",
      async () => {
        const op = await startStack({ sim, mode: "operator" });
        try {
          ok(await call(op.client, "snapshot", { vmid: 111, action: "create", name: "op_snap" }), "operator snapshot");
          fails(
            await call(op.client, "snapshot", { vmid: 111, action: "rollback", name: "op_snap" }),
            /needs mode admin/,
            "rollback",
          );
          fails(
            await call(op.client, "snapshot", { vmid: 111, action: "delete", name: "op_snap" }),
            /needs mode admin/,
            "delete",
          );
          ok(await call(op.client, "backup", { action: "run", vmid: 111, storage: "nas" }), "operator backup");
          fails(
            await call(op.client, "backup", { action: "restore", volume: made, vmid: 111, force: true }),
            /needs mode admin/,
            "force",
          );
        } finally {
          await op.close();
        }
      },
    );

    await t.step("read-only mode: snapshot and backup are listed narrowed to action=list", async () => {
      const ro = await startStack({ sim, mode: "read-only" });
      try {
        const { tools } = await ro.client.listTools();
        for (const name of ["snapshot", "backup"]) {
          const tool = tools.find((x) => x.name === name);
          assert(tool, `${name} is not listed in read-only mode`);
          assertEquals(tool.annotations?.readOnlyHint, true, `${name} read-only view`);
          const action = (tool.inputSchema.properties as Record<string, { enum?: string[] }>).action;
          assertEquals(action?.enum, ["list"], `${name} actions`);
        }
        const snaps = ok(await call(ro.client, "snapshot", { vmid: 111 }), "read-only snapshot list");
        assertEquals((snaps.snapshots as SnapRow[]).map((r) => r.name), ["op_snap"]);
        ok(await call(ro.client, "backup", { action: "list", vmid: 111 }), "read-only backup list");
        const create = await call(ro.client, "snapshot", { vmid: 111, action: "create", name: "nope" });
        assert(create.isError, "create must be refused in read-only mode");
      } finally {
        await ro.close();
      }
    });

    await t.step("every request the tools sent was valid under the official schema (no 400, no 501)", () => {
      const bad = sim.requests.filter((r) => r.status === 400 || r.status === 501);
      assertEquals(
        bad.map((r) => `${r.status} ${r.method} ${r.path} ${JSON.stringify(r.params)}`),
        [],
        "400/501 answers",
      );
    });
  } finally {
    await stack.close();
  }
});
