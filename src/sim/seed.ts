/**
 * Builds a deterministic, realistic cluster from a seed: nodes, qemu and lxc guests with configs, pools, tags,
 * storages (local dir, local-lvm thin pool, a shared NFS store) and their content (ISOs, templates, disks, backups).
 * @module
 */
import { ClusterState, type SimGuest, type SimNode, type SimStorage } from "./model.ts";
import { Rng } from "./rng.ts";
import type { TaskManager } from "./tasks.ts";

/** Size of the generated cluster. */
export interface SeedOptions {
  nodes: number;
  guests: number;
  seed: number;
  /** Epoch seconds used as "now" for creation times. */
  nowSeconds: number;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const ROLES = ["web", "db", "cache", "mq", "build", "mon", "dns", "proxy", "git", "ci-runner", "k8s", "backup", "app"];
const TAGS = ["prod", "staging", "dev", "db", "web", "k8s", "critical", "backup-daily", "linux", "windows"];
const POOLS = ["prod", "staging", "dev", "infra"];
const ISOS = ["debian-12.7.0-amd64-netinst.iso", "ubuntu-24.04.1-live-server-amd64.iso", "virtio-win-0.1.262.iso"];
const TEMPLATES = [
  "debian-12-standard_12.7-1_amd64.tar.zst",
  "ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
  "alpine-3.20-default_20240908_amd64.tar.xz",
];
const CPU_MODELS = ["AMD EPYC 7443P 24-Core Processor", "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"];
const LXC_OS = [["debian", TEMPLATES[0]], ["ubuntu", TEMPLATES[1]], ["alpine", TEMPLATES[2]]] as const;

const mac = (rng: Rng) => `BC:24:11:${rng.hex(2)}:${rng.hex(2)}:${rng.hex(2)}`.toUpperCase();

function makeNode(rng: Rng, i: number, nowSeconds: number): SimNode {
  const maxcpu = rng.pick([16, 32, 48, 64]);
  const memTotal = rng.pick([64, 128, 256]) * GiB;
  const load = (rng.next() * maxcpu * 0.4).toFixed(2);
  return {
    name: `pve${i + 1}`,
    nodeid: i + 1,
    ip: `10.0.${Math.floor((i + 11) / 250)}.${(i + 11) % 250}`,
    online: true,
    maxcpu,
    sockets: maxcpu >= 48 ? 2 : 1,
    cpuModel: rng.pick(CPU_MODELS),
    cpu: Math.round(rng.next() * 0.35 * 1e4) / 1e4,
    memTotal,
    memUsed: Math.round(memTotal * (0.2 + rng.next() * 0.5)),
    rootfsTotal: 100 * GiB,
    rootfsUsed: Math.round((8 + rng.next() * 20) * GiB),
    bootedAt: nowSeconds - rng.int(3, 200) * 86_400 - rng.int(0, 86_399),
    loadavg: [load, (Number(load) * 0.9).toFixed(2), (Number(load) * 0.8).toFixed(2)],
    kernel: "6.14.11-4-pve",
  };
}

function qemuConfig(g: SimGuest, rng: Rng, nowSeconds: number, windows: boolean): Record<string, string | number> {
  const disk = `local-lvm:${g.template ? "base" : "vm"}-${g.vmid}-disk-0,iothread=1,size=${g.maxdisk / GiB}G`;
  const c: Record<string, string | number> = {
    name: g.name,
    cores: g.cores,
    sockets: 1,
    memory: String(g.memory),
    cpu: "x86-64-v2-AES",
    ostype: windows ? "win11" : "l26",
    scsihw: "virtio-scsi-single",
    scsi0: disk,
    ide2: windows ? `local:iso/${ISOS[2]},media=cdrom,size=708140K` : "none,media=cdrom",
    net0: `virtio=${mac(rng)},bridge=vmbr0,firewall=1`,
    boot: "order=scsi0;ide2;net0",
    numa: 0,
    agent: "1",
    smbios1: `uuid=${rng.uuid()}`,
    vmgenid: rng.uuid(),
    meta: `creation-qemu=9.2.0,ctime=${nowSeconds - rng.int(86_400, 400 * 86_400)}`,
  };
  if (windows) {
    c.bios = "ovmf";
    c.machine = "pc-q35-9.2+pve1";
    c.efidisk0 = `local-lvm:vm-${g.vmid}-disk-1,efitype=4m,pre-enrolled-keys=1,size=4M`;
    c.tpmstate0 = `local-lvm:vm-${g.vmid}-disk-2,size=4M,version=v2.0`;
  }
  if (!g.template && rng.chance(0.5)) c.onboot = 1;
  if (g.template) c.template = 1;
  if (g.tags.length) c.tags = g.tags.join(";");
  return c;
}

function lxcConfig(g: SimGuest, rng: Rng, ostype: string): Record<string, string | number> {
  const c: Record<string, string | number> = {
    hostname: g.name,
    arch: "amd64",
    cores: g.cores,
    memory: g.memory,
    swap: 512,
    ostype,
    rootfs: `local-lvm:${g.template ? "base" : "vm"}-${g.vmid}-disk-0,size=${g.maxdisk / GiB}G`,
    net0: `name=eth0,bridge=vmbr0,firewall=1,hwaddr=${mac(rng)},ip=dhcp,type=veth`,
    unprivileged: 1,
    features: "nesting=1",
  };
  if (!g.template && rng.chance(0.5)) c.onboot = 1;
  if (g.template) c.template = 1;
  if (g.tags.length) c.tags = g.tags.join(";");
  return c;
}

function makeGuest(rng: Rng, vmid: number, node: string, nameCount: Map<string, number>, nowSeconds: number) {
  const type = rng.chance(0.35) ? "lxc" : "qemu";
  const template = rng.chance(0.03);
  const role = template ? `tpl-${type === "lxc" ? "ct" : "vm"}` : rng.pick(ROLES);
  const n = (nameCount.get(role) ?? 0) + 1;
  nameCount.set(role, n);
  const tags = template ? [] : [...new Set(Array.from({ length: rng.int(0, 3) }, () => rng.pick(TAGS)))].sort();
  const running = !template && rng.chance(0.7);
  const windows = type === "qemu" && !template && tags.includes("windows");
  const memory = type === "lxc" ? rng.pick([512, 1024, 2048, 4096]) : rng.pick([1024, 2048, 4096, 8192, 16384]);
  const maxdisk = (type === "lxc" ? rng.pick([4, 8, 16, 32]) : rng.pick([16, 32, 64, 128])) * GiB;
  const g: SimGuest = {
    vmid,
    type,
    node,
    name: `${role}-${String(n).padStart(2, "0")}`,
    status: running ? "running" : "stopped",
    template,
    tags,
    cores: rng.pick(type === "lxc" ? [1, 2, 4] : [1, 2, 4, 8]),
    memory,
    maxdisk,
    cpu: running ? Math.round(rng.next() * 0.6 * 1e4) / 1e4 : 0,
    mem: running ? Math.round(memory * MiB * (0.2 + rng.next() * 0.6)) : 0,
    disk: type === "lxc" ? Math.round(maxdisk * (0.1 + rng.next() * 0.6)) : 0,
    netin: running ? rng.int(1, 5e9) : 0,
    netout: running ? rng.int(1, 5e9) : 0,
    diskread: running ? rng.int(1, 2e10) : 0,
    diskwrite: running ? rng.int(1, 2e10) : 0,
    config: {},
  };
  if (running) g.startedAt = nowSeconds - rng.int(600, 90 * 86_400);
  if (type === "qemu") g.qmpstatus = running ? "running" : "stopped";
  if (running) g.pid = rng.int(1000, 4_000_000);
  if (!template && rng.chance(0.6)) g.pool = rng.pick(POOLS);
  if (running && tags.includes("critical")) g.hastate = "started";
  const [ostype] = rng.pick(LXC_OS);
  g.config = type === "qemu" ? qemuConfig(g, rng, nowSeconds, windows) : lxcConfig(g, rng, ostype);
  if (rng.chance(0.2)) g.config.description = `Owner: team-${rng.pick(["platform", "data", "web", "ops"])}\n`;
  return g;
}

function stamp(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}-${p(d.getUTCHours())}_` +
    `${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}`;
}

/** Generates the cluster. Same options, same cluster (creation times move with `nowSeconds`). */
export function seedCluster(opts: SeedOptions): ClusterState {
  const rng = new Rng(opts.seed);
  const state = new ClusterState();
  const now = opts.nowSeconds;
  for (let i = 0; i < opts.nodes; i++) state.addNode(makeNode(rng, i, now));
  const nodeNames = [...state.nodes.keys()];
  for (const p of POOLS) state.pools.set(p, { comment: `${p} workloads` });

  const local: SimStorage = {
    id: "local",
    type: "dir",
    content: ["iso", "vztmpl", "backup"],
    shared: false,
    nodes: [],
    total: 100 * GiB,
    path: "/var/lib/vz",
  };
  const lvm: SimStorage = {
    id: "local-lvm",
    type: "lvmthin",
    content: ["images", "rootdir"],
    shared: false,
    nodes: [],
    total: 2048 * GiB,
  };
  const nas: SimStorage = {
    id: "nas",
    type: "nfs",
    content: ["backup", "iso", "vztmpl"],
    shared: true,
    nodes: [],
    total: 16384 * GiB,
    path: "/mnt/pve/nas",
  };
  for (const s of [local, lvm, nas]) state.addStorage(s);

  for (const node of nodeNames) {
    ISOS.slice(0, 2).forEach((iso, i) =>
      state.addVolume({
        volid: `local:iso/${iso}`,
        storage: "local",
        node,
        content: "iso",
        format: "iso",
        size: (i + 1) * 700 * MiB,
        ctime: now - 90 * 86_400,
      })
    );
    TEMPLATES.forEach((t, i) =>
      state.addVolume({
        volid: `local:vztmpl/${t}`,
        storage: "local",
        node,
        content: "vztmpl",
        format: t.endsWith(".xz") ? "txz" : "tzst",
        size: (120 + 40 * i) * MiB,
        ctime: now - 60 * 86_400,
      })
    );
  }
  ISOS.forEach((iso, i) =>
    state.addVolume({
      volid: `nas:iso/${iso}`,
      storage: "nas",
      content: "iso",
      format: "iso",
      size: (i + 1) * 650 * MiB,
      ctime: now - 120 * 86_400,
    })
  );

  const nameCount = new Map<string, number>();
  const usedPerNode = new Map<string, number>();
  for (let i = 0; i < opts.guests; i++) {
    const node = nodeNames[i % nodeNames.length] as string;
    const g = makeGuest(rng, 100 + i, node, nameCount, now);
    state.guests.set(g.vmid, g);
    const content = g.type === "qemu" ? "images" : "rootdir";
    const base = g.template ? "base" : "vm";
    state.addVolume({
      volid: `local-lvm:${base}-${g.vmid}-disk-0`,
      storage: "local-lvm",
      node,
      content,
      format: "raw",
      size: g.maxdisk,
      used: Math.round(g.maxdisk * 0.4),
      ctime: now - rng.int(86_400, 300 * 86_400),
      vmid: g.vmid,
    });
    usedPerNode.set(node, (usedPerNode.get(node) ?? 0) + g.maxdisk * 0.4);
    if (!g.template && rng.chance(0.3)) {
      const when = now - rng.int(1, 14) * 86_400 - 3600;
      const ext = g.type === "qemu" ? "vma.zst" : "tar.zst";
      state.addVolume({
        volid: `nas:backup/vzdump-${g.type}-${g.vmid}-${stamp(when)}.${ext}`,
        storage: "nas",
        content: "backup",
        format: ext,
        size: Math.round(g.maxdisk * 0.15),
        ctime: when,
        vmid: g.vmid,
        notes: g.name,
        ...(rng.chance(0.1) ? { protected: true } : {}),
      });
    }
  }
  // Grow local-lvm and nas so large clusters still look sane (≤ 70 % full).
  lvm.total = Math.max(lvm.total, Math.ceil(Math.max(0, ...usedPerNode.values()) / 0.7 / GiB) * GiB);
  let nasUsed = 0;
  for (const v of state.volumes(nas, "")) nasUsed += v.size;
  nas.total = Math.max(nas.total, Math.ceil(nasUsed / 0.7 / GiB) * GiB);
  state.touch();
  return state;
}

/** A few finished tasks per node in the past (backups, starts, updates), so task lists are not empty. */
export function seedTaskHistory(state: ClusterState, tasks: TaskManager, seed: number, nowSeconds: number): void {
  const rng = new Rng(seed ^ 0x5eed);
  const guests = [...state.guests.values()].filter((g) => !g.template);
  for (const node of state.nodes.values()) {
    const mine = guests.filter((g) => g.node === node.name).slice(0, 40);
    const start = nowSeconds - 86_400 - rng.int(0, 3600);
    tasks.addFinished({
      node: node.name,
      pid: rng.int(10_000, 900_000),
      pstart: rng.int(1e6, 9e6),
      starttime: start,
      type: "vzdump",
      id: "",
      user: "root@pam",
      endtime: start + 300 + rng.int(0, 900),
      exitstatus: "OK",
      log: [
        "INFO: starting new backup job: vzdump --mode snapshot --all 1 --storage nas --compress zstd",
        ...mine.slice(0, 5).map((g) => `INFO: Starting Backup of VM ${g.vmid} (${g.type})`),
        "INFO: Backup job finished successfully",
        "TASK OK",
      ],
    });
    const g = rng.pick(mine.length ? mine : guests);
    if (g) {
      const t = nowSeconds - rng.int(3600, 20 * 3600);
      tasks.addFinished({
        node: node.name,
        pid: rng.int(10_000, 900_000),
        pstart: rng.int(1e6, 9e6),
        starttime: t,
        type: g.type === "qemu" ? "qmstart" : "vzstart",
        id: String(g.vmid),
        user: "root@pam",
        endtime: t + 2,
        exitstatus: "OK",
        log: ["TASK OK"],
      });
    }
    const u = nowSeconds - rng.int(2 * 86_400, 5 * 86_400);
    const failed = rng.chance(0.3);
    tasks.addFinished({
      node: node.name,
      pid: rng.int(10_000, 900_000),
      pstart: rng.int(1e6, 9e6),
      starttime: u,
      type: "aptupdate",
      id: "",
      user: "root@pam",
      endtime: u + 20,
      exitstatus: failed ? "command 'apt-get update' failed: exit code 100" : "OK",
      log: [
        "starting apt-get update",
        failed ? "TASK ERROR: command 'apt-get update' failed: exit code 100" : "TASK OK",
      ],
    });
  }
}
