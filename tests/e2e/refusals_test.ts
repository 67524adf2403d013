/**
 * Refusals a person can act on, through a real MCP client: a tool that exists but is hidden by the mode or the
 * toolsets, and an action outside a read-only view, answer why and which setting enables them; nothing reaches the
 * cluster. A name no tool has still gets the SDK's answer.
 */
import { assert, assertEquals, call, startStack } from "./harness.ts";

const text = (r: { content: { text: string }[] }) => r.content.map((c) => c.text).join("\n");

Deno.test("refusals: hidden tools and read-only actions say why and how to enable them; nothing is sent", async () => {
  const s = await startStack({ mode: "read-only" });
  try {
    const listed = (await s.client.listTools()).tools.map((t) => t.name);
    assert(!listed.includes("guest_power") && !listed.includes("ceph_status"), listed.join(","));
    const vmid = [...s.sim.state.guests.keys()][0]!;
    const before = s.sim.requests.length;

    const power = await call(s.client, "guest_power", { vmid, action: "start" });
    assert(power.isError === true, text(power));
    assertEquals(
      text(power),
      "guest_power needs mode operator; this server runs read-only (PROXMOX_MCP_MODE=operator or --mode operator " +
        "enables it)",
    );

    const create = await call(s.client, "snapshot", { vmid, action: "create", name: "before" });
    assert(create.isError === true, text(create));
    assert(
      text(create).startsWith("snapshot action create needs mode operator; this server runs read-only"),
      text(create),
    );
    const rollback = await call(s.client, "snapshot", { vmid, action: "rollback", name: "before" });
    assert(text(rollback).startsWith("snapshot action rollback needs mode admin;"), text(rollback));

    const ceph = await call(s.client, "ceph_status", {});
    assert(ceph.isError === true, text(ceph));
    assert(text(ceph).includes("ceph_status belongs to toolset ceph, which this server does not enable"), text(ceph));
    assert(text(ceph).includes("PROXMOX_MCP_TOOLSETS=") && text(ceph).includes(",ceph"), text(ceph));

    assertEquals(s.sim.requests.length, before, "a refused call reached the simulator");

    // Listed actions still work, and a name no tool has is the SDK's business.
    const list = await call(s.client, "snapshot", { vmid, action: "list" });
    assert(!list.isError, text(list));
    const unknown = await s.client.callTool({ name: "no_such_tool", arguments: {} }).then(
      (r) => text(r as { content: { text: string }[] }),
      (e: Error) => e.message,
    );
    assert(unknown.includes("no_such_tool") && unknown.includes("not found"), unknown);

    // The start-up log counts the tools actually listed.
    assert(s.stderr().includes(`with ${listed.length} tools`), s.stderr().slice(0, 2000));
  } finally {
    await s.close();
  }
});
