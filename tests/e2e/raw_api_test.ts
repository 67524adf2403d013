/**
 * `pve_api` end to end: contract checks before anything is sent, refusals, the class table deciding mode and
 * confirmation, guest protection, capped answers.
 */
import { assert, assertEquals, call, type Sim, startStack } from "./harness.ts";
import { startSimulator } from "../../src/sim/mod.ts";

function sent(sim: Sim, method: string, pathPart: string) {
  return sim.requests.filter((r) => r.method === method && r.path.includes(pathPart));
}

Deno.test("e2e pve_api: checked, classified, confirmed, capped", async (t) => {
  const sim = await startSimulator({ guests: 400 });
  const vms = [...sim.state.guests.values()].filter((g) => g.type === "qemu" && !g.template && g.status === "running")
    .sort((a, b) => a.vmid - b.vmid);
  const [target, protectedVm] = vms as [typeof vms[0], typeof vms[0]];
  const s = await startStack({
    sim,
    mode: "admin",
    clientCapabilities: { elicitation: {} },
    env: { PROXMOX_MCP_TOOLSETS: "raw", PROXMOX_MCP_PROTECTED_VMIDS: String(protectedVm.vmid) },
  });
  const asked: string[] = [];
  s.client.setRequestHandler("elicitation/create", (req) => {
    asked.push((req as unknown as { params: { message: string } }).params.message);
    return Promise.resolve({ action: "accept", content: { confirm: true } } as never);
  });
  const nodePath = `/nodes/${target.node}`;
  try {
    await t.step("reads go through and come back as untrusted data", async () => {
      const res = await call(s.client, "pve_api", { method: "GET", path: `${nodePath}/status` });
      assert(!res.isError, res.content[0]?.text ?? "");
      assertEquals(res.structuredContent?.untrusted, true);
      assert(typeof res.structuredContent?.data === "object", "no data");
      assert(sent(sim, "GET", `${nodePath}/status`).length === 1, "GET not sent");
      assertEquals(asked.length, 0, "a read asked the human");
    });

    await t.step("unknown paths, wrong methods and invalid parameters are refused before sending", async () => {
      sim.clearRequests();
      let res = await call(s.client, "pve_api", { method: "GET", path: `${nodePath}/no-such-thing` });
      assert(res.isError && res.content[0]!.text.includes("no such endpoint"), res.content[0]?.text ?? "");
      res = await call(s.client, "pve_api", { method: "PUT", path: "/version" });
      assert(res.isError && res.content[0]!.text.includes("only accepts GET"), res.content[0]?.text ?? "");
      res = await call(s.client, "pve_api", {
        method: "POST",
        path: `${nodePath}/qemu/${target.vmid}/status/start`,
        params: { bogus: 1, timeout: "soon" },
      });
      assert(res.isError && res.content[0]!.text.includes("Invalid parameters"), res.content[0]?.text ?? "");
      assert(res.content[0]!.text.includes("bogus"), res.content[0]!.text);
      res = await call(s.client, "pve_api", {
        method: "GET",
        path: `${nodePath}/qemu/${target.vmid}/config`,
        params: { vmid: 99999 },
      });
      assert(res.isError && res.content[0]!.text.includes("contradicts the path"), res.content[0]?.text ?? "");
      // Only the policy's guest lookup reached the cluster.
      const other = sim.requests.filter((r) => r.path !== "/cluster/resources");
      assertEquals(other.map((r) => `${r.method} ${r.path}`), [], "something was sent");
    });

    await t.step("agent exec, consoles and token-refusing endpoints are refused with the reason", async () => {
      sim.clearRequests();
      let res = await call(s.client, "pve_api", {
        method: "POST",
        path: `${nodePath}/qemu/${target.vmid}/agent/exec`,
        params: { command: ["id"] },
      });
      assert(res.isError && res.content[0]!.text.includes("agent toolset"), res.content[0]?.text ?? "");
      res = await call(s.client, "pve_api", {
        method: "GET",
        path: `${nodePath}/qemu/${target.vmid}/agent/file-read`,
        params: { file: "/etc/shadow" },
      });
      assert(res.isError && res.content[0]!.text.includes("agent toolset"), res.content[0]?.text ?? "");
      res = await call(s.client, "pve_api", { method: "POST", path: `${nodePath}/termproxy` });
      assert(res.isError && res.content[0]!.text.includes("consoles"), res.content[0]?.text ?? "");
      res = await call(s.client, "pve_api", {
        method: "PUT",
        path: "/access/password",
        params: { userid: "auditor@pve", password: "correct horse battery" },
      });
      assert(res.isError && res.content[0]!.text.includes("refuses API tokens"), res.content[0]?.text ?? "");
      assertEquals(asked.length, 0, "a refused call asked the human");
      const leaked = sim.requests.filter((r) => r.path !== "/cluster/resources");
      assertEquals(leaked.map((r) => `${r.method} ${r.path}`), [], "a refused call was sent");
    });

    await t.step("destructive raw calls: dry run shows the plan, confirmation acts, protection holds", async () => {
      const path = `${nodePath}/qemu/${target.vmid}/status/stop`;
      let res = await call(s.client, "pve_api", { method: "POST", path, dry_run: true });
      assert(!res.isError, res.content[0]?.text ?? "");
      const plan = res.structuredContent?.dry_run as { action: string; target: string; current: string };
      assertEquals(plan.action, "POST /nodes/{node}/qemu/{vmid}/status/stop");
      assert(plan.target.includes(target.name) && plan.current.includes("running"), JSON.stringify(plan));
      assertEquals(asked.length, 0, "a dry run asked");
      assertEquals(sent(sim, "POST", "/status/stop").length, 0, "a dry run acted");

      res = await call(s.client, "pve_api", { method: "POST", path });
      assert(!res.isError, res.content[0]?.text ?? "");
      assertEquals(asked.length, 1, "elicitations");
      assert(asked[0]!.includes(target.name) && asked[0]!.includes("hard power-off"), asked[0]!);
      assert(typeof res.structuredContent?.upid === "string", "no UPID");
      assertEquals(sent(sim, "POST", `/qemu/${target.vmid}/status/stop`).length, 1);

      res = await call(s.client, "pve_api", {
        method: "DELETE",
        path: `/nodes/${protectedVm.node}/qemu/${protectedVm.vmid}`,
      });
      assert(res.isError && res.content[0]!.text.includes("protected"), res.content[0]?.text ?? "");
      res = await call(s.client, "pve_api", {
        method: "POST",
        path: `/nodes/${protectedVm.node}/qemu/${protectedVm.vmid}/status/stop`,
      });
      assert(res.isError && res.content[0]!.text.includes("protected"), res.content[0]?.text ?? "");
      res = await call(s.client, "pve_api", { method: "POST", path: `${nodePath}/stopall` });
      assert(res.isError && res.content[0]!.text.includes("many guests at once"), res.content[0]?.text ?? "");
      assertEquals(asked.length, 1, "a refused call asked the human");
      assertEquals(sim.state.guests.has(protectedVm.vmid), true);
      assertEquals(sent(sim, "POST", "/stopall").length, 0);
    });

    await t.step("large answers are capped and flagged", async () => {
      const res = await call(s.client, "pve_api", { method: "GET", path: "/cluster/resources" });
      assert(!res.isError, res.content[0]?.text ?? "");
      assertEquals(res.structuredContent?.truncated, true);
      assertEquals(res.structuredContent?.data, undefined);
      assertEquals((res.structuredContent?.data_json as string).length, 24_000);
      assert(res.content[0]!.text.length < 4_300, `text rendering of ${res.content[0]!.text.length} chars`);
    });
  } finally {
    await s.close();
    await sim.close();
  }
});
