/**
 * The reviewed class table of the raw API tool (`pve_api`). A GET is a read unless a row refuses it; any other call
 * is REFUSED unless a row below names its endpoint and gives its class (read / write / destructive / refused, with
 * why). Rows match the endpoint's path TEMPLATE from the contract (`/nodes/{node}/qemu/{vmid}/status/stop`), so
 * encoding tricks in the concrete path cannot dodge them; conditions look at the parameters with the schema's
 * defaults applied (vzdump's `remove` defaults to 1). docs/safety.md shows this table, generated from it.
 * @module
 */
import type { CallClass } from "../core/mod.ts";
import type { PveMethod } from "../pve/types.ts";
import { truthy } from "./raw_refs.ts";

/** A row's verdict. */
export type RawVerdict = CallClass | "refused";

type Params = Readonly<Record<string, unknown>>;

/** A condition that raises a row's class. */
export interface RawEscalation {
  /** The condition in words (docs). */
  if: string;
  when: (p: Params) => boolean;
  cls: RawVerdict;
  why: string;
}

/** One reviewed row. */
export interface RawRule {
  methods: readonly PveMethod[];
  /** Path templates; a trailing `/**` matches the path itself and everything below it. */
  paths: readonly string[];
  cls: RawVerdict;
  why: string;
  /** For refusals: what to use instead. */
  instead?: string;
  /** Raises the class when parameters ask for more (first that applies wins). */
  escalate?: readonly RawEscalation[];
  /** Why the call acts on guests it does not name (all guests of a node, `all=1`), when it does. */
  mass?: (p: Params) => string | undefined;
  /** Why some guest the call touches cannot be named (stored job definitions), when so. */
  undetermined?: string;
  /** Parameters holding a URL or host PVE will fetch from (internal addresses are refused). */
  fetches?: readonly string[];
}

/** What the table says about one call. */
export interface RawClass {
  cls: CallClass;
  why: string;
  /** Set when the call must never be sent: why, and what to use instead. */
  refuse?: string;
  mass?: string;
  undetermined?: string;
  fetches: readonly string[];
}

const ANY: readonly PveMethod[] = ["GET", "POST", "PUT", "DELETE"];
const guest = (...tails: string[]) =>
  tails.flatMap((t) => [`/nodes/{node}/qemu/{vmid}${t}`, `/nodes/{node}/lxc/{vmid}${t}`]);
const AGENT = "use the agent toolset, which applies the operator's agent policy (opt-in guests, allowed programs)";
const CONSOLE = "interactive consoles, shells and login tickets are not available to the model";
const allGuests = (p: Params) => (p.vms === undefined ? "no `vms` list: every guest" : undefined);
const vzdumpMass = (p: Params) =>
  truthy(p.all)
    ? "all=1 backs up every guest"
    : p.pool !== undefined
    ? "pool= backs up every guest of a pool"
    : undefined;
const HOOKS: RawEscalation = {
  if: "`args` or `hookscript`",
  when: (p) => p.args !== undefined || p.hookscript !== undefined,
  cls: "refused",
  why: "raw QEMU arguments and hook scripts run code on the host",
};
const BACKUP_HOST: RawEscalation = {
  if: "`script`, `dumpdir`, `tmpdir` or `stdout`",
  when: (p) => ["script", "dumpdir", "tmpdir", "stdout"].some((k) => p[k] !== undefined),
  cls: "refused",
  why: "hook scripts run programs on the host; host directories and stdout bypass the storage",
};

/** The reviewed rows; the first row whose method and path match decides. Exported for docs and tests. */
export const RAW_RULES: readonly RawRule[] = [
  // Refused: consoles, commands, secrets handed back, data read out of guests or backups.
  {
    methods: ["POST"],
    paths: ["/nodes/{node}/qemu/{vmid}/agent/ping"],
    cls: "write",
    why: "pings the guest agent",
  },
  {
    methods: ANY,
    paths: ["/nodes/{node}/qemu/{vmid}/agent/**"],
    cls: "refused",
    why: "guest-agent command (runs programs, reads or writes files, sets passwords inside the guest)",
    instead: AGENT,
  },
  {
    methods: ANY,
    paths: [
      ...guest("/termproxy", "/vncproxy", "/spiceproxy", "/vncwebsocket", "/mtunnel", "/mtunnelwebsocket"),
      "/nodes/{node}/termproxy",
      "/nodes/{node}/vncshell",
      "/nodes/{node}/spiceshell",
      "/nodes/{node}/vncwebsocket",
      "/access/ticket",
      "/access/vncticket",
      "/access/openid/**",
    ],
    cls: "refused",
    why: "opens a console, a shell, a migration tunnel or a login session",
    instead: CONSOLE,
  },
  {
    methods: ANY,
    paths: ["/nodes/{node}/execute", "/nodes/{node}/qemu/{vmid}/monitor", "/nodes/{node}/qemu/{vmid}/sendkey"],
    cls: "refused",
    why: "runs commands (API batches, QEMU monitor, keystrokes into the guest)",
    instead: "send single API calls, each classified on its own",
  },
  {
    methods: ANY,
    paths: ["/nodes/{node}/qemu/{vmid}/dbus-vmstate"],
    cls: "refused",
    why: "migration internals",
    instead: "use the migrate endpoints",
  },
  {
    methods: ["GET"],
    paths: ["/nodes/{node}/qemu/{vmid}/cloudinit/dump"],
    cls: "refused",
    why: "hands back cloud-init user data (passwords, keys, scripts)",
    instead: "read the guest's config (secrets there are masked)",
  },
  {
    methods: ["GET"],
    paths: ["/nodes/{node}/storage/{storage}/file-restore/**"],
    cls: "refused",
    why: "reads files out of backups",
    instead: "restore the backup into a guest you may read",
  },
  {
    methods: ["POST"],
    paths: ["/access/users/{userid}/token/{tokenid}", "/access/tfa/{userid}"],
    cls: "refused",
    why: "answers with a new secret (API token value, TOTP or recovery keys)",
    instead: "create tokens and second factors in the PVE web interface",
  },
  // URL fetching: PVE downloads from the address the model gives.
  {
    methods: ["GET"],
    paths: ["/nodes/{node}/query-url-metadata"],
    cls: "read",
    why: "PVE fetches the URL's headers",
    fetches: ["url"],
  },
  {
    methods: ["GET"],
    paths: ["/nodes/{node}/scan/**"],
    cls: "read",
    why: "PVE connects to the named server to list its exports",
    fetches: ["server", "portal"],
  },
  {
    methods: ["POST"],
    paths: ["/nodes/{node}/storage/{storage}/download-url", "/nodes/{node}/storage/{storage}/oci-registry-pull"],
    cls: "write",
    why: "PVE downloads a file from the URL into the storage",
    fetches: ["url", "reference"],
  },
  // Guests.
  {
    methods: ["POST"],
    paths: guest("/status/start", "/status/reboot", "/status/suspend", "/status/resume"),
    cls: "write",
    why: "power action that loses nothing",
  },
  {
    methods: ["POST"],
    paths: guest("/status/shutdown"),
    cls: "write",
    why: "clean shutdown",
    escalate: [{
      if: "`forceStop=1`",
      when: (p) => truthy(p.forceStop),
      cls: "destructive",
      why: "forceStop=1 hard-stops the guest when it does not shut down",
    }],
  },
  {
    methods: ["POST"],
    paths: [...guest("/status/stop"), "/nodes/{node}/qemu/{vmid}/status/reset"],
    cls: "destructive",
    why: "hard power-off or reset of a guest",
  },
  {
    methods: ["POST"],
    paths: guest("/snapshot/{snapname}/rollback"),
    cls: "destructive",
    why: "rollback discards the guest's current state",
  },
  {
    methods: ["POST"],
    paths: guest("/template"),
    cls: "destructive",
    why: "converting to a template cannot be undone",
  },
  { methods: ["PUT"], paths: ["/nodes/{node}/qemu/{vmid}/unlink"], cls: "destructive", why: "deletes disk images" },
  {
    methods: ["POST", "PUT"],
    paths: guest("/config", "/snapshot/{snapname}/config"),
    cls: "write",
    why: "changes the guest's configuration",
    escalate: [HOOKS, {
      if: "`delete`",
      when: (p) => p.delete !== undefined && p.delete !== "",
      cls: "destructive",
      why: "removing config keys can delete disks",
    }],
  },
  {
    methods: ["POST"],
    paths: ["/nodes/{node}/qemu", "/nodes/{node}/lxc"],
    cls: "write",
    why: "creates a guest",
    escalate: [HOOKS, {
      if: "`archive`, `restore` or `force`",
      when: (p) => p.archive !== undefined || truthy(p.restore) || truthy(p.force),
      cls: "destructive",
      why: "restore/force overwrites an existing guest",
    }],
  },
  {
    methods: ["POST"],
    paths: guest("/clone", "/migrate", "/snapshot"),
    cls: "write",
    why: "clone, migration or snapshot: nothing is lost",
  },
  {
    methods: ["PUT"],
    paths: [...guest("/resize"), "/nodes/{node}/qemu/{vmid}/cloudinit"],
    cls: "write",
    why: "grows a disk or regenerates the cloud-init drive",
  },
  {
    methods: ["POST"],
    paths: ["/nodes/{node}/qemu/{vmid}/move_disk", "/nodes/{node}/lxc/{vmid}/move_volume"],
    cls: "write",
    why: "moves a volume (the source is kept)",
    escalate: [{
      if: "`delete=1`",
      when: (p) => truthy(p.delete),
      cls: "destructive",
      why: "delete=1 removes the source volume",
    }],
  },
  {
    methods: ["POST"],
    paths: guest("/remote_migrate"),
    cls: "destructive",
    why: "moves the guest and its data to a cluster outside this server's control (exfiltration)",
    escalate: [{
      if: "`delete=1`",
      when: (p) => truthy(p.delete),
      cls: "destructive",
      why: "delete=1 also deletes the local guest after moving it out of the cluster",
    }],
  },
  // Backups and jobs.
  {
    methods: ["POST"],
    paths: ["/nodes/{node}/vzdump"],
    cls: "write",
    why: "backs up the named guests to a storage",
    mass: vzdumpMass,
    escalate: [BACKUP_HOST, {
      if: "`all=1`, `remove` (default 1) or a `prune-backups` other than `keep-all=1`",
      when: (p) =>
        truthy(p.all) || truthy(p.remove) ||
        (p["prune-backups"] !== undefined && !/^\s*keep-all=1\s*$/.test(String(p["prune-backups"]))),
      cls: "destructive",
      why: "prunes older backups by retention (remove defaults to 1) or backs up every guest",
    }],
  },
  {
    methods: ["PUT", "DELETE"],
    paths: ["/cluster/backup/{id}", "/cluster/ha/rules/{rule}", "/cluster/ha/groups/{group}"],
    cls: "destructive",
    why: "changes or removes a stored job, rule or group whose guests are stored with it",
    undetermined: "the guests of a stored backup job, HA rule or HA group are not named by the call",
    escalate: [BACKUP_HOST],
  },
  {
    methods: ["POST"],
    paths: ["/cluster/backup"],
    cls: "destructive",
    why: "backup jobs run later on their guests and prune their backups",
    mass: vzdumpMass,
    escalate: [BACKUP_HOST],
  },
  {
    methods: ["POST", "PUT"],
    paths: ["/cluster/replication/**"],
    cls: "destructive",
    why: "replication jobs overwrite volumes on the target node",
  },
  {
    methods: ["POST"],
    paths: ["/nodes/{node}/replication/{id}/schedule_now"],
    cls: "write",
    why: "runs an existing replication job now",
  },
  // Node-wide and cluster-wide guest actions.
  {
    methods: ["POST"],
    paths: ["/nodes/{node}/startall", "/cluster/bulk-action/guest/start"],
    cls: "write",
    why: "starts many guests",
    mass: allGuests,
  },
  {
    methods: ["POST"],
    paths: [
      "/nodes/{node}/stopall",
      "/nodes/{node}/suspendall",
      "/nodes/{node}/migrateall",
      "/cluster/bulk-action/guest/shutdown",
      "/cluster/bulk-action/guest/suspend",
      "/cluster/bulk-action/guest/migrate",
    ],
    cls: "destructive",
    why: "stops, suspends or moves many guests at once",
    mass: allGuests,
  },
  {
    methods: ["POST"],
    paths: ["/nodes/{node}/status"],
    cls: "destructive",
    why: "reboots or shuts down the node and all its guests",
    mass: () => "every guest of the node",
  },
  {
    methods: ["POST"],
    paths: ["/cluster/ha/status/arm-ha", "/cluster/ha/status/disarm-ha"],
    cls: "destructive",
    why: "changes HA fencing for the whole cluster",
    mass: () => "every HA-managed guest",
  },
  {
    methods: ["POST", "PUT"],
    paths: ["/cluster/ha/**"],
    cls: "write",
    why: "HA resources, groups and rules (HA starts, stops and moves its guests)",
  },
  // Pools.
  {
    methods: ["POST", "PUT"],
    paths: ["/pools", "/pools/{poolid}"],
    cls: "write",
    why: "pool membership (guests moved in or out are members)",
    escalate: [{
      if: "`delete=1`",
      when: (p) => truthy(p.delete),
      cls: "destructive",
      why: "removes members from a pool",
    }],
  },
  // Storage.
  {
    methods: ["POST", "PUT"],
    paths: ["/storage", "/storage/{storage}"],
    cls: "destructive",
    why: "storage definitions (a new storage can receive every backup; changes can cut guests off their disks)",
    fetches: ["server", "portal"],
  },
  {
    methods: ["POST", "PUT"],
    paths: ["/nodes/{node}/storage/{storage}/content", "/nodes/{node}/storage/{storage}/content/{volume}"],
    cls: "write",
    why: "allocates, copies or annotates a volume",
    escalate: [{
      if: "`protected=0`",
      when: (p) => p.protected !== undefined && !truthy(p.protected),
      cls: "destructive",
      why: "unprotecting a backup lets pruning delete it",
    }],
  },
  {
    methods: ["POST"],
    paths: ["/nodes/{node}/storage/{storage}/upload"],
    cls: "write",
    why: "uploads a file to a storage",
  },
  // Credentials kept by the cluster.
  {
    methods: ["POST", "PUT"],
    paths: ["/cluster/acme/**", "/cluster/metrics/server/**", "/cluster/notifications/endpoints/**"],
    cls: "destructive",
    why: "carries credentials (DNS API keys, tokens, SMTP passwords) and sends data out of the cluster",
    fetches: ["url", "server", "directory"],
  },
  {
    methods: ["POST", "PUT"],
    paths: ["/cluster/notifications/**"],
    cls: "write",
    why: "notification matchers and test messages",
  },
  {
    methods: ["POST", "PUT"],
    paths: ["/access/**", "/cluster/jobs/realm-sync/**"],
    cls: "destructive",
    why: "users, tokens, permissions and realms decide who controls the cluster",
  },
  // Cluster and node infrastructure.
  {
    methods: ["PUT", "POST"],
    paths: ["/cluster/firewall/options", "/nodes/{node}/firewall/options", ...guest("/firewall/options")],
    cls: "destructive",
    why: "firewall options (enable, default policy) can lock everyone out",
  },
  {
    methods: ["POST", "PUT"],
    paths: ["/cluster/firewall/**", "/nodes/{node}/firewall/**", ...guest("/firewall/**")],
    cls: "write",
    why: "firewall rules, groups, aliases and IP sets",
  },
  {
    methods: ["PUT", "POST"],
    paths: ["/cluster/sdn", "/cluster/sdn/rollback"],
    cls: "destructive",
    why: "applies or rolls back the cluster's SDN configuration",
  },
  { methods: ["POST", "PUT"], paths: ["/cluster/sdn/**"], cls: "write", why: "pending SDN changes (applied later)" },
  { methods: ["POST", "PUT"], paths: ["/cluster/mapping/**"], cls: "write", why: "resource mappings" },
  { methods: ["PUT"], paths: ["/cluster/options"], cls: "write", why: "datacenter options" },
  {
    methods: ["POST", "PUT"],
    paths: ["/cluster/config/**", "/cluster/ceph/**", "/nodes/{node}/ceph/**"],
    cls: "destructive",
    why: "cluster membership and Ceph changes can take the cluster or its storage offline",
  },
  {
    methods: ["POST", "PUT"],
    paths: ["/nodes/{node}/disks/**"],
    cls: "destructive",
    why: "disk initialisation and wiping destroy data",
  },
  {
    methods: ["POST", "PUT"],
    paths: [
      "/nodes/{node}/certificates/**",
      "/nodes/{node}/dns",
      "/nodes/{node}/hosts",
      "/nodes/{node}/apt/repositories",
      "/nodes/{node}/subscription",
    ],
    cls: "destructive",
    why: "certificates, name resolution, package sources and subscription keys of the node",
  },
  {
    methods: ["PUT"],
    paths: ["/nodes/{node}/network"],
    cls: "destructive",
    why: "applying network changes can cut the node off",
  },
  {
    methods: ["POST", "PUT"],
    paths: ["/nodes/{node}/network/**"],
    cls: "write",
    why: "pending network changes (applied later)",
  },
  {
    methods: ["POST"],
    paths: ["/nodes/{node}/services/{service}/stop", "/nodes/{node}/services/{service}/restart"],
    cls: "destructive",
    why: "stopping a node service can cut off the API or guests",
  },
  {
    methods: ["POST", "PUT"],
    paths: [
      "/nodes/{node}/services/{service}/start",
      "/nodes/{node}/services/{service}/reload",
      "/nodes/{node}/config",
      "/nodes/{node}/time",
      "/nodes/{node}/wakeonlan",
      "/nodes/{node}/aplinfo",
      "/nodes/{node}/apt/update",
    ],
    cls: "write",
    why: "node settings, service start, wake-on-LAN, template and package index downloads",
  },
  {
    methods: ["DELETE"],
    paths: ["/**"],
    cls: "destructive",
    why: "DELETE removes or stops something",
  },
];

/** True when `template` is named by `pattern` (exact, or below a `/**` pattern). */
export function pathMatches(pattern: string, template: string): boolean {
  if (!pattern.endsWith("/**")) return pattern === template;
  const base = pattern.slice(0, -3);
  return template === base || template.startsWith(`${base}/`) || base === "";
}

/** The row that decides a call, if any. */
export function ruleFor(method: PveMethod, template: string): RawRule | undefined {
  return RAW_RULES.find((r) => r.methods.includes(method) && r.paths.some((p) => pathMatches(p, template)));
}

/**
 * Classifies a raw call by method, path template and parameters (with the schema's defaults applied). A GET no row
 * names is a read; any other call no row names is refused.
 */
export function classifyRaw(method: PveMethod, template: string | undefined, params: Params = {}): RawClass {
  if (template === undefined) {
    return { cls: "destructive", why: "unknown endpoint", refuse: "the endpoint is not in the schema", fetches: [] };
  }
  const rule = ruleFor(method, template);
  if (!rule) {
    return method === "GET" ? { cls: "read", why: "GET only reads", fetches: [] } : {
      cls: "destructive",
      why: "not on the reviewed list of raw endpoints",
      refuse: `${method} ${template} has not been reviewed for pve_api; use a named tool or ask the operator`,
      fetches: [],
    };
  }
  const up = rule.escalate?.find((e) => e.when(params));
  const verdict = up?.cls ?? rule.cls;
  const why = up?.why ?? rule.why;
  const mass = rule.mass?.(params);
  const out: RawClass = {
    cls: verdict === "refused" ? (method === "GET" ? "read" : "destructive") : verdict,
    why,
    fetches: rule.fetches ?? [],
  };
  if (verdict === "refused") out.refuse = `${why}; ${rule.instead ?? "not available through pve_api"}`;
  if (mass !== undefined) out.mass = mass;
  if (rule.undetermined !== undefined) out.undetermined = rule.undetermined;
  return out;
}
