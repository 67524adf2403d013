/**
 * A least-privilege token sees only some guests (VM.Audit per ACL path). A guest it cannot see is reported as "not
 * visible to this token", never as absent, and its vmid is never taken for free: PVE's own `/cluster/nextid?vmid=N`
 * decides. Asserted on the simulator's state and on the requests it received.
 */
import { AUDITOR_PRIVS, OPERATOR_PRIVS } from "../../src/sim/auth.ts";
import { assert, assertEquals, call, startStack } from "./harness.ts";

// Seed 5 (see guest_fixtures.ts): 100 qemu on pve1, 104 lxc on pve2, 111 qemu on pve3.
const VISIBLE = 100;
const HIDDEN = 104;

Deno.test("e2e visibility: a guest the token cannot see is 'not visible', and its vmid is not free", async () => {
  const stack = await startStack({
    mode: "operator",
    token: "limited",
    simOptions: {
      nodes: 3,
      guests: 12,
      seed: 5,
      tokens: {
        limited: {
          tokenId: "mcp@pve!limited",
          acl: [
            { path: `/vms/${VISIBLE}`, privs: OPERATOR_PRIVS },
            { path: "/nodes", privs: AUDITOR_PRIVS },
            { path: "/storage", privs: ["Datastore.Audit", "Datastore.AllocateSpace"] },
            { path: "/vms/900", privs: ["VM.Allocate", "VM.Config.Disk", "VM.Config.CPU", "VM.Config.Memory"] },
          ],
        },
      },
    },
  });
  const { sim, client } = stack;
  try {
    assert(sim.state.guests.has(HIDDEN), `guest ${HIDDEN} exists in the simulator`);
    const listed = await call(client, "guest_list", {});
    const vmids = ((listed.structuredContent?.rows ?? []) as unknown[][]).map((r) => r[0]);
    assertEquals(vmids, [VISIBLE], "the token lists only the guest it may audit");

    const seen = await call(client, "guest_info", { vmid: VISIBLE });
    assert(!seen.isError, seen.content[0]?.text ?? "");

    const hidden = await call(client, "guest_info", { vmid: HIDDEN });
    assert(hidden.isError, "looking up an invisible guest fails");
    assert(/not visible to this token/.test(hidden.content[0]?.text ?? ""), hidden.content[0]?.text ?? "");
    assert(!/does not exist/.test(hidden.content[0]?.text ?? ""), "an invisible guest is not reported as absent");

    const absent = await call(client, "guest_info", { vmid: 99_999 });
    assert(/does not exist/.test(absent.content[0]?.text ?? ""), absent.content[0]?.text ?? "");

    // nextid vmid=N: PVE says taken although /cluster/resources does not list it.
    const taken = await call(client, "guest_manage", { action: "nextid", vmid: HIDDEN });
    assert(taken.isError, "an invisible guest's vmid is not free");
    assert(/already used by a guest that is not visible to this token/.test(taken.content[0]?.text ?? ""), "why");
    const free = await call(client, "guest_manage", { action: "nextid", vmid: 900 });
    assertEquals(free.structuredContent?.vmid, 900);
    const asked = sim.requests.filter((r) => r.path === "/cluster/nextid").map((r) => r.params.vmid);
    assert(asked.includes(String(HIDDEN)) && asked.includes("900"), `nextid asked PVE: ${asked.join(", ")}`);

    // Creating over the invisible guest's vmid is refused before anything is sent; the guest is unchanged.
    const before = JSON.stringify(sim.state.guests.get(HIDDEN));
    const mark = sim.requests.length;
    const create = await call(client, "guest_create", {
      type: "qemu",
      node: "pve1",
      vmid: HIDDEN,
      name: "intruder",
      memory: 512,
      cores: 1,
    });
    assert(create.isError, "create over an invisible guest's vmid is refused");
    assert(/already used/.test(create.content[0]?.text ?? ""), create.content[0]?.text ?? "");
    const writes = sim.requests.slice(mark).filter((r) => r.method !== "GET");
    assertEquals(writes.map((r) => `${r.method} ${r.path}`), [], "nothing was sent to create the guest");
    assertEquals(JSON.stringify(sim.state.guests.get(HIDDEN)), before, "the invisible guest is unchanged");

    // A change aimed at the invisible guest is refused as "not visible" before anything is sent.
    const mark2 = sim.requests.length;
    const stop = await call(client, "guest_power", { vmid: HIDDEN, action: "shutdown" });
    assert(stop.isError, "shutting down an invisible guest is refused");
    assert(/not visible to this token/.test(stop.content[0]?.text ?? ""), stop.content[0]?.text ?? "");
    const sent = sim.requests.slice(mark2).filter((r) => r.method !== "GET");
    assertEquals(sent.map((r) => `${r.method} ${r.path}`), [], "no power request was sent");
    assertEquals(JSON.stringify(sim.state.guests.get(HIDDEN)), before, "the invisible guest still runs as before");
  } finally {
    await stack.close();
  }
});
