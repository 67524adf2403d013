/**
 * The ONE table that classifies raw API calls (`pve_api`): GET is a read; every other method is a write unless a rule
 * below makes it destructive (admin mode + human confirmation) or refuses it outright. Rules match the endpoint's
 * path TEMPLATE from the contract (`/nodes/{node}/qemu/{vmid}/status/stop`), so encoding tricks in the concrete path
 * cannot dodge them. When in doubt a rule errs towards "destructive".
 * @module
 */
import { type CallClass } from "../core/mod.ts";
import type { PveMethod } from "../pve/types.ts";

/** What the table says about one call. */
export interface RawClass {
  cls: CallClass;
  /** Why the call has this class (shown in denials, plans and the matrix test). */
  why: string;
  /** Set when the raw tool must never send the call; says what to use instead. */
  refuse?: string;
  /** True when the call acts on many guests at once (a node or cluster-wide power/migration action). */
  mass?: boolean;
}

type Params = Readonly<Record<string, unknown>>;

interface Rule {
  /** Methods the rule applies to; only refusals name GET (a GET is otherwise always a read). */
  methods: readonly PveMethod[] | "writes";
  /** Anchored pattern over the path template. */
  path: RegExp;
  /** Extra condition on the parameters (e.g. `delete=1`). */
  when?: (params: Params) => boolean;
  why: string;
  refuse?: string;
  mass?: true;
}

const truthy = (v: unknown) => v !== undefined && v !== null && v !== "" && v !== 0 && v !== "0" && v !== false;
const GUEST = String.raw`/nodes/\{node\}/(?:qemu|lxc)/\{vmid\}`;
const AGENT_TOOLS =
  "use the agent toolset, which applies the operator's agent policy (opt-in guests, allowed programs)";
const CONSOLE = "interactive consoles and login tickets are not available through pve_api";

/**
 * Refusals first, then destructive rules; the first match wins. Exported for the policy matrix test and docs.
 */
export const RAW_RULES: readonly Rule[] = [
  // Never through the raw tool.
  {
    methods: ["GET"],
    path: /^\/nodes\/\{node\}\/qemu\/\{vmid\}\/agent\/(?:file-read|exec-status)$/,
    why: "reads files or program output inside a guest",
    refuse: AGENT_TOOLS,
  },
  {
    methods: "writes",
    path: /^\/nodes\/\{node\}\/qemu\/\{vmid\}\/agent(?:\/(?:exec|file-write|set-user-password))?$/,
    why: "guest agent command",
    refuse: AGENT_TOOLS,
  },
  {
    methods: "writes",
    path: /^\/nodes\/\{node\}\/execute$/,
    why: "batch of arbitrary API calls",
    refuse: "send the calls one by one so each is classified",
  },
  {
    methods: "writes",
    path:
      /^(?:\/nodes\/\{node\}|\/nodes\/\{node\}\/(?:qemu|lxc)\/\{vmid\})\/(?:termproxy|vncproxy|spiceproxy|vncshell|spiceshell)$/,
    why: "console ticket",
    refuse: CONSOLE,
  },
  { methods: "writes", path: /^\/access\/(?:ticket|vncticket|openid\/.*)$/, why: "login ticket", refuse: CONSOLE },
  { methods: "writes", path: /\/mtunnel$/, why: "migration tunnel internals", refuse: "use the migrate endpoints" },

  // Destructive: gone or hard to undo.
  { methods: ["DELETE"], path: /^\//, why: "DELETE removes or stops something" },
  {
    methods: ["POST"],
    path: new RegExp(`^${GUEST}/status/(?:stop|reset)$`),
    why: "hard power-off or reset of a guest",
  },
  {
    methods: ["POST"],
    path: new RegExp(`^${GUEST}/snapshot/\\{snapname\\}/rollback$`),
    why: "rollback discards the guest's current state",
  },
  { methods: ["POST"], path: new RegExp(`^${GUEST}/template$`), why: "converting to a template cannot be undone" },
  { methods: ["PUT"], path: /^\/nodes\/\{node\}\/qemu\/\{vmid\}\/unlink$/, why: "unlink deletes disk images" },
  {
    methods: ["POST", "PUT"],
    path: new RegExp(`^${GUEST}/(?:config|snapshot/\\{snapname\\}/config)$`),
    when: (p) => truthy(p.delete),
    why: "removing config keys can delete unused disks",
  },
  {
    methods: ["POST"],
    path: new RegExp(`^${GUEST}/(?:move_disk|move_volume)$`),
    when: (p) => truthy(p.delete),
    why: "moving with delete=1 removes the source volume",
  },
  {
    methods: ["POST"],
    path: /^\/nodes\/\{node\}\/(?:qemu|lxc)$/,
    when: (p) => truthy(p.archive) || truthy(p.force) || truthy(p.restore),
    why: "restore/force overwrites an existing guest",
  },
  {
    methods: ["POST"],
    path: /^\/nodes\/\{node\}\/vzdump$/,
    when: (p) => truthy(p.remove),
    why: "remove=1 prunes older backups",
  },
  {
    methods: ["PUT", "POST"],
    path: new RegExp(`^${GUEST}/(?:sendkey|monitor)$`),
    why: "keystrokes or monitor commands act inside the guest",
  },
  {
    methods: ["POST"],
    path: /^\/nodes\/\{node\}\/(?:stopall|suspendall|migrateall)$/,
    why: "acts on every guest of the node",
    mass: true,
  },
  {
    methods: ["POST"],
    path: /^\/nodes\/\{node\}\/status$/,
    why: "reboots or shuts down the node and all its guests",
    mass: true,
  },
  {
    methods: ["POST"],
    path: /^\/cluster\/bulk-action\/guest\/(?:shutdown|suspend|migrate)$/,
    why: "acts on many guests at once",
    mass: true,
  },
  {
    methods: ["POST"],
    path: /^\/cluster\/ha\/status\/(?:arm|disarm)-ha$/,
    why: "changes HA fencing for the whole cluster",
    mass: true,
  },
  {
    methods: ["POST"],
    path: /^\/nodes\/\{node\}\/services\/\{service\}\/(?:stop|restart)$/,
    why: "stopping a node service can cut off the API or guests",
  },
  { methods: ["PUT"], path: /^\/nodes\/\{node\}\/network$/, why: "applying network changes can cut the node off" },
  {
    methods: ["PUT", "POST"],
    path: /^\/cluster\/sdn(?:\/rollback)?$/,
    why: "applies or rolls back the cluster's SDN configuration",
  },
  { methods: ["PUT", "POST"], path: /^\/nodes\/\{node\}\/disks\//, why: "disk initialisation and wiping destroy data" },
  {
    methods: ["PUT", "POST"],
    path: /^\/access\//,
    why: "users, tokens, permissions and realms decide who controls the cluster",
  },
  {
    methods: ["PUT", "POST"],
    path: /\/firewall\/options$/,
    why: "firewall options (enable, default policy) can lock everyone out",
  },
  { methods: ["PUT", "POST"], path: /^\/cluster\/config(?:\/|$)/, why: "cluster membership changes" },
  {
    methods: ["PUT", "POST"],
    path: /^\/(?:nodes\/\{node\}|cluster)\/ceph(?:\/|$)/,
    why: "Ceph changes can take storage offline",
  },
  {
    methods: ["PUT", "POST"],
    path: /^\/nodes\/\{node\}\/certificates\//,
    why: "replacing certificates breaks pinned clients",
  },
  { methods: ["PUT", "POST"], path: /^\/nodes\/\{node\}\/(?:dns|hosts)$/, why: "name resolution of the node" },
  {
    methods: ["POST", "PUT"],
    path: /^\/pools(?:\/\{poolid\})?$/,
    when: (p) => truthy(p.delete),
    why: "removes members from a pool",
  },
];

function applies(rule: Rule, method: PveMethod): boolean {
  return rule.methods === "writes" ? method !== "GET" : (rule.methods as readonly string[]).includes(method);
}

/**
 * Classifies a raw call by method, path template and parameters. GET is always a read (a few GETs are refused: they
 * read inside guests, which only the agent tools may do under the operator's agent policy); a non-GET call no rule
 * names is a write. Unknown templates of a write are destructive (the raw tool refuses them anyway).
 */
export function classifyRaw(method: PveMethod, template: string | undefined, params: Params = {}): RawClass {
  if (method === "GET") {
    const refused = template === undefined
      ? undefined
      : RAW_RULES.find((r) => r.refuse && applies(r, method) && r.path.test(template));
    return refused
      ? { cls: "read", why: refused.why, refuse: refused.refuse! }
      : { cls: "read", why: "GET only reads" };
  }
  if (template === undefined) return { cls: "destructive", why: "unknown endpoint" };
  for (const rule of RAW_RULES) {
    if (!applies(rule, method) || !rule.path.test(template) || (rule.when && !rule.when(params))) continue;
    return {
      cls: "destructive",
      why: rule.why,
      ...(rule.refuse ? { refuse: rule.refuse } : {}),
      ...(rule.mass ? { mass: true } : {}),
    };
  }
  return { cls: "write", why: `${method} changes the cluster without destroying anything` };
}

const VOLUME_VMID = /(?:^|[:/])(?:vm|base|subvol|basevol)-(\d{3,9})-|vzdump-(?:qemu|lxc)-(\d{3,9})-/;

/**
 * The guest a raw call touches, for guest selectors and protected guests: the `{vmid}` path segment, a `vmid`
 * parameter, an HA resource id (`vm:105`), a replication job id (`105-0`), or a volume id naming a guest's disk or
 * backup (`local-lvm:vm-105-disk-0`).
 */
export function rawTarget(pathParams: Readonly<Record<string, string>>, params: Params = {}): number | undefined {
  const num = (v: unknown) => {
    const n = Number(v);
    return Number.isInteger(n) && n >= 100 ? n : undefined;
  };
  if (pathParams.vmid !== undefined) return num(pathParams.vmid);
  if (params.vmid !== undefined) return num(params.vmid);
  const sid = pathParams.sid ?? (typeof params.sid === "string" ? params.sid : undefined);
  if (sid !== undefined) {
    const m = /^(?:(?:vm|ct):)?(\d+)$/.exec(sid);
    if (m) return num(m[1]);
  }
  const job = pathParams.id ?? (typeof params.id === "string" ? params.id : undefined);
  if (job !== undefined && /^\d+-\d+$/.test(job)) return num(job.split("-")[0]);
  const volume = pathParams.volume ?? (typeof params.volume === "string" ? params.volume : undefined);
  if (volume !== undefined) {
    const m = VOLUME_VMID.exec(volume);
    if (m) return num(m[1] ?? m[2]);
  }
  return undefined;
}
