/**
 * Guest-changing tools end to end: real MCP client ↔ server (stdio subprocess) ↔ simulator. Every step asserts on the
 * simulator's state and on what was sent; at the end, no request the tools emitted failed schema validation (400).
 */
import { assert, assertEquals, call, type Sim, startStack } from "./harness.ts";
import { fails, guest, ok, startGuestStack } from "./guest_fixtures.ts";

/** Requests since `mark` that changed something (not GET). */
const writesSince = (sim: Sim, mark: number) =>
  sim.requests.slice(mark).filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);

const ISO = "local:iso/debian-12.7.0-amd64-netinst.iso";
const CT_TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0yqWv0yPxQnZ0d5cX5u8pQm6x7g8h9i0j1k2l3m4n5 ops@example";

Deno.test("e2e: guest power, create, clone, manage, config, disks and NICs against the simulator", async (t) => {
  const stack = await startGuestStack();
  const { client, sim, c } = stack;
  try {
    // Seed 5: 100 qemu pve1 running, 104 lxc pve2 running, 111 qemu pve3 stopped.
    await t.step("the guest tools are listed with explicit annotations", async () => {
      const { tools } = await client.listTools();
      const names = tools.map((x) => x.name);
      for (
        const n of [
          "guest_power",
          "guest_create",
          "guest_manage",
          "guest_config",
          "guest_disk",
          "guest_nic",
        ]
      ) {
        assert(names.includes(n), `${n} not listed`);
      }
      const power = tools.find((x) => x.name === "guest_power")!;
      assertEquals(power.annotations?.destructiveHint, true, "guest_power can be destructive");
      assertEquals(power.annotations?.readOnlyHint, false);
    });

    await t.step("guest_power: stop, start, suspend, resume, reboot, reset a VM; start/stop a container", async () => {
      let out = ok(await c("guest_power", { vmid: 100, action: "stop" }), "stop 100");
      assertEquals(out.ok, true);
      assertEquals(guest(sim, 100).status, "stopped");
      out = ok(await c("guest_power", { vmid: 100, action: "start" }), "start 100");
      assertEquals(guest(sim, 100).status, "running");
      ok(await c("guest_power", { vmid: 100, action: "suspend" }), "suspend");
      assertEquals(guest(sim, 100).qmpstatus, "paused");
      ok(await c("guest_power", { vmid: 100, action: "resume" }), "resume");
      assertEquals(guest(sim, 100).qmpstatus, "running");
      ok(await c("guest_power", { vmid: 100, action: "reboot", timeout: 30 }), "reboot");
      ok(await c("guest_power", { vmid: 100, action: "reset" }), "reset");
      assertEquals(guest(sim, 100).status, "running");
      ok(await c("guest_power", { vmid: 104, action: "shutdown", timeout: 10 }), "shutdown ct");
      assertEquals(guest(sim, 104).status, "stopped");
      ok(await c("guest_power", { vmid: 104, action: "start" }), "start ct");
      assertEquals(guest(sim, 104).status, "running");
      fails(await c("guest_power", { vmid: 104, action: "start" }), /CT 104 already running/, "double start");
      fails(
        await c("guest_power", { vmid: 104, action: "reset" }),
        /reset is not available for containers/,
        "ct reset",
      );
      const started = await c("guest_power", { vmid: 111, action: "start", wait: false });
      assertEquals(ok(started, "no wait").status, "running", "wait=false returns while the task runs");
    });

    let vm = 0;
    await t.step("guest_create: a VM from an ISO with cloud-init, next free vmid, disks on local-lvm", async () => {
      const expected = sim.state.nextVmid();
      const next = ok(await c("guest_manage", { action: "nextid" }), "nextid");
      assertEquals(next.vmid, expected);
      const out = ok(
        await c("guest_create", {
          type: "qemu",
          node: "pve1",
          name: "web-01",
          iso: ISO,
          cores: 2,
          memory: 2048,
          disk_gb: 20,
          user: "ops",
          ssh_keys: KEY,
          ip: "10.0.0.50/24",
          gw: "10.0.0.1",
          tags: ["web", "prod"],
        }),
        "create vm",
      );
      vm = out.vmid as number;
      assertEquals(vm, expected);
      const g = guest(sim, vm);
      assertEquals(g.name, "web-01");
      assertEquals(g.lock, undefined, "unlocked after the create task");
      assertEquals(g.config.ide2, `${ISO},media=cdrom`);
      assertEquals(g.config.ipconfig0, "ip=10.0.0.50/24,gw=10.0.0.1");
      assertEquals(decodeURIComponent(String(g.config.sshkeys)), KEY);
      assert(String(g.config.scsi0).includes("size=20G"), String(g.config.scsi0));
      assert(String(g.config.ide0).includes("cloudinit"), "cloud-init drive");
      assertEquals(g.tags, ["web", "prod"]);
    });

    await t.step(
      "guest_create: secret:// references are refused without a secret store, before anything is sent",
      async () => {
        const mark = sim.requests.length;
        fails(
          await c("guest_create", { type: "qemu", node: "pve1", password: "secret://ci-pass" }),
          /no secret store is configured/,
          "secret ref",
        );
        assertEquals(writesSince(sim, mark), [], "nothing was created");
      },
    );

    let ct = 0;
    await t.step("guest_create: a container from an OS template, started", async () => {
      const out = ok(
        await c("guest_create", {
          type: "lxc",
          node: "pve2",
          name: "ct-01",
          ostemplate: CT_TEMPLATE,
          password: "hunter22!",
          ssh_keys: KEY,
          disk_gb: 4,
          memory: 1024,
          start: true,
        }),
        "create ct",
      );
      ct = out.vmid as number;
      const g = guest(sim, ct);
      assertEquals(g.status, "running");
      assertEquals(g.config.hostname, "ct-01");
      assertEquals(g.config.ostype, "debian");
      assert(/^name=eth0,bridge=vmbr0,firewall=1,ip=dhcp,hwaddr=/.test(String(g.config.net0)), String(g.config.net0));
      assert(!JSON.stringify(g.config).includes("hunter22"), "the root password is not stored in the config");
      const rec = sim.requests.findLast((r) => r.method === "POST" && r.path === "/nodes/pve2/lxc");
      assertEquals(rec?.params.password, "[redacted]", "the simulator recorded the password redacted");
    });

    let tpl = 0;
    await t.step(
      "guest_manage template, then guest_create clones: from the template with cloud-init, linked and full",
      async () => {
        fails(await c("guest_manage", { action: "template", vmid: 100 }), /is running: stop it/, "running template");
        ok(await c("guest_manage", { action: "template", vmid: vm }), "template");
        assertEquals(guest(sim, vm).template, true);
        assert(String(guest(sim, vm).config.scsi0).includes("base-"), "disks became base images");
        tpl = vm;
        const made = ok(
          await c("guest_create", {
            source: tpl,
            name: "app-01",
            memory: 4096,
            ip: "dhcp",
            start: true,
          }),
          "from template",
        );
        const g = guest(sim, made.vmid as number);
        assertEquals(g.name, "app-01");
        assertEquals(g.config.memory, "4096");
        assertEquals(g.config.ipconfig0, "ip=dhcp");
        assertEquals(g.status, "running");
        assert(String(g.config.net0) !== String(guest(sim, tpl).config.net0), "the clone has its own MAC");
        const linked = ok(await c("guest_create", { source: tpl, name: "app-02" }), "linked clone");
        const lg = guest(sim, linked.vmid as number);
        assertEquals(lg.template, false);
        assertEquals(lg.node, "pve1");
        const sent = sim.requests.findLast((r) => r.path === `/nodes/pve1/qemu/${tpl}/clone`);
        assertEquals(sent?.params.full, "0", "linked clone from a template by default");
        fails(
          await c("guest_create", { source: ct, full: false }),
          /linked clone needs a template/,
          "linked from non-template",
        );
        fails(
          await c("guest_create", { source: ct, node: "pve3" }),
          /can't clone CT to node 'pve3' \(CT uses local storage\)/,
          "local storage to another node",
        );
        const full = ok(await c("guest_create", { source: 111, vmid: 5000, name: "copy-111" }), "full clone");
        assertEquals(full.vmid, 5000);
        assertEquals(guest(sim, 5000).name, "copy-111");
        fails(await c("guest_create", { source: 111, vmid: 5000 }), /vmid 5000 is already used/, "used vmid");
      },
    );

    await t.step("guest_config: allowlisted keys, pending changes on a running VM, digest conflicts", async () => {
      const before = guest(sim, 5000);
      ok(
        await c("guest_config", { vmid: 5000, name: "db-01", cores: 4, memory: 8192, notes: "primary", tags: ["db"] }),
        "stopped vm",
      );
      assertEquals(before.name, "db-01");
      assertEquals(before.cores, 4);
      assertEquals(before.memory, 8192);
      assertEquals(before.config.description, "primary");
      const running = ok(await c("guest_config", { vmid: 100, cores: 8, onboot: true }), "running vm");
      assertEquals(running.pending, ["cores"], "cores wait for a restart");
      assertEquals(guest(sim, 100).config.onboot, 1);
      ok(await c("guest_config", { vmid: 100, delete: ["onboot"] }), "delete");
      assertEquals(guest(sim, 100).config.onboot, undefined);
      fails(
        await c("guest_config", { vmid: 5000, cores: 2, digest: "0000" }),
        /detected modified configuration/,
        "digest",
      );
      fails(await c("guest_config", { vmid: ct, ciuser: "x" }), /VMs only/, "ct cloud-init");
      const bad = await c("guest_config", { vmid: 5000, args: "-no-reboot" });
      assert(bad.isError, "keys outside the allowlist are refused");
      ok(await c("guest_config", { vmid: ct, name: "ct-renamed", swap: 256 }), "ct config");
      assertEquals(guest(sim, ct).config.hostname, "ct-renamed");
      assertEquals(guest(sim, ct).config.swap, 256);
    });

    await t.step("guest_disk: grow only, and move to another storage (old copy kept or deleted)", async () => {
      sim.state.addStorage({
        id: "fast",
        type: "lvmthin",
        content: ["images", "rootdir"],
        shared: false,
        nodes: [],
        total: 4096 * 1024 ** 3,
      });
      ok(await c("guest_disk", { vmid: 5000, action: "resize", disk: "scsi0", size: "+8G" }), "grow");
      const size = /size=(\d+)G/.exec(String(guest(sim, 5000).config.scsi0))?.[1];
      fails(
        await c("guest_disk", { vmid: 5000, action: "resize", disk: "scsi0", size: "8G" }),
        /can only grow/,
        "shrink",
      );
      ok(
        await c("guest_disk", { vmid: 5000, action: "resize", disk: "scsi0", size: `${Number(size) + 2}G` }),
        "absolute",
      );
      assert(String(guest(sim, 5000).config.scsi0).includes(`size=${Number(size) + 2}G`), "absolute grow applied");
      ok(await c("guest_disk", { vmid: 5000, action: "move", disk: "scsi0", storage: "fast" }), "move vm disk");
      const cfg = guest(sim, 5000).config;
      assert(String(cfg.scsi0).startsWith("fast:vm-5000-disk-"), String(cfg.scsi0));
      assert(String(cfg.unused0).startsWith("local-lvm:"), "old copy kept as unused0");
      fails(
        await c("guest_disk", { vmid: 5000, action: "move", disk: "scsi0", storage: "local" }),
        /does not support content-type 'images'/,
        "iso storage",
      );
      fails(
        await c("guest_disk", { vmid: ct, action: "move", disk: "rootfs", storage: "fast" }),
        /running container/,
        "running ct",
      );
      ok(await c("guest_disk", { vmid: ct, action: "resize", disk: "rootfs", size: "+1G" }), "ct grow");
      assert(String(guest(sim, ct).config.rootfs).includes("size=5G"), String(guest(sim, ct).config.rootfs));
    });

    await t.step("guest_nic: add (first free index), update keeps the MAC, remove", async () => {
      const added = ok(await c("guest_nic", { vmid: 5000, action: "add", bridge: "vmbr1", vlan: 20 }), "add");
      assertEquals(added.nic, "net1");
      assert(
        /^virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr1,tag=20$/.test(String(guest(sim, 5000).config.net1)),
        String(guest(sim, 5000).config.net1),
      );
      const mac = /virtio=([^,]+)/.exec(String(guest(sim, 5000).config.net1))?.[1];
      ok(
        await c("guest_nic", { vmid: 5000, action: "update", index: 1, vlan: 0, firewall: true, model: "e1000" }),
        "update",
      );
      assertEquals(guest(sim, 5000).config.net1, `e1000=${mac},bridge=vmbr1,firewall=1`);
      ok(await c("guest_nic", { vmid: 5000, action: "remove", index: 1 }), "remove");
      assertEquals(guest(sim, 5000).config.net1, undefined);
      ok(await c("guest_nic", { vmid: ct, action: "add", ip: "10.9.0.5/24", gw: "10.9.0.1" }), "ct nic");
      assert(
        /^name=eth1,ip=10\.9\.0\.5\/24,gw=10\.9\.0\.1,bridge=vmbr0,hwaddr=/.test(String(guest(sim, ct).config.net1)),
        String(guest(sim, ct).config.net1),
      );
    });

    await t.step("guest_manage migrate: live with local disks, container restart mode, refusals", async () => {
      const failed = ok(
        await c("guest_manage", { action: "migrate", vmid: 100, target_node: "pve2" }),
        "no local disks flag",
      );
      assertEquals(failed.ok, false, "live migration with local disks needs with_local_disks");
      assertEquals(guest(sim, 100).node, "pve1");
      ok(
        await c("guest_manage", { action: "migrate", vmid: 100, target_node: "pve2", with_local_disks: true }),
        "live",
      );
      assertEquals(guest(sim, 100).node, "pve2");
      assertEquals(guest(sim, 100).status, "running");
      fails(
        await c("guest_manage", { action: "migrate", vmid: ct, target_node: "pve3", online: false }),
        /is running/,
        "ct",
      );
      ok(await c("guest_manage", { action: "migrate", vmid: ct, target_node: "pve3" }), "ct restart migration");
      assertEquals(guest(sim, ct).node, "pve3");
      assertEquals(guest(sim, ct).status, "running");
      assert(String(guest(sim, ct).config.rootfs).startsWith("local-lvm:vm-"), "volume moved along");
    });

    await t.step(
      "guest_manage delete: dry run changes nothing; running guests are refused; stopped ones go",
      async () => {
        const mark = sim.requests.length;
        const dry = await c("guest_manage", { action: "delete", vmid: 5000, dry_run: true });
        assert(!dry.isError, dry.content[0]?.text ?? "");
        assert(/Dry run, nothing changed/.test(dry.content[0]!.text), dry.content[0]!.text);
        assertEquals(writesSince(sim, mark), [], "dry run wrote nothing");
        fails(await c("guest_manage", { action: "delete", vmid: 100 }), /is running: stop it first/, "running");
        ok(await c("guest_manage", { action: "delete", vmid: 5000, purge: true }), "delete");
        assertEquals(sim.state.guests.has(5000), false);
        const left = [...sim.state.storages.values()]
          .flatMap((s) => [...sim.state.nodes.keys()].flatMap((n) => [...sim.state.volumes(s, n)]))
          .filter((v) => v.vmid === 5000 && (v.content === "images" || v.content === "rootdir"));
        assertEquals(left.map((v) => v.volid), [], "its disks are gone");
      },
    );

    await t.step(
      "operator mode: changes are allowed, destructive actions are refused with the mode named",
      async () => {
        const op = await startStack({ sim, mode: "operator" });
        try {
          const stop = await call(op.client, "guest_power", { vmid: 100, action: "stop" });
          fails(stop, /destructive.*needs mode admin/, "operator stop");
          assertEquals(guest(sim, 100).status, "running");
          ok(await call(op.client, "guest_config", { vmid: 100, notes: "set by an operator" }), "operator config");
        } finally {
          await op.close();
        }
      },
    );

    await t.step("every request the tools sent was valid under the official schema (no 400)", () => {
      // PVE's /cluster/nextid?vmid=N answers 400 "VM N already exists" by design: that is how a taken vmid is told.
      const invalid = sim.requests.filter((r) => r.status === 400 && r.path !== "/cluster/nextid");
      assertEquals(invalid.map((r) => `${r.method} ${r.path} ${JSON.stringify(r.params)}`), [], "400 answers");
      const unknown = sim.requests.filter((r) => r.status === 501);
      assertEquals(unknown.map((r) => `${r.method} ${r.path}`), [], "501 answers");
    });
  } finally {
    await stack.close();
  }
});
