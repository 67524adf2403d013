/**
 * Attacks on protected guests through `pve_api` in admin mode with a human who accepts everything: every guest a raw
 * call names — in a pool's member list, a vmid list, a bulk action, another guest's disk in a config key, a new vmid,
 * an HA resource or rule — is policed, and calls on guests they do not name are refused while protection is on.
 * Protected: pool `prod` (guests 100, 101, 104) and vmids 900-999.
 */
import { assert, assertEquals, changesSent, rawStack, refusedUnsent } from "./raw_helpers.ts";
import { call } from "../e2e/harness.ts";

Deno.test("adversarial raw: protected guests stay untouched whatever parameter names them", async (t) => {
  const s = await rawStack("admin", { PROXMOX_MCP_PROTECTED_POOLS: "prod", PROXMOX_MCP_PROTECTED_VMIDS: "900-999" });
  const { sim, raw } = s;
  const g = (vmid: number) => sim.state.guests.get(vmid)!;
  try {
    await t.step(
      "pool move: an unprotected member moves (control), a protected one does not, nor is it stopped",
      async () => {
        sim.clearRequests();
        let res = await raw("PUT", "/pools", { poolid: "dev", vms: "103", "allow-move": 1 });
        assert(!res.isError, res.content[0]?.text ?? "");
        assertEquals(
          g(103).pool,
          "dev",
          "the control move did not happen: the simulator does not implement allow-move",
        );
        sim.clearRequests();
        res = await raw("PUT", "/pools", { poolid: "dev", vms: "100", "allow-move": 1 });
        refusedUnsent(sim, res, "PUT /pools moving protected guest 100 out of prod", /guest 100 is protected/);
        res = await raw("PUT", "/pools/dev", { vms: "104", "allow-move": 1 });
        refusedUnsent(sim, res, "PUT /pools/dev moving protected guest 104", /guest 104 is protected/);
        assertEquals(g(100).pool, "prod");
        assertEquals(g(104).pool, "prod");
        res = await call(s.client, "guest_power", { vmid: 100, action: "stop" });
        refusedUnsent(sim, res, "guest_power stop 100 after the attempted move", /guest 100 is protected/);
        assertEquals(g(100).status, "running");
      },
    );

    await t.step("vmid lists: vzdump, startall and bulk actions naming a protected guest send nothing", async () => {
      sim.clearRequests();
      refusedUnsent(
        sim,
        await raw("POST", "/nodes/pve1/vzdump", { vmid: "106,100", storage: "nas", remove: 0 }),
        "vzdump vmid=106,100",
        /guest 100 is protected/,
      );
      refusedUnsent(
        sim,
        await raw("POST", "/nodes/pve1/startall", { vms: "109,100" }),
        "startall vms=109,100",
        /guest 100 is protected/,
      );
      refusedUnsent(
        sim,
        await raw("POST", "/cluster/bulk-action/guest/shutdown", { vms: [106, 104] }),
        "bulk shutdown of 106 and 104",
        /guest 104 is protected/,
      );
      refusedUnsent(
        sim,
        await raw("POST", "/cluster/bulk-action/guest/start", { vms: [101] }),
        "bulk start of 101",
        /guest 101 is protected/,
      );
      assertEquals([g(100).status, g(104).status, g(101).status], ["running", "running", "running"]);
      // Control: the same calls on unprotected guests reach the simulator.
      let res = await raw("POST", "/nodes/pve3/startall", { vms: "111" });
      assert(!res.isError, res.content[0]?.text ?? "");
      res = await raw("POST", "/nodes/pve1/vzdump", { vmid: "106", storage: "nas", remove: 0 });
      assert(!res.isError, res.content[0]?.text ?? "");
      assertEquals(changesSent(sim), ["POST /nodes/pve3/startall", "POST /nodes/pve1/vzdump"]);
    });

    await t.step("mass actions that name no guest are refused while protection is on", async () => {
      sim.clearRequests();
      refusedUnsent(
        sim,
        await raw("POST", "/nodes/pve1/vzdump", { all: 1, storage: "nas" }),
        "vzdump all=1",
        /many guests/,
      );
      refusedUnsent(sim, await raw("POST", "/nodes/pve1/startall"), "startall without vms", /many guests/);
      refusedUnsent(
        sim,
        await raw("POST", "/cluster/bulk-action/guest/shutdown"),
        "bulk shutdown of everything",
        /many guests/,
      );
      refusedUnsent(
        sim,
        await raw("POST", "/nodes/pve1/vzdump", { pool: "staging", storage: "nas" }),
        "vzdump pool=",
        /many guests/,
      );
    });

    await t.step("another guest's disk in a config key is the other guest's business", async () => {
      sim.clearRequests();
      const before = JSON.stringify(g(106).config);
      refusedUnsent(
        sim,
        await raw("PUT", "/nodes/pve1/qemu/106/config", { scsi3: "local-lvm:vm-100-disk-0,size=16G" }),
        "attach 100's disk to 106",
        /guest 100 is protected/,
      );
      refusedUnsent(
        sim,
        await raw("POST", "/nodes/pve1/qemu/106/config", { virtio2: "file=local-lvm:vm-104-disk-0" }),
        "attach 104's volume to 106 (named key)",
        /guest 104 is protected/,
      );
      refusedUnsent(
        sim,
        await raw("PUT", "/nodes/pve1/qemu/106/config", { sata3: "/dev/sdb" }),
        "host device",
        /host path or device/,
      );
      assertEquals(JSON.stringify(g(106).config), before);
    });

    await t.step("new vmids and volume targets in the protected range or on protected guests", async () => {
      sim.clearRequests();
      refusedUnsent(
        sim,
        await raw("POST", "/nodes/pve1/qemu/106/clone", { newid: 950 }),
        "clone to 950",
        /guest 950 is protected/,
      );
      refusedUnsent(
        sim,
        await raw("POST", "/nodes/pve1/qemu/106/move_disk", {
          disk: "scsi0",
          "target-vmid": 100,
          "target-disk": "scsi7",
        }),
        "move 106's disk into 100",
        /guest 100 is protected/,
      );
      refusedUnsent(
        sim,
        await raw("POST", "/nodes/pve1/qemu", { vmid: 951, memory: 512 }),
        "create 951",
        /guest 951 is protected/,
      );
      assert(!sim.state.guests.has(950) && !sim.state.guests.has(951), "a guest in the protected range exists");
    });

    await t.step("HA resources and rules naming a protected guest", async () => {
      sim.clearRequests();
      const ha = g(100).hastate;
      refusedUnsent(
        sim,
        await raw("POST", "/cluster/ha/resources", { sid: "vm:100", state: "stopped" }),
        "HA vm:100",
        /guest 100 is protected/,
      );
      refusedUnsent(
        sim,
        await raw("POST", "/cluster/ha/resources", { sid: "104", state: "stopped" }),
        "HA 104",
        /guest 104 is protected/,
      );
      refusedUnsent(
        sim,
        await raw("POST", "/cluster/ha/rules", {
          rule: "evil",
          type: "node-affinity",
          resources: "vm:106,ct:104",
          nodes: "pve3",
        }),
        "HA rule with ct:104",
        /guest 104 is protected/,
      );
      assertEquals(g(100).hastate, ha);
      const res = await raw("POST", "/cluster/ha/resources", { sid: "vm:106", state: "started" });
      assert(!res.isError, res.content[0]?.text ?? "");
      assertEquals(changesSent(sim), ["POST /cluster/ha/resources"], "the control HA resource was not sent");
    });
  } finally {
    await s.close();
  }
});
