/**
 * Firewall tools for the cluster, a node or a guest: rules, options, aliases, IP sets and security groups (read),
 * and their changes (rule add/update/delete, options, alias and IP set entries).
 * @module
 */
import { type ChangePlan, type Effect, effect } from "../core/mod.ts";
import { z } from "zod";
import { defineTool, type ToolContext } from "./registry.ts";
import { NodeName, VmId } from "../guard/schemas.ts";
import { pvePath } from "../pve/encode.ts";
import {
  cell,
  checkParams,
  Fields,
  InfoOut,
  infoText,
  need,
  type Params,
  READ,
  scalarFields,
  table,
} from "./infra_common.ts";

type Obj = Record<string, unknown>;

/** Where a firewall lives: concrete base path, contract template, path parameters and a label. */
export interface FirewallScope {
  base: string;
  template: string;
  pathParams: Params;
  label: string;
  kind: "cluster" | "node" | "guest";
}

/** Resolves the scope: vmid → that guest, node → that node, neither → the cluster. */
export async function firewallScope(
  args: { node?: string | undefined; vmid?: number | undefined },
  ctx: ToolContext,
): Promise<FirewallScope> {
  if (args.vmid !== undefined) {
    const ref = await ctx.resolveGuest(args.vmid);
    return {
      base: `/nodes/${ref.node}/${ref.type}/${ref.vmid}/firewall`,
      template: `/nodes/{node}/${ref.type}/{vmid}/firewall`,
      pathParams: { node: ref.node, vmid: ref.vmid },
      label: `${ref.type} ${ref.vmid} "${ref.name}"`,
      kind: "guest",
    };
  }
  if (args.node !== undefined) {
    return {
      base: `/nodes/${args.node}/firewall`,
      template: "/nodes/{node}/firewall",
      pathParams: { node: args.node },
      label: `node ${args.node}`,
      kind: "node",
    };
  }
  return {
    base: "/cluster/firewall",
    template: "/cluster/firewall",
    pathParams: {},
    label: "cluster",
    kind: "cluster",
  };
}

const RULE_COLUMNS = [
  "pos",
  "type",
  "action",
  "macro",
  "iface",
  "source",
  "dest",
  "proto",
  "dport",
  "sport",
  "log",
  "enable",
  "comment",
];

const IpsetName = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{1,63}$/, "must be a name like web_servers");

/** `firewall_info`: rules, options, aliases, IP sets or security groups of the cluster, a node or a guest. */
export const firewallInfo = defineTool({
  name: "firewall_info",
  title: "Firewall info",
  description:
    "Scope: vmid, node, or neither (cluster). view rules|options|aliases|ipsets|groups; name: entries of an IP set or rules of a group.",
  toolset: "firewall",
  annotations: READ,
  privileges: ["Sys.Audit", "VM.Audit"],
  input: z.object({
    vmid: VmId.optional(),
    node: NodeName.optional(),
    view: z.enum(["rules", "options", "aliases", "ipsets", "groups"]).default("rules"),
    name: IpsetName.optional(),
  }).strict(),
  output: InfoOut,
  async handler(args, ctx) {
    const scope = await firewallScope(args, ctx);
    const get = async <T>(path: string) => (await ctx.pve.request<T>({ method: "GET", path, signal: ctx.signal })).data;
    if (args.view === "options") {
      const d = await get<Obj>(`${scope.base}/options`);
      const info: Obj = {};
      for (const [k, v] of Object.entries(d)) if (k !== "digest") info[k] = cell(v);
      return { info };
    }
    if (args.view === "rules") {
      const rows = await get<Obj[]>(`${scope.base}/rules`);
      return { total: rows.length, ...table(rows, RULE_COLUMNS) };
    }
    if (scope.kind === "node") {
      throw new TypeError(`Cannot show ${args.view} of ${scope.label}: nodes have only rules and options`);
    }
    if (args.view === "groups") {
      if (scope.kind !== "cluster") {
        throw new TypeError("Cannot show groups of a guest: security groups are cluster-wide");
      }
      if (args.name) {
        const rows = await get<Obj[]>(`/cluster/firewall/groups/${args.name}`);
        return { total: rows.length, ...table(rows, RULE_COLUMNS) };
      }
      const rows = await get<Obj[]>("/cluster/firewall/groups");
      return { total: rows.length, ...table(rows, ["group", "comment"]) };
    }
    if (args.view === "aliases") {
      const rows = await get<Obj[]>(`${scope.base}/aliases`);
      return { total: rows.length, ...table(rows, ["name", "cidr", "comment"]) };
    }
    if (args.name) {
      const rows = await get<Obj[]>(`${scope.base}/ipset/${args.name}`);
      return { total: rows.length, ...table(rows, ["cidr", "nomatch", "comment"]) };
    }
    const rows = await get<Obj[]>(`${scope.base}/ipset`);
    return { total: rows.length, ...table(rows, ["name", "comment"]) };
  },
  text: (o) => infoText(o),
});

const ACTIONS = [
  "rule_add",
  "rule_update",
  "rule_delete",
  "options_set",
  "alias_add",
  "alias_update",
  "alias_delete",
  "ipset_create",
  "ipset_delete",
  "ipset_add",
  "ipset_remove",
] as const;

const changeInput = z.object({
  action: z.enum(ACTIONS),
  vmid: VmId.optional(),
  node: NodeName.optional(),
  pos: z.number().int().min(0).max(100000).optional(),
  name: IpsetName.optional(),
  cidr: z.string().max(128).optional(),
  comment: z.string().max(512).optional(),
  fields: Fields.optional().describe(
    "rule: type action macro source dest proto dport sport iface log enable; or options",
  ),
}).strict();
type ChangeArgs = z.infer<typeof changeInput>;

const DELETES = new Set<string>(["rule_delete", "alias_delete", "ipset_delete", "ipset_remove"]);

/** Options whose change can cut traffic off: turning the firewall on/off or changing a default policy. */
function riskyOptions(fields: Record<string, unknown> | undefined): string[] {
  return Object.keys(fields ?? {}).filter((k) => k === "enable" || k.startsWith("policy_"));
}

/** Class of a firewall change: deletes and options that can cut traffic off are destructive. */
export function firewallClass(args: ChangeArgs): "write" | "destructive" {
  if (DELETES.has(args.action)) return "destructive";
  if (args.action === "options_set" && riskyOptions(args.fields).length) return "destructive";
  return "write";
}

interface Req {
  method: "POST" | "PUT" | "DELETE";
  path: string;
  template: string;
  params: Params;
  pathParams: Params;
}

/** The request a change makes (checked against the contract before it is sent). */
export function changeRequest(args: ChangeArgs, scope: FirewallScope): Req {
  const a = `firewall_change ${args.action}`;
  const fields = scalarFields(args.fields, a);
  const withComment = (p: Params): Params => (args.comment !== undefined ? { ...p, comment: args.comment } : p);
  const r = (method: Req["method"], sub: string, params: Params, extra: Params = {}): Req => {
    let path = `${scope.base}${sub}`;
    for (const [k, v] of Object.entries(extra)) {
      // `{cidr}` is the path's last parameter: PVE reads the rest of the path as its value, so `10.0.0.0/24` keeps
      // its slash as a separator (pieces are checked by pvePath: no empty, `.` or `..` segments).
      const value = k === "cidr" ? pvePath(...String(v).split("/")).slice(1) : encodeURIComponent(String(v));
      path = path.replace(`{${k}}`, value);
    }
    return { method, path, template: `${scope.template}${sub}`, params, pathParams: { ...scope.pathParams, ...extra } };
  };
  const pos = () => args.pos ?? need("pos", a);
  const name = () => args.name ?? need("name", a);
  const cidr = () => args.cidr ?? need("cidr", a);
  if ((args.action.startsWith("alias") || args.action.startsWith("ipset")) && scope.kind === "node") {
    throw new TypeError(
      `Cannot run ${a} on ${scope.label}: nodes have no aliases or IP sets (use the cluster or a guest)`,
    );
  }
  switch (args.action) {
    case "rule_add":
      // PVE adds a rule disabled unless told otherwise; a rule the model adds is meant to work.
      return r(
        "POST",
        "/rules",
        withComment({ enable: 1, ...fields, ...(args.pos !== undefined ? { pos: args.pos } : {}) }),
      );
    case "rule_update":
      return r("PUT", "/rules/{pos}", withComment(fields), { pos: pos() });
    case "rule_delete":
      return r("DELETE", "/rules/{pos}", {}, { pos: pos() });
    case "options_set":
      if (!Object.keys(fields).length) need("fields (the options to set)", a);
      return r("PUT", "/options", fields);
    case "alias_add":
      return r("POST", "/aliases", withComment({ name: name(), cidr: cidr() }));
    case "alias_update":
      return r("PUT", "/aliases/{name}", withComment({ cidr: cidr(), ...fields }), { name: name() });
    case "alias_delete":
      return r("DELETE", "/aliases/{name}", {}, { name: name() });
    case "ipset_create":
      return r("POST", "/ipset", withComment({ name: name() }));
    case "ipset_delete":
      return r("DELETE", "/ipset/{name}", {}, { name: name() });
    case "ipset_add":
      return r("POST", "/ipset/{name}", withComment({ cidr: cidr(), ...fields }), { name: name() });
    case "ipset_remove":
      return r("DELETE", "/ipset/{name}/{cidr}", {}, { name: name(), cidr: cidr() });
  }
}

function describe(row: Obj | undefined): string {
  if (!row) return "not found";
  return Object.entries(row).filter(([k, v]) => k !== "digest" && v !== undefined && v !== "")
    .map(([k, v]) => `${k}=${cell(v)}`).join(" ");
}

async function changePlan(args: ChangeArgs, ctx: ToolContext): Promise<ChangePlan> {
  const scope = await firewallScope(args, ctx);
  const req = changeRequest(args, scope);
  const get = async <T>(path: string) => (await ctx.pve.request<T>({ method: "GET", path, signal: ctx.signal })).data;
  let current = "";
  let effect = "";
  switch (args.action) {
    case "rule_delete": {
      const rules = await get<Obj[]>(`${scope.base}/rules`);
      current = `rule ${args.pos}: ${describe(rules.find((x) => Number(x.pos) === args.pos))}; ${rules.length} rules`;
      effect = "the rule is removed; traffic it matched falls through to later rules and the default policy";
      break;
    }
    case "alias_delete": {
      const rows = await get<Obj[]>(`${scope.base}/aliases`);
      current = describe(rows.find((x) => x.name === args.name));
      effect = "the alias is removed; rules or IP sets that use it stop working until fixed";
      break;
    }
    case "ipset_delete": {
      const rows = await get<Obj[]>(`${scope.base}/ipset/${args.name}`).catch(() => undefined);
      current = rows ? `${rows.length} entries` : "not found";
      effect = "the IP set is removed; rules that use it stop matching";
      break;
    }
    case "ipset_remove": {
      const rows = await get<Obj[]>(`${scope.base}/ipset/${args.name}`).catch(() => [] as Obj[]);
      current = describe(rows.find((x) => x.cidr === args.cidr));
      effect = `the address is removed from IP set ${args.name}`;
      break;
    }
    default: {
      const opts = await get<Obj>(`${scope.base}/options`);
      current = riskyOptions(args.fields).map((k) => `${k}=${cell(opts[k]) ?? "(default)"}`).join(" ");
      effect = `set ${describe(args.fields)}: enabling the firewall or changing a default policy can cut off traffic`;
    }
  }
  return { action: `firewall ${args.action}`, target: `${scope.label}: ${req.path}`, current, effect };
}

/**
 * A guest's firewall touches that guest, a node's that node; the cluster's rules, options, aliases and IP sets reach
 * every node and guest (guest rules use its aliases and IP sets), so they count as acting on many guests.
 */
export function firewallEffect(args: ChangeArgs): Effect {
  const cls = firewallClass(args);
  if (args.vmid !== undefined) return effect({ cls, guests: [{ vmid: args.vmid, role: "target" }] });
  if (args.node !== undefined) return effect({ cls, nodes: [args.node] });
  return effect({ cls, mass: "the cluster firewall applies to every node and guest" });
}

/** `firewall_change`: changes firewall rules, options, aliases and IP sets of the cluster, a node or a guest. */
export const firewallChange = defineTool({
  name: "firewall_change",
  title: "Firewall change",
  description:
    "Scope as firewall_info. rule_add needs fields type (in|out|group) and action (ACCEPT|DROP|REJECT|group); it is enabled unless enable=0. Deletes and options enable/policy_* are destructive.",
  toolset: "firewall",
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  privileges: ["Sys.Modify", "VM.Config.Network"],
  input: changeInput,
  output: z.object({ done: z.string(), path: z.string() }),
  effect: firewallEffect,
  plan: changePlan,
  async handler(args, ctx) {
    const scope = await firewallScope(args, ctx);
    const req = changeRequest(args, scope);
    checkParams(req.method, req.template, req.params, req.pathParams);
    await ctx.pveWrite.request({ method: req.method, path: req.path, params: req.params, signal: ctx.signal });
    return { done: `${args.action} on ${scope.label}`, path: req.path };
  },
  text: (o) => `Done: ${o.done} (${o.path})`,
});
