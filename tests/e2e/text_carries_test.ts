/**
 * Text carries the answer, registry-wide: a representative call of every tool against the simulator (admin mode,
 * every toolset), through a real MCP client. Each successful result's text holds every scalar value of its
 * structured content (a client that shows the model only the text loses nothing) and stays within the page budget.
 */
import { ALL_TOOLS } from "../../src/tools/all.ts";
import { assert, call, startStack } from "./harness.ts";
import { TEXT_BUDGET_BYTES, textProblems } from "./text_carries.ts";

Deno.test("text carries the answer: every tool's text holds all its structured data, within 16 KB", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-text-" });
  const s = await startStack({
    mode: "admin",
    env: {
      PROXMOX_MCP_TOOLSETS: "all",
      PROXMOX_MCP_CONFIRM_WITHOUT_ELICITATION: "allow",
      PROXMOX_MCP_AUDIT_PATH: `${dir}/audit.jsonl`,
      PROXMOX_MCP_AUDIT_KEY: "text-carries-audit-key-0123456789abcdef",
      PROXMOX_MCP_AGENT_EXEC_VMIDS: "100-999999",
      PROXMOX_MCP_AGENT_EXEC_PROGRAMS: "hostname",
      PROXMOX_MCP_SECRETS_FILE: `${dir}/secrets.json`,
      PROXMOX_MCP_MASTER_KEY: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))),
    },
    simOptions: { nodes: 3, guests: 200, seed: 7, taskDurationMs: 10 },
  });
  try {
    const guests = [...s.sim.state.guests.values()];
    const vm = guests.find((g) => g.type === "qemu" && !g.template && g.status === "running")!;
    const stopped = guests.find((g) => g.type === "qemu" && !g.template && g.status === "stopped")!;
    const ct = guests.find((g) => g.type === "lxc" && !g.template)!;
    vm.config.agent = "1";
    s.sim.state.touch();
    const node = vm.node;
    const calls: [string, Record<string, unknown>][] = [
      ["cluster_overview", {}],
      ["node_info", {}],
      ["node_info", { node }],
      ["node_info", { node, view: "services" }],
      ["node_info", { node, view: "syslog", lines: 20 }],
      ["guest_list", {}],
      ["guest_list", { fields: ["tags", "cpu", "mem", "disk", "uptime", "pool", "lock", "hastate"] }],
      ["guest_info", { vmid: vm.vmid }],
      ["guest_info", { vmid: vm.vmid, view: "config" }],
      ["guest_info", { vmid: ct.vmid, view: "config" }],
      ["storage_info", {}],
      ["storage_info", { node, storage: "local", view: "status" }],
      ["storage_info", { node, storage: "nas", content: "iso" }],
      ["task_info", {}],
      ["cluster_info", {}],
      ["cluster_info", { view: "replication" }],
      ["metrics_history", { vmid: vm.vmid }],
      ["metrics_history", { node }],
      ["firewall_info", {}],
      ["firewall_info", { vmid: vm.vmid, view: "options" }],
      ["access_info", {}],
      ["access_info", { view: "groups" }],
      ["pool_info", {}],
      ["ha_info", {}],
      ["ceph_status", {}],
      ["sdn_info", {}],
      ["pve_api", { method: "GET", path: "/version" }],
      ["pve_api", { method: "GET", path: `/nodes/${node}/qemu/${vm.vmid}/config` }],
      ["guest_power", { vmid: stopped.vmid, action: "start" }],
      ["guest_manage", { action: "nextid" }],
      ["guest_create", { type: "qemu", node, name: "text-check", wait: true }],
      ["guest_config", { vmid: stopped.vmid, cores: 2 }],
      ["guest_disk", { vmid: vm.vmid, action: "resize", disk: "scsi0", size: "+1G" }],
      ["guest_nic", { vmid: vm.vmid, action: "add", bridge: "vmbr0" }],
      ["snapshot", { vmid: vm.vmid, action: "create", name: "textcheck" }],
      ["snapshot", { vmid: vm.vmid, action: "list" }],
      ["snapshot", { vmid: vm.vmid, action: "delete", name: "textcheck", dry_run: true }],
      ["backup", { action: "list", node }],
      ["backup", { action: "run", vmid: vm.vmid, storage: "nas" }],
      ["guest_agent", { vmid: vm.vmid, action: "osinfo" }],
      ["guest_agent", { vmid: vm.vmid, action: "network" }],
      ["storage_volume", { action: "delete", node, storage: "nas", volume: "nas:iso/none.iso", dry_run: true }],
      ["firewall_change", {
        action: "rule_add",
        vmid: vm.vmid,
        fields: { type: "in", action: "ACCEPT", dport: "22", proto: "tcp" },
      }],
      ["access_token", { action: "create", userid: "root@pam", tokenid: "textcheck", privsep: true }],
      ["pool_change", { action: "create", poolid: "textcheck" }],
      ["audit_recent", {}],
    ];
    const ok = new Set<string>();
    const problems: string[] = [];
    for (const [name, args] of calls) {
      const r = await call(s.client, name, args);
      const text = r.content.map((c) => c.text).join("\n");
      if (r.isError) {
        console.error(`${name} ${JSON.stringify(args)} failed: ${text.slice(0, 300)}`);
        continue; // errors are text only; the test needs each tool's data
      }
      ok.add(name);
      for (const p of textProblems(r.structuredContent ?? {}, text)) {
        problems.push(`${name} ${JSON.stringify(args)}: ${p}`);
      }
    }
    // A finished task: task_stop says so (the representative call that needs a real UPID).
    const started = await call(s.client, "guest_power", { vmid: stopped.vmid, action: "stop", wait: false });
    const upid = String(started.structuredContent?.upid);
    const stop = await call(s.client, "task_stop", { upid });
    if (!stop.isError) {
      ok.add("task_stop");
      const text = stop.content.map((c) => c.text).join("\n");
      for (const p of textProblems(stop.structuredContent ?? {}, text)) problems.push(`task_stop: ${p}`);
    }
    const missing = ALL_TOOLS.map((t) => t.name).filter((n) => !ok.has(n));
    assert(missing.length === 0, `no successful representative call of: ${missing.join(", ")}`);
    assert(problems.length === 0, `text misses data or is over ${TEXT_BUDGET_BYTES} bytes:\n${problems.join("\n")}`);
  } finally {
    await s.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
