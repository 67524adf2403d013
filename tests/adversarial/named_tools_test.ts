/**
 * Adversarial tests of issue 10 for the named tools and the policy: a hostile model tries to reach protected or
 * out-of-selector guests through every place a named tool lets it name one (pool membership, new vmids, target nodes,
 * clone sources and targets, volumes, restores, invisible guests). Each drives the real server through a real MCP
 * client against the simulator and asserts on the SIMULATOR: no change request was sent and the guests are unchanged.
 *
 * Simulator seed 5 (3 nodes, 12 guests): 100 qemu pve1 running, pool prod; 102 qemu pve3 running, no pool;
 * 107 lxc pve2 running, no tags; 108 lxc pve3 running, pool infra, tag critical; 109 qemu pve1 running, no pool.
 */
import { OPERATOR_PRIVS } from "../../src/sim/auth.ts";
import { startSimulator } from "../../src/sim/mod.ts";
import { assert, assertEquals, call, type Sim, startStack } from "../e2e/harness.ts";

type Res = Awaited<ReturnType<typeof call>>;

const BASE_ENV = {
  PROXMOX_MCP_CONFIRM_WITHOUT_ELICITATION: "allow",
  PROXMOX_MCP_TOOLSETS: "guests,snapshots,backups,pools,firewall,tasks",
};

/** Change requests the simulator received since `mark`. */
function writesSince(sim: Sim, mark: number): string[] {
  return sim.requests.slice(mark).filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);
}

/** The guest as the simulator holds it (JSON, to compare before and after). */
function snapshotOf(sim: Sim, vmid: number): string {
  return JSON.stringify(sim.state.guests.get(vmid) ?? null);
}

/**
 * Calls a tool that must be refused: the result is an error matching `why`, no change request reached the simulator
 * and the named guests are exactly as before.
 */
async function refused(
  sim: Sim,
  run: () => Promise<Res>,
  why: RegExp,
  unchanged: number[],
  what: string,
): Promise<void> {
  const before = unchanged.map((v) => snapshotOf(sim, v));
  const mark = sim.requests.length;
  const res = await run();
  const text = res.content[0]?.text ?? "";
  assert(res.isError, `${what}: expected a refusal, got ${text}`);
  assert(why.test(text), `${what}: ${text}`);
  assertEquals(writesSince(sim, mark), [], `${what}: change requests reached the simulator`);
  assertEquals(unchanged.map((v) => snapshotOf(sim, v)), before, `${what}: a guest changed`);
}

Deno.test("adversarial: protected pools and vmid ranges hold against every named way to name a guest", async (t) => {
  const sim = await startSimulator({ nodes: 3, guests: 12, seed: 5, taskDurationMs: 20 });
  const stack = await startStack({
    sim,
    mode: "admin",
    env: { ...BASE_ENV, PROXMOX_MCP_PROTECTED_POOLS: "prod", PROXMOX_MCP_PROTECTED_VMIDS: "900-999" },
  });
  const c = (name: string, args: Record<string, unknown>) => call(stack.client, name, args);
  try {
    await t.step(
      "pool move then stop: a protected guest is never moved out of its pool, so it stays protected",
      async () => {
        assertEquals(sim.state.guests.get(100)?.pool, "prod");
        await refused(
          sim,
          () => c("pool_change", { action: "update", poolid: "dev", vmid: 100 }),
          /guest 100 is protected|pool "prod"/,
          [100],
          "move 100 out of prod",
        );
        await refused(
          sim,
          () => c("pool_change", { action: "update", poolid: "prod", vmid: 100, remove: true }),
          /protected/,
          [100],
          "remove 100 from prod",
        );
        await refused(
          sim,
          () => c("guest_power", { vmid: 100, action: "stop" }),
          /guest 100 is protected/,
          [100],
          "stop 100",
        );
        assertEquals(sim.state.guests.get(100)?.status, "running");
        // Moving an unprotected guest INTO the protected pool is refused too (the pool is never changed).
        await refused(
          sim,
          () => c("pool_change", { action: "update", poolid: "prod", vmid: 109 }),
          /pool "prod" is protected/,
          [109],
          "move 109 into prod",
        );
        // Control: the same kind of move between unprotected pools goes through.
        const mark = sim.requests.length;
        const moved = await c("pool_change", { action: "update", poolid: "dev", vmid: 109 });
        assert(!moved.isError, moved.content[0]?.text ?? "");
        assertEquals(sim.state.guests.get(109)?.pool, "dev");
        assertEquals(writesSince(sim, mark), ["PUT /pools"]);
      },
    );

    await t.step("create with a protected vmid, or with the vmid left to run time, is refused", async () => {
      await refused(
        sim,
        () => c("guest_create", { type: "qemu", node: "pve1", vmid: 950, name: "intruder" }),
        /guest 950 is protected/,
        [950],
        "create 950",
      );
      assert(!sim.state.guests.has(950), "no guest 950");
      await refused(
        sim,
        () => c("guest_create", { type: "qemu", node: "pve1", name: "anywhere" }),
        /vmid is picked at run time.*cannot all be determined/,
        [],
        "create without vmid",
      );
      await refused(
        sim,
        () => c("guest_create", { type: "qemu", node: "pve1", vmid: 500, pool: "prod" }),
        /pool "prod" is protected/,
        [500],
        "create into the protected pool",
      );
      assert(!sim.state.guests.has(500), "no guest 500");
    });

    await t.step("clone into a protected range, or from a protected source, is refused", async () => {
      await refused(
        sim,
        () => c("guest_create", { source: 109, vmid: 960, node: "pve1", full: true }),
        /guest 960 is protected/,
        [109, 960],
        "clone into 960",
      );
      await refused(
        sim,
        () => c("guest_create", { source: 100, vmid: 501, node: "pve1", full: true }),
        /guest 100 is protected.*source/,
        [100, 501],
        "clone of protected 100",
      );
      await refused(
        sim,
        () => c("guest_create", { source: 109, vmid: 502, full: true }),
        /node is picked at run time/,
        [109, 502],
        "clone with the node left to the source",
      );
      assert(![960, 501, 502].some((v) => sim.state.guests.has(v)), "no clone exists");
    });

    await t.step(
      "another guest's volume: config keys are allowlisted, an ISO naming a disk is its owner's",
      async () => {
        const res = await (async () => {
          const before = snapshotOf(sim, 109);
          const mark = sim.requests.length;
          const r = await c("guest_config", { vmid: 109, scsi3: "local-lvm:vm-100-disk-0" });
          assertEquals(writesSince(sim, mark), [], "nothing sent");
          assertEquals(snapshotOf(sim, 109), before, "109 unchanged");
          return r;
        })();
        assert(res.isError && /scsi3|Unrecognized/i.test(res.content[0]?.text ?? ""), res.content[0]?.text ?? "");
        await refused(
          sim,
          () => c("guest_create", { type: "qemu", node: "pve1", vmid: 503, iso: "local-lvm:vm-100-disk-0" }),
          /guest 100 is protected.*volume/,
          [100, 503],
          "attach protected 100's disk to a new VM",
        );
        await refused(
          sim,
          () => c("guest_create", { type: "qemu", node: "pve1", vmid: 504, iso: "local-lvm:custom-disk-of-someone" }),
          /cannot be told from its name/,
          [504],
          "a volume whose owner cannot be told",
        );
      },
    );

    await t.step("restore into a protected range, backups of protected guests", async () => {
      await refused(
        sim,
        () =>
          c("backup", {
            action: "restore",
            volume: "nas:backup/vzdump-qemu-109-2025_01_01-00_00_00.vma.zst",
            vmid: 970,
            node: "pve1",
          }),
        /guest 970 is protected/,
        [970, 109],
        "restore into 970",
      );
      await refused(
        sim,
        () => c("backup", { action: "run", vmid: 100, storage: "nas" }),
        /guest 100 is protected/,
        [100],
        "back up protected 100",
      );
    });
  } finally {
    await stack.close();
    await sim.close();
  }
});

Deno.test("adversarial: a node selector bounds where guests are created and migrated to", async () => {
  const sim = await startSimulator({ nodes: 3, guests: 12, seed: 5, taskDurationMs: 20 });
  const stack = await startStack({
    sim,
    mode: "admin",
    env: { ...BASE_ENV, PROXMOX_MCP_GUEST_VMIDS: "100-199", PROXMOX_MCP_GUEST_NODES: "pve1" },
  });
  const c = (name: string, args: Record<string, unknown>) => call(stack.client, name, args);
  try {
    await refused(
      sim,
      () => c("guest_create", { type: "qemu", node: "pve2", vmid: 150, name: "elsewhere" }),
      /node "pve2" is outside/,
      [150],
      "create on pve2",
    );
    await refused(
      sim,
      () => c("guest_manage", { action: "migrate", vmid: 109, target_node: "pve3" }),
      /node "pve3" is outside/,
      [109],
      "migrate 109 to pve3",
    );
    assertEquals(sim.state.guests.get(109)?.node, "pve1");
    await refused(
      sim,
      () => c("guest_create", { source: 109, vmid: 151, node: "pve3", full: true }),
      /node "pve3" is outside/,
      [109, 151],
      "clone onto pve3",
    );
    // Control: inside the selector the same create goes through.
    const made = await c("guest_create", { type: "qemu", node: "pve1", vmid: 150, name: "inside" });
    assert(!made.isError, made.content[0]?.text ?? "");
    assertEquals(sim.state.guests.get(150)?.node, "pve1");
  } finally {
    await stack.close();
    await sim.close();
  }
});

Deno.test("adversarial: a guest the read token cannot see is protected, although the write token could change it", async () => {
  const sim = await startSimulator({
    nodes: 3,
    guests: 12,
    seed: 5,
    taskDurationMs: 20,
    tokens: {
      // The read credential audits guest 107 only; the write credential (admin) could change every guest.
      limited: { tokenId: "mcp@pve!limited", acl: [{ path: "/vms/107", privs: OPERATOR_PRIVS }] },
    },
  });
  const admin = sim.tokens.admin!;
  const stack = await startStack({
    sim,
    token: "limited",
    mode: "admin",
    env: {
      ...BASE_ENV,
      PROXMOX_WRITE_TOKEN_ID: admin.tokenId,
      PROXMOX_WRITE_TOKEN_SECRET: admin.secret,
      PROXMOX_MCP_PROTECTED_TAGS: "critical",
    },
  });
  const c = (name: string, args: Record<string, unknown>) => call(stack.client, name, args);
  try {
    assert(sim.state.guests.get(108)?.tags.includes("critical"), "108 carries the protected tag");
    for (
      const [tool, args] of [
        ["guest_power", { vmid: 108, action: "shutdown" }],
        ["guest_config", { vmid: 108, tags: ["harmless"] }],
        ["pool_change", { action: "update", poolid: "dev", vmid: 108 }],
        ["snapshot", { vmid: 108, action: "create", name: "x1" }],
      ] as [string, Record<string, unknown>][]
    ) {
      await refused(sim, () => c(tool, args), /read token cannot see it.*treated as protected/, [108], tool);
    }
    assertEquals(sim.state.guests.get(108)?.status, "running");
    // Control: the guest the read token can see, and that is not protected, can be changed.
    const changed = await c("guest_config", { vmid: 107, notes: "checked" });
    assert(!changed.isError, changed.content[0]?.text ?? "");
  } finally {
    await stack.close();
    await sim.close();
  }
});
