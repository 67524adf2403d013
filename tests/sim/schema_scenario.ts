/**
 * A scenario that makes the simulator answer every endpoint it serves beyond plain GETs — every write, and the reads
 * that need state first (a started agent command, an IP set, a rule, a volume) — on a fresh seeded cluster, so
 * tests/sim/schema_test.ts can hold each answer to the endpoint's official `returns` schema.
 * @module
 */
import type { Simulator } from "../../src/sim/mod.ts";

/** Sends one request to the endpoint `key` (`METHOD /template`), `{param}`s filled from `vars`; resolves with `data`. */
export type Caller = (
  key: string,
  vars: Record<string, string | number>,
  opts?: { form?: Record<string, string>; query?: string },
) => Promise<unknown>;

function pick(sim: Simulator, type: "qemu" | "lxc", status: string, skip: number[] = []) {
  const g = [...sim.state.guests.values()].find((x) =>
    x.type === type && x.status === status && !x.template && !skip.includes(x.vmid)
  );
  if (!g) throw new Error(`the seeded cluster has no ${status} ${type} guest`);
  return { node: g.node, vmid: g.vmid };
}

function volumesOf(sim: Simulator, storage: string) {
  const s = sim.state.storages.get(storage);
  if (!s) throw new Error(`the seeded cluster has no storage ${storage}`);
  return sim.state.volumes(s, "pve1");
}

/** GET endpoints only the scenario can call (they need state it makes first). */
export const SCENARIO_GETS = new Set([
  "GET /nodes/{node}/qemu/{vmid}/agent/exec-status",
  "GET /nodes/{node}/qemu/{vmid}/agent/file-read",
]);

/** Drives the scenario through `call`. Guests and names it makes use vmids 990-999 and the name `referee`. */
export async function driveScenario(sim: Simulator, call: Caller): Promise<void> {
  const q = pick(sim, "qemu", "running");
  const l = pick(sim, "lxc", "running");
  const n = { node: "pve1" };
  const other = (node: string) => [...sim.state.nodes.keys()].find((x) => x !== node) ?? node;

  await call("POST /access/ticket", {}, { form: { username: sim.user.username, password: sim.user.password } });
  await call("POST /access/users/{userid}/token/{tokenid}", { userid: "root@pam", tokenid: "referee" });
  await call("DELETE /access/users/{userid}/token/{tokenid}", { userid: "root@pam", tokenid: "referee" });
  await call("POST /pools", {}, { form: { poolid: "referee" } });
  await call("PUT /pools", {}, { form: { poolid: "referee", comment: "referee" } });
  await call("DELETE /pools", {}, { query: "poolid=referee" });

  // Firewall: every scope the simulator serves.
  const scopes: [string, Record<string, string | number>][] = [
    ["/cluster/firewall", {}],
    ["/nodes/{node}/firewall", n],
    ["/nodes/{node}/qemu/{vmid}/firewall", q],
    ["/nodes/{node}/lxc/{vmid}/firewall", l],
  ];
  const served = new Set(sim.routes.keys());
  const fw = async (key: string, vars: Record<string, string | number>, opts?: Parameters<Caller>[2]) => {
    if (served.has(key)) await call(key, vars, opts);
  };
  for (const [base, vars] of scopes) {
    await fw(`POST ${base}/rules`, vars, { form: { type: "in", action: "ACCEPT", proto: "tcp", dport: "8080" } });
    await fw(`GET ${base}/rules/{pos}`, { ...vars, pos: 0 });
    await fw(`PUT ${base}/rules/{pos}`, { ...vars, pos: 0 }, { form: { comment: "referee" } });
    await fw(`DELETE ${base}/rules/{pos}`, { ...vars, pos: 0 });
    await fw(`PUT ${base}/options`, vars, { form: { enable: "1" } });
    await fw(`POST ${base}/aliases`, vars, { form: { name: "referee", cidr: "10.9.9.9" } });
    await fw(`PUT ${base}/aliases/{name}`, { ...vars, name: "referee" }, { form: { cidr: "10.9.9.10" } });
    await fw(`DELETE ${base}/aliases/{name}`, { ...vars, name: "referee" });
    await fw(`POST ${base}/ipset`, vars, { form: { name: "referee" } });
    await fw(`POST ${base}/ipset/{name}`, { ...vars, name: "referee" }, { form: { cidr: "10.9.9.0/24" } });
    await fw(`GET ${base}/ipset/{name}`, { ...vars, name: "referee" });
    await fw(`DELETE ${base}/ipset/{name}/{cidr}`, { ...vars, name: "referee", cidr: "10.9.9.0/24" });
    await fw(`DELETE ${base}/ipset/{name}`, { ...vars, name: "referee" });
  }
  await call("GET /cluster/firewall/groups/{group}", { group: "webservers" });
  await call("GET /cluster/sdn/vnets/{vnet}/subnets", { vnet: "labnet" });

  // Guest agent (a running VM).
  await call("POST /nodes/{node}/qemu/{vmid}/agent/ping", q);
  const exec = await call("POST /nodes/{node}/qemu/{vmid}/agent/exec", q, { form: { command: "uptime" } });
  const pid = (exec as { pid: number }).pid;
  await call("GET /nodes/{node}/qemu/{vmid}/agent/exec-status", q, { query: `pid=${pid}` });
  await call("POST /nodes/{node}/qemu/{vmid}/agent/file-write", q, { form: { file: "/tmp/referee", content: "x" } });
  await call("GET /nodes/{node}/qemu/{vmid}/agent/file-read", q, { query: "file=/tmp/referee" });

  // Power, in an order each state allows; the container ends stopped (moving its volume needs that).
  for (const action of ["reboot", "reset", "suspend", "resume", "shutdown", "start", "stop", "start"]) {
    await call(`POST /nodes/{node}/qemu/{vmid}/status/${action}`, q);
  }
  for (const action of ["reboot", "suspend", "resume", "shutdown", "start", "stop"]) {
    await call(`POST /nodes/{node}/lxc/{vmid}/status/${action}`, l);
  }

  // Configuration, snapshots, disks.
  for (const [type, g, disk] of [["qemu", q, "scsi0"], ["lxc", l, "rootfs"]] as const) {
    const base = `/nodes/{node}/${type}/{vmid}`;
    await call(`PUT ${base}/config`, g, { form: { description: "referee" } });
    await call(`POST ${base}/snapshot`, g, { form: { snapname: "referee" } });
    await call(`POST ${base}/snapshot/{snapname}/rollback`, { ...g, snapname: "referee" });
    await call(`DELETE ${base}/snapshot/{snapname}`, { ...g, snapname: "referee" });
    await call(`PUT ${base}/resize`, g, { form: { disk, size: "+1G" } });
  }
  // A second storage for guest volumes, so disks have somewhere to move.
  sim.state.addStorage({
    id: "fast",
    type: "lvmthin",
    content: ["images", "rootdir"],
    shared: false,
    nodes: [],
    total: 1024 * 2 ** 30,
  });
  await call("POST /nodes/{node}/qemu/{vmid}/move_disk", q, { form: { disk: "scsi0", storage: "fast" } });
  await call("POST /nodes/{node}/lxc/{vmid}/move_volume", l, { form: { volume: "rootfs", storage: "fast" } });

  // Backups and storage content.
  await call("POST /nodes/{node}/vzdump", { node: q.node }, { form: { vmid: String(q.vmid), storage: "nas" } });
  const backup = volumesOf(sim, "nas").find((v) => v.content === "backup");
  if (!backup) throw new Error("the seeded cluster has no backup on nas");
  const volume = { node: "pve1", storage: "nas", volume: backup.volid };
  await call("GET /nodes/{node}/storage/{storage}/content/{volume}", volume);
  await call("DELETE /nodes/{node}/storage/{storage}/content/{volume}", volume);
  await call("POST /nodes/{node}/storage/{storage}/download-url", { node: "pve1", storage: "local" }, {
    form: { content: "iso", filename: "referee.iso", url: "https://example.com/referee.iso" },
  });

  const running = sim.tasks.start({ node: "pve1", type: "referee", user: "root@pam!mcp-admin" });
  await call("DELETE /nodes/{node}/tasks/{upid}", { node: "pve1", upid: running.upid });

  // Create, clone, migrate, template, delete.
  const tmpl = volumesOf(sim, "local").find((v) => v.content === "vztmpl");
  if (!tmpl) throw new Error("the seeded cluster has no container template");
  await call("POST /nodes/{node}/qemu", n, { form: { vmid: "990", name: "referee", memory: "512" } });
  await call("POST /nodes/{node}/lxc", n, {
    form: { vmid: "991", ostemplate: tmpl.volid, hostname: "referee", rootfs: "local-lvm:8" },
  });
  await call("POST /nodes/{node}/qemu/{vmid}/clone", q, { form: { newid: "992" } });
  await call("POST /nodes/{node}/lxc/{vmid}/clone", { node: "pve1", vmid: 991 }, { form: { newid: "993" } });
  await call("POST /nodes/{node}/qemu/{vmid}/migrate", q, { form: { target: other(q.node), online: "1" } });
  await call("POST /nodes/{node}/lxc/{vmid}/migrate", l, { form: { target: other(l.node) } });
  await call("POST /nodes/{node}/qemu/{vmid}/template", { node: "pve1", vmid: 990 });
  await call("POST /nodes/{node}/lxc/{vmid}/template", { node: "pve1", vmid: 993 });
  await call("DELETE /nodes/{node}/qemu/{vmid}", { node: "pve1", vmid: 990 });
  await call("DELETE /nodes/{node}/lxc/{vmid}", { node: "pve1", vmid: 991 });

  // HA membership, then many guests at once (last: they change every guest's power state).
  const free = [...sim.state.guests.values()].find((g) => !g.hastate && !g.template);
  if (!free) throw new Error("the seeded cluster has no guest outside HA");
  const sid = `${free.type === "qemu" ? "vm" : "ct"}:${free.vmid}`;
  await call("POST /cluster/ha/resources", {}, { form: { sid, state: "started" } });
  await call("POST /cluster/ha/rules", {}, {
    form: { rule: "referee", type: "node-affinity", resources: sid, nodes: "pve1" },
  });
  await call("POST /nodes/{node}/startall", n, { form: { force: "1" } });
  await call("POST /cluster/bulk-action/guest/shutdown", {});
  await call("POST /cluster/bulk-action/guest/start", {});
}
