/**
 * State the infrastructure endpoints need beyond the core model (firewall configs, users and tokens, HA, SDN,
 * replication, node services/network/disks/logs/updates), kept per simulated cluster and seeded deterministically
 * from it on first use.
 * @module
 */
import type { ClusterState } from "../model.ts";
import { ALL_PRIVS, AUDITOR_PRIVS, OPERATOR_PRIVS } from "../auth.ts";
import { Rng } from "../rng.ts";

type Obj = Record<string, unknown>;

/** A firewall rule as PVE stores it (`pos` is its index). */
export interface FwRule {
  type: string;
  action: string;
  enable?: number;
  macro?: string;
  source?: string;
  dest?: string;
  proto?: string;
  dport?: string;
  sport?: string;
  iface?: string;
  log?: string;
  "icmp-type"?: string;
  comment?: string;
}

/** One firewall configuration (cluster, a node or a guest). */
export interface FwConf {
  options: Record<string, string | number>;
  rules: FwRule[];
  aliases: Map<string, { cidr: string; comment?: string }>;
  ipsets: Map<string, { comment?: string; entries: Map<string, { nomatch?: number; comment?: string }> }>;
  /** Bumped on every change; the digest derives from it. */
  serial: number;
}

/** A user of the access database. */
export interface SimUser {
  userid: string;
  enable: number;
  expire: number;
  comment?: string;
  email?: string;
  groups: string[];
  tokens: Map<string, { comment?: string; expire: number; privsep: number }>;
}

/** All extra state of one simulated cluster. */
export interface InfraState {
  firewall: Map<string, FwConf>;
  securityGroups: Map<string, { comment?: string; rules: FwRule[] }>;
  users: Map<string, SimUser>;
  groups: Map<string, { comment?: string }>;
  roles: Map<string, { privs: string[]; special: number }>;
  acl: { path: string; type: "user" | "group" | "token"; ugid: string; roleid: string; propagate: number }[];
  haResources: Map<string, Obj>;
  haRules: Obj[];
  replication: Obj[];
  sdnZones: Obj[];
  sdnVnets: Obj[];
  sdnSubnets: Obj[];
  /** Pool storage members (the core model keeps guest members on the guest). */
  poolStorages: Map<string, Set<string>>;
  syslog: Map<string, string[]>;
  apt: Map<string, Obj[]>;
}

const states = new WeakMap<ClusterState, InfraState>();

/** The infrastructure state of a cluster, seeded on first use. */
export function infraOf(state: ClusterState): InfraState {
  let s = states.get(state);
  if (!s) states.set(state, s = seed(state));
  return s;
}

/** A hex digest of a value (stable for equal content), like PVE's config digests. */
export function digestOf(value: unknown): string {
  let h1 = 0x811c9dc5, h2 = 0x01000193;
  for (const ch of JSON.stringify(value, (_k, v) => (v instanceof Map ? [...v] : v))) {
    const c = ch.charCodeAt(0);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return (h1.toString(16).padStart(8, "0") + h2.toString(16).padStart(8, "0")).repeat(2).slice(0, 40);
}

/** An empty firewall configuration with the given options. */
export function newFw(options: Record<string, string | number> = {}): FwConf {
  return { options, rules: [], aliases: new Map(), ipsets: new Map(), serial: 0 };
}

const ROLES: Record<string, string[]> = {
  Administrator: ALL_PRIVS,
  NoAccess: [],
  PVEAuditor: AUDITOR_PRIVS,
  PVEVMUser: ["VM.Audit", "VM.Backup", "VM.Config.CDROM", "VM.Config.Cloudinit", "VM.Console", "VM.PowerMgmt"],
  PVEVMAdmin: ALL_PRIVS.filter((p) => p.startsWith("VM.") || p === "Datastore.AllocateSpace"),
  PVEDatastoreUser: ["Datastore.AllocateSpace", "Datastore.Audit"],
  PVEPoolUser: ["Pool.Audit"],
  PVESDNUser: ["SDN.Audit", "SDN.Use"],
};

function seed(state: ClusterState): InfraState {
  const rng = new Rng(7919 + state.nodes.size * 31 + state.guests.size);
  const nodes = [...state.nodes.keys()];
  const guests = [...state.guests.values()].sort((a, b) => a.vmid - b.vmid);

  const firewall = new Map<string, FwConf>();
  const cluster = newFw({ enable: 0, policy_in: "DROP", policy_out: "ACCEPT", ebtables: 1 });
  cluster.rules.push(
    { type: "group", action: "webservers", enable: 1, comment: "web tier" },
    { type: "in", action: "ACCEPT", macro: "SSH", source: "+management", enable: 1, comment: "admin SSH" },
    { type: "in", action: "ACCEPT", proto: "tcp", dport: "8006", source: "+management", enable: 1, comment: "web UI" },
    { type: "in", action: "DROP", source: "+blocklist", enable: 1, log: "info" },
  );
  cluster.aliases.set("gateway", { cidr: "10.0.0.1", comment: "default gateway" });
  cluster.aliases.set("monitoring", { cidr: "10.0.0.20" });
  cluster.ipsets.set("management", {
    comment: "admin workstations",
    entries: new Map([["10.0.10.0/24", {}], ["10.0.10.66", { nomatch: 1, comment: "kiosk" }]]),
  });
  cluster.ipsets.set("blocklist", { entries: new Map([["203.0.113.0/24", { comment: "abuse" }]]) });
  firewall.set("cluster", cluster);
  for (const n of nodes) {
    const fw = newFw({ enable: 1, log_level_in: "nolog", nftables: 0 });
    fw.rules.push({ type: "in", action: "ACCEPT", proto: "tcp", dport: "22", source: "+management", enable: 1 });
    firewall.set(`node/${n}`, fw);
  }
  for (const g of guests.slice(0, 6)) {
    if (g.template) continue;
    const fw = newFw({ enable: rng.chance(0.5) ? 1 : 0, policy_in: "DROP" });
    fw.rules.push({ type: "in", action: "ACCEPT", macro: rng.pick(["HTTP", "HTTPS", "SSH"]), enable: 1 });
    firewall.set(`guest/${g.vmid}`, fw);
  }
  const securityGroups = new Map([[
    "webservers",
    {
      comment: "HTTP and HTTPS",
      rules: [
        { type: "in", action: "ACCEPT", macro: "HTTP", enable: 1 },
        { type: "in", action: "ACCEPT", macro: "HTTPS", enable: 1 },
      ] as FwRule[],
    },
  ]]);

  const users = new Map<string, SimUser>();
  const addUser = (userid: string, extra: Partial<SimUser> = {}) =>
    users.set(userid, { userid, enable: 1, expire: 0, groups: [], tokens: new Map(), ...extra });
  addUser("root@pam", { comment: "Built-in Superuser", email: "root@example.com" });
  addUser("auditor@pve", { comment: "read-only access", groups: ["auditors"] });
  addUser("mcp@pve", { comment: "MCP server" });
  addUser("ops@pve", { groups: ["admins"], email: "ops@example.com" });
  addUser("alice@pve", { groups: ["operators"], comment: "web team" });
  const groups = new Map<string, { comment?: string }>([
    ["admins", { comment: "cluster administrators" }],
    ["operators", { comment: "day-to-day operations" }],
    ["auditors", {}],
  ]);
  const roles = new Map<string, { privs: string[]; special: number }>(
    Object.entries(ROLES).map(([id, privs]) => [id, { privs: [...privs].sort(), special: 1 }]),
  );
  roles.set("MCPOperator", { privs: [...OPERATOR_PRIVS].sort(), special: 0 });
  const acl: InfraState["acl"] = [
    { path: "/", type: "group", ugid: "admins", roleid: "Administrator", propagate: 1 },
    { path: "/", type: "group", ugid: "auditors", roleid: "PVEAuditor", propagate: 1 },
    { path: "/pool/web", type: "user", ugid: "alice@pve", roleid: "PVEVMUser", propagate: 1 },
  ];

  const haResources = new Map<string, Obj>();
  for (const g of guests) {
    if (!g.hastate) continue;
    const sid = `${g.type === "qemu" ? "vm" : "ct"}:${g.vmid}`;
    haResources.set(sid, {
      sid,
      type: g.type === "qemu" ? "vm" : "ct",
      state: "started",
      max_restart: 1,
      max_relocate: 1,
      failback: 1,
    });
  }
  const haRules: Obj[] = [];
  let r = 0;
  for (const sid of haResources.keys()) {
    if (r >= 2) break;
    haRules.push({
      rule: `ha-rule-${++r}`,
      type: "node-affinity",
      resources: sid,
      nodes: nodes.slice(0, 2).map((n, i) => `${n}:${2 - i}`).join(","),
      strict: 0,
    });
  }

  const replication: Obj[] = [];
  for (const g of guests.filter((x) => x.type === "qemu" && !x.template).slice(0, 2)) {
    const target = nodes.find((n) => n !== g.node);
    if (!target) break;
    replication.push({
      id: `${g.vmid}-0`,
      type: "local",
      guest: g.vmid,
      jobnum: 0,
      source: g.node,
      target,
      schedule: "*/15",
      rate: 50,
    });
  }

  const sdnZones: Obj[] = [
    { zone: "lab", type: "simple", ipam: "pve", dhcp: "dnsmasq" },
    { zone: "vlans", type: "vlan", bridge: "vmbr0", ipam: "pve" },
  ];
  const sdnVnets: Obj[] = [
    { vnet: "labnet", zone: "lab", type: "vnet" },
    { vnet: "dmz", zone: "vlans", tag: 30, type: "vnet", alias: "DMZ" },
  ];
  const sdnSubnets: Obj[] = [
    {
      subnet: "lab-10.50.0.0-24",
      cidr: "10.50.0.0/24",
      gateway: "10.50.0.1",
      snat: 1,
      type: "subnet",
      vnet: "labnet",
      zone: "lab",
      "dhcp-range": ["start-address=10.50.0.100,end-address=10.50.0.200"],
    },
    {
      subnet: "vlans-192.168.30.0-24",
      cidr: "192.168.30.0/24",
      gateway: "192.168.30.1",
      type: "subnet",
      vnet: "dmz",
      zone: "vlans",
    },
  ];

  const syslog = new Map<string, string[]>();
  const apt = new Map<string, Obj[]>();
  for (const n of nodes) {
    const lines: string[] = [];
    const units = ["pveproxy[1234]", "pvedaemon[1102]", "pvestatd[1088]", "systemd[1]", "corosync[990]", "cron[812]"];
    for (let i = 0; i < 400; i++) {
      const unit = rng.pick(units);
      const t = new Date(Date.UTC(2026, 0, 1, 0, 0, i * 9)).toISOString().slice(0, 19).replace("T", " ");
      const msg = unit.startsWith("pvestatd")
        ? "status update time (0.5 seconds)"
        : unit.startsWith("corosync")
        ? "[KNET  ] host: host: 2 has no active links"
        : unit.startsWith("cron")
        ? "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"
        : unit.startsWith("systemd")
        ? "Started session-1.scope - Session 1 of User root."
        : `<root@pam> starting task UPID:${n}:00001${(i % 256).toString(16).padStart(3, "0")}:...`;
      lines.push(`${t} ${n} ${unit}: ${msg}`);
    }
    syslog.set(n, lines);
    apt.set(n, [
      {
        Package: "pve-manager",
        Title: "Proxmox Virtual Environment Management Tools",
        OldVersion: "9.1.1",
        Version: "9.1.2",
        Priority: "optional",
        Section: "admin",
        Arch: "amd64",
        Origin: "Proxmox",
        Description: "",
      },
      {
        Package: "proxmox-kernel-6.17",
        Title: "Latest Proxmox Kernel Image",
        OldVersion: "6.17.2-1",
        Version: "6.17.2-2",
        Priority: "optional",
        Section: "kernel",
        Arch: "all",
        Origin: "Proxmox",
        Description: "",
      },
      {
        Package: "openssl",
        Title: "Secure Sockets Layer toolkit",
        OldVersion: "3.5.1-1",
        Version: "3.5.1-1+deb13u1",
        Priority: "important",
        Section: "utils",
        Arch: "amd64",
        Origin: "Debian",
        Description: "",
      },
    ]);
  }

  return {
    firewall,
    securityGroups,
    users,
    groups,
    roles,
    acl,
    haResources,
    haRules,
    replication,
    sdnZones,
    sdnVnets,
    sdnSubnets,
    poolStorages: new Map(),
    syslog,
    apt,
  };
}
