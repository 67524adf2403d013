/**
 * The row types of the reviewed raw API table and the rows about guests: refusals (consoles, commands, data read out of
 * guests or backups), URL fetching, guest actions, backups and jobs. Node-, pool-, storage-, credential- and
 * infrastructure-wide rows are in raw_rules_infra.ts; src/tools/raw_classes.ts joins them in order and classifies.
 * @module
 */
import type { CallClass } from "../core/mod.ts";
import type { PveMethod } from "../pve/types.ts";
import { truthy } from "./raw_refs.ts";

/** A row's verdict. */
export type RawVerdict = CallClass | "refused";

/** A call's parameters, with the schema's defaults applied. */
export type Params = Readonly<Record<string, unknown>>;

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

/** Every method. */
const ANY: readonly PveMethod[] = ["GET", "POST", "PUT", "DELETE"];
/** The same tails under qemu and lxc guests. */
export const guest = (...tails: string[]) =>
  tails.flatMap((t) => [`/nodes/{node}/qemu/{vmid}${t}`, `/nodes/{node}/lxc/{vmid}${t}`]);
/** What to use instead of raw guest-agent calls. */
const AGENT = "use the agent toolset, which applies the operator's agent policy (opt-in guests, allowed programs)";
/** Why consoles are refused. */
const CONSOLE = "interactive consoles, shells and login tickets are not available to the model";
/** A bulk action without `vms` acts on every guest. */
export const allGuests = (p: Params) => (p.vms === undefined ? "no `vms` list: every guest" : undefined);
/** vzdump naming no guests one by one. */
const vzdumpMass = (p: Params) =>
  truthy(p.all)
    ? "all=1 backs up every guest"
    : p.pool !== undefined
    ? "pool= backs up every guest of a pool"
    : undefined;
/** Raw QEMU arguments and hook scripts are refused. */
const HOOKS: RawEscalation = {
  if: "`args` or `hookscript`",
  when: (p) => p.args !== undefined || p.hookscript !== undefined,
  cls: "refused",
  why: "raw QEMU arguments and hook scripts run code on the host",
};
/** Backup options that reach the host are refused. */
const BACKUP_HOST: RawEscalation = {
  if: "`script`, `dumpdir`, `tmpdir` or `stdout`",
  when: (p) => ["script", "dumpdir", "tmpdir", "stdout"].some((k) => p[k] !== undefined),
  cls: "refused",
  why: "hook scripts run programs on the host; host directories and stdout bypass the storage",
};

/** Rows about guests, first in the table (order matters: the first match decides). */
export const GUEST_RULES: readonly RawRule[] = [
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
];
