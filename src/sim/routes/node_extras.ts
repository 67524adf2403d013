/**
 * More node endpoints: services, network, disks, syslog, journal, pending apt updates; RRD history of nodes, guests
 * and storages; storage downloads from a URL and single-volume info.
 * @module
 */
import {
  guestOf,
  int,
  nodeOf,
  type SimContext,
  SimError,
  type SimRoute,
  startTask,
  storageOf,
  str,
} from "../router.ts";
import { storageUsage } from "../views.ts";
import { infraOf } from "./infra_state.ts";
import { findVolume } from "./guest_extras.ts";

type Obj = Record<string, unknown>;
const GiB = 1024 ** 3;

const SERVICES: [string, string, string?][] = [
  ["chrony", "chrony, an NTP client/server"],
  ["corosync", "Corosync Cluster Engine"],
  ["cron", "Regular background program processing daemon"],
  ["ksmtuned", "Kernel Samepage Merging (KSM) Tuning Daemon", "dead"],
  ["postfix", "Postfix Mail Transport Agent (instance -)"],
  ["pve-cluster", "The Proxmox VE cluster filesystem"],
  ["pve-firewall", "Proxmox VE firewall"],
  ["pve-ha-crm", "PVE Cluster HA Resource Manager Daemon"],
  ["pve-ha-lrm", "PVE Local HA Resource Manager Daemon"],
  ["pvedaemon", "PVE API Daemon"],
  ["pveproxy", "PVE API Proxy Server"],
  ["pvescheduler", "Proxmox VE scheduler"],
  ["pvestatd", "PVE Status Daemon"],
  ["spiceproxy", "PVE SPICE Proxy Server"],
  ["sshd", "OpenBSD Secure Shell server"],
  ["systemd-journald", "Journal Service"],
];

function services(ctx: SimContext): Obj[] {
  nodeOf(ctx);
  return SERVICES.map(([name, desc, state]) => ({
    service: name,
    name,
    desc,
    state: state ?? "running",
    "active-state": state ? "inactive" : "active",
    "unit-state": "enabled",
  }));
}

function network(ctx: SimContext): Obj[] {
  const n = nodeOf(ctx);
  const type = str(ctx, "type");
  const rows: Obj[] = [
    { iface: "eno1", type: "eth", active: 1, exists: 1, method: "manual", families: ["inet"], priority: 3 },
    { iface: "eno2", type: "eth", active: 0, exists: 1, method: "manual", families: ["inet"], priority: 4 },
    {
      iface: "vmbr0",
      type: "bridge",
      active: 1,
      autostart: 1,
      method: "static",
      families: ["inet"],
      address: n.ip,
      netmask: "24",
      cidr: `${n.ip}/24`,
      gateway: n.ip.replace(/\.\d+$/, ".1"),
      bridge_ports: "eno1",
      priority: 5,
    },
    {
      iface: "vmbr1",
      type: "bridge",
      active: 1,
      autostart: 1,
      method: "manual",
      families: ["inet"],
      bridge_ports: "eno2",
      bridge_vlan_aware: 1,
      bridge_vids: "2-4094",
      comments: "guest VLANs",
      priority: 6,
    },
  ];
  if (type === undefined || type === "any_bridge" || type === "any_local_bridge") {
    return type ? rows.filter((r) => r.type === "bridge") : rows;
  }
  return rows.filter((r) => r.type === type);
}

function disks(ctx: SimContext): Obj[] {
  const n = nodeOf(ctx);
  const unused = str(ctx, "type") === "unused";
  const rows: Obj[] = [
    {
      devpath: "/dev/nvme0n1",
      type: "nvme",
      size: 1000 * 10 ** 9,
      model: "Samsung SSD 980 PRO 1TB",
      serial: `S5GXNX0${n.nodeid}1234`,
      health: "PASSED",
      wearout: 97,
      used: "LVM",
      gpt: 1,
      mounted: 0,
      osdid: -1,
      "osdid-list": [],
      rpm: 0,
      vendor: "unknown",
    },
    {
      devpath: "/dev/sda",
      type: "hdd",
      size: 4000 * 10 ** 9,
      model: "WDC WD40EFRX-68N32N0",
      serial: `WD-WCC7K${n.nodeid}ABCD`,
      health: "PASSED",
      wearout: "N/A",
      used: "ZFS",
      gpt: 1,
      mounted: 0,
      osdid: -1,
      "osdid-list": [],
      rpm: 5400,
      vendor: "ATA",
    },
    {
      devpath: "/dev/sdb",
      type: "ssd",
      size: 480 * 10 ** 9,
      model: "INTEL SSDSC2KB480G8",
      serial: `PHYF${n.nodeid}000480`,
      health: "PASSED",
      wearout: 100,
      gpt: 0,
      mounted: 0,
      osdid: -1,
      "osdid-list": [],
      rpm: 0,
      vendor: "ATA",
    },
  ];
  return unused ? rows.filter((r) => r.used === undefined) : rows;
}

function syslog(ctx: SimContext): Obj[] {
  const n = nodeOf(ctx);
  let lines = infraOf(ctx.sim.state).syslog.get(n.name) ?? [];
  const service = str(ctx, "service");
  if (service !== undefined) lines = lines.filter((l) => l.includes(` ${service}[`) || l.includes(` ${service}:`));
  const limit = int(ctx, "limit") ?? 50;
  const start = int(ctx, "start");
  // Without start, PVE shows the newest lines.
  const from = start ?? Math.max(0, lines.length - limit);
  ctx.total = lines.length;
  return lines.slice(from, from + limit).map((t, i) => ({ n: from + i + 1, t }));
}

function journal(ctx: SimContext): string[] {
  const n = nodeOf(ctx);
  const lines = infraOf(ctx.sim.state).syslog.get(n.name) ?? [];
  const last = int(ctx, "lastentries") ?? 50;
  const tail = lines.slice(-last).map((l) => l.replace(/^(\S+) (\S+)/, "$1T$2"));
  const cursor = (i: number) =>
    `s=6ad6b2b7c4a54e3a8d4c9d1e2f3a4b5c;i=${(0x1000 + i).toString(16)};b=0c9f;m=${i};t=6100;x=ab`;
  return [cursor(lines.length - tail.length), ...tail, cursor(lines.length)];
}

function aptUpdates(ctx: SimContext): Obj[] {
  const n = nodeOf(ctx);
  return (infraOf(ctx.sim.state).apt.get(n.name) ?? []).map((p) => ({ ...p }));
}

const STEP: Record<string, number> = { hour: 60, day: 1800, week: 10800, month: 43200, year: 604800, decade: 6048000 };

/** 70 RRD rows ending now (the last one still incomplete, as PVE's is), with values from `row(i, phase)`. */
function rrd(ctx: SimContext, row: (phase: number) => Obj): Obj[] {
  const step = STEP[str(ctx, "timeframe") ?? "hour"] ?? 60;
  const max = str(ctx, "cf") === "MAX";
  const now = Math.floor(ctx.sim.now() / 1000 / step) * step;
  const out: Obj[] = [];
  for (let i = 69; i >= 1; i--) {
    const t = now - i * step;
    const phase = (Math.sin(t / (step * 9)) + 1) / 2; // 0..1, smooth
    const values = row(max ? Math.min(1, phase * 1.2) : phase);
    out.push({ time: t, ...values });
  }
  out.push({ time: now });
  return out;
}

function nodeRrd(ctx: SimContext): Obj[] {
  const n = nodeOf(ctx);
  return rrd(ctx, (p) => ({
    cpu: Math.round((n.cpu * 0.5 + p * n.cpu) * 1e4) / 1e4,
    maxcpu: n.maxcpu,
    iowait: Math.round(p * 0.02 * 1e4) / 1e4,
    loadavg: Math.round(p * n.maxcpu * 0.3 * 100) / 100,
    memtotal: n.memTotal,
    memused: Math.round(n.memUsed * (0.8 + 0.2 * p)),
    swaptotal: 8 * GiB,
    swapused: 0,
    roottotal: n.rootfsTotal,
    rootused: n.rootfsUsed,
    netin: Math.round(2e5 + p * 3e6),
    netout: Math.round(1e5 + p * 1e6),
  }));
}

function guestRrd(type: "qemu" | "lxc") {
  return (ctx: SimContext): Obj[] => {
    const g = guestOf(ctx, type);
    const on = g.status === "running";
    return rrd(ctx, (p) => ({
      cpu: on ? Math.round((0.02 + p * 0.3) * 1e4) / 1e4 : 0,
      maxcpu: g.cores,
      mem: on ? Math.round(g.memory * 1048576 * (0.3 + 0.4 * p)) : 0,
      maxmem: g.memory * 1048576,
      disk: type === "lxc" ? Math.round(g.maxdisk * 0.4) : 0,
      maxdisk: g.maxdisk,
      netin: on ? Math.round(1e3 + p * 5e5) : 0,
      netout: on ? Math.round(5e2 + p * 2e5) : 0,
      diskread: on ? Math.round(p * 4e6) : 0,
      diskwrite: on ? Math.round(p * 2e6) : 0,
    }));
  };
}

function storageRrd(ctx: SimContext): Obj[] {
  const n = nodeOf(ctx);
  const s = storageOf(ctx);
  const u = storageUsage(ctx.sim.state, s, n.name);
  return rrd(ctx, (p) => ({ total: u.total, used: Math.round(u.used * (0.97 + 0.03 * p)) }));
}

const CONTENT_DIR: Record<string, string> = { iso: "iso", vztmpl: "vztmpl", import: "import" };

function downloadUrl(ctx: SimContext): string {
  const n = nodeOf(ctx);
  const s = storageOf(ctx);
  const content = str(ctx, "content") ?? "iso";
  const filename = str(ctx, "filename") ?? "";
  const url = str(ctx, "url") ?? "";
  if (!s.content.includes(content)) {
    throw new SimError(500, `storage '${s.id}' does not support content-type '${content}'`);
  }
  if (filename.includes("/") || filename.startsWith(".")) {
    throw new SimError(400, "Parameter verification failed.", { filename: "invalid file name" });
  }
  const volid = `${s.id}:${CONTENT_DIR[content]}/${filename}`;
  if (findVolume(ctx.sim.state, volid, n.name)) {
    throw new SimError(500, `refusing to override existing file '${filename}'`);
  }
  const checksum = str(ctx, "checksum");
  const bad = checksum !== undefined && /^0+$/.test(checksum);
  const missing = /\/missing[^/]*$/.test(new URL(url).pathname);
  const state = ctx.sim.state;
  return startTask(ctx, {
    node: n.name,
    type: "download",
    id: s.id,
    log: [`downloading ${url} to /var/lib/vz/template/${CONTENT_DIR[content]}/${filename}`],
    ...(missing
      ? { failWith: `download failed: 404 Not Found` }
      : bad
      ? { failWith: `checksum mismatch: got '${"9".repeat(checksum!.length)}' != expected '${checksum}'` }
      : {}),
    onSuccess: () =>
      state.addVolume({
        volid,
        storage: s.id,
        ...(s.shared ? {} : { node: n.name }),
        content: content as "iso",
        format: content === "vztmpl" ? "tzst" : content === "iso" ? "iso" : "qcow2",
        size: 600 * 1048576,
        ctime: Math.floor(ctx.sim.now() / 1000),
      }),
  });
}

function volumeInfo(ctx: SimContext): Obj {
  const n = nodeOf(ctx);
  const s = storageOf(ctx);
  const volume = str(ctx, "volume") ?? "";
  const volid = volume.includes(":") ? volume : `${s.id}:${volume}`;
  const v = findVolume(ctx.sim.state, volid, n.name);
  if (!v) throw new SimError(500, `volume '${volid}' does not exist`);
  const out: Obj = {
    path: `${s.path ?? "/dev/pve"}/${volid.slice(volid.indexOf(":") + 1)}`,
    size: v.size,
    used: v.used ?? v.size,
    format: v.format,
  };
  if (v.notes !== undefined) out.notes = v.notes;
  if (v.protected) out.protected = 1;
  return out;
}

/** Routes of this file. */
export const nodeExtraRoutes: SimRoute[] = [
  { method: "GET", path: "/nodes/{node}/services", handler: services },
  { method: "GET", path: "/nodes/{node}/network", handler: network },
  { method: "GET", path: "/nodes/{node}/disks/list", handler: disks },
  { method: "GET", path: "/nodes/{node}/syslog", handler: syslog },
  { method: "GET", path: "/nodes/{node}/journal", handler: journal },
  { method: "GET", path: "/nodes/{node}/apt/update", handler: aptUpdates },
  { method: "GET", path: "/nodes/{node}/rrddata", handler: nodeRrd },
  { method: "GET", path: "/nodes/{node}/qemu/{vmid}/rrddata", handler: guestRrd("qemu") },
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/rrddata", handler: guestRrd("lxc") },
  { method: "GET", path: "/nodes/{node}/storage/{storage}/rrddata", handler: storageRrd },
  { method: "POST", path: "/nodes/{node}/storage/{storage}/download-url", handler: downloadUrl },
  { method: "GET", path: "/nodes/{node}/storage/{storage}/content/{volume}", handler: volumeInfo },
];
