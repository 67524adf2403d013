/**
 * Guest agent end to end: facts, exec with policy (opt-in + allowlist), capped file read/write, hostile output.
 */
import { startSimulator } from "../../src/sim/mod.ts";
import { assert, assertEquals, call, startStack } from "./harness.ts";

Deno.test("e2e: guest agent tool", async (t) => {
  const sim = await startSimulator({ nodes: 2, guests: 10, seed: 5 });
  const vms = [...sim.state.guests.values()].filter((g) => g.type === "qemu");
  const optedIn = vms[0]!;
  const other = vms[1]!;
  for (const g of [optedIn, other]) {
    g.config.agent = "1";
    g.status = "running";
    g.qmpstatus = "running";
  }
  optedIn.tags = ["agent-ok"];
  sim.state.touch();
  const stack = await startStack({
    sim,
    mode: "operator",
    env: {
      PROXMOX_MCP_TOOLSETS: "guests,agent",
      PROXMOX_MCP_AGENT_EXEC_TAGS: "agent-ok",
      PROXMOX_MCP_AGENT_EXEC_PROGRAMS: "echo,hostname",
    },
  });
  const { client } = stack;
  try {
    await t.step("facts: ping, osinfo, network", async () => {
      const ping = await call(client, "guest_agent", { vmid: other.vmid, action: "ping" });
      assert(!ping.isError, ping.content[0]!.text);
      const os = await call(client, "guest_agent", { vmid: other.vmid, action: "osinfo" });
      const out = os.structuredContent as { untrusted: boolean; result: { id: string } };
      assert(out.untrusted === true && out.result.id === "debian", JSON.stringify(out));
      const net = await call(client, "guest_agent", { vmid: other.vmid, action: "network" });
      assert(JSON.stringify(net.structuredContent).includes("eth0"), "interfaces");
    });

    await t.step("exec runs an allowlisted program on an opted-in guest and returns capped output", async () => {
      const res = await call(client, "guest_agent", {
        vmid: optedIn.vmid,
        action: "exec",
        argv: ["echo", "hi", "there"],
      });
      assert(!res.isError, res.content[0]!.text);
      const e = (res.structuredContent as { exec: { exited: boolean; exitcode: number; stdout: string } }).exec;
      assertEquals([e.exited, e.exitcode, e.stdout], [true, 0, "hi there\n"], "exec result");
      const sent = sim.requests.filter((r) => r.path.endsWith("/agent/exec"));
      assertEquals(sent.at(-1)?.params.command, ["echo", "hi", "there"], "argv sent as an array, not a shell string");
    });

    await t.step("exec is refused on guests that are not opted in, and for programs not allowlisted", async () => {
      const before = sim.requests.filter((r) => r.path.endsWith("/agent/exec")).length;
      const notOpted = await call(client, "guest_agent", { vmid: other.vmid, action: "exec", argv: ["echo", "x"] });
      assert(notOpted.isError && /not opted in/.test(notOpted.content[0]!.text), notOpted.content[0]!.text);
      const badProg = await call(client, "guest_agent", {
        vmid: optedIn.vmid,
        action: "exec",
        argv: ["sh", "-c", "id"],
      });
      assert(badProg.isError && /not allowlisted/.test(badProg.content[0]!.text), badProg.content[0]!.text);
      const after = sim.requests.filter((r) => r.path.endsWith("/agent/exec")).length;
      assertEquals(after, before, "nothing was sent for refused exec calls");
    });

    await t.step("file write then read, and hostile content comes back cleaned", async () => {
      const hostile = "ok\u202Eevil\u200B\u0007end" + "\u{E0041}";
      const refused = await call(client, "guest_agent", {
        vmid: other.vmid,
        action: "file_read",
        path: "/etc/hostname",
      });
      assert(refused.isError && /not opted in/.test(refused.content[0]!.text), "file access needs the opt-in");
      const w = await call(client, "guest_agent", {
        vmid: optedIn.vmid,
        action: "file_write",
        path: "/tmp/x",
        content: hostile,
      });
      assert(!w.isError, w.content[0]!.text);
      const r = await call(client, "guest_agent", { vmid: optedIn.vmid, action: "file_read", path: "/tmp/x" });
      const f = (r.structuredContent as { file: { content: string } }).file;
      assertEquals(f.content, "okevilend", "control, bidi, zero-width and tag characters stripped");
    });

    await t.step("a container or stopped VM gets a clear error", async () => {
      const ct = [...sim.state.guests.values()].find((g) => g.type === "lxc")!;
      const res = await call(client, "guest_agent", { vmid: ct.vmid, action: "ping" });
      assert(res.isError && /container/.test(res.content[0]!.text), res.content[0]!.text);
    });
  } finally {
    await stack.close();
    await sim.close();
  }
});
