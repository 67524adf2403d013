/**
 * Firewall endpoints for the cluster, nodes and guests: rules, options, aliases, IP sets and security groups, with
 * PVE's checks (unknown actions, groups, IP sets and aliases; duplicate names; non-empty IP sets; digests).
 * @module
 */
import { guestOf, int, nodeOf, type SimContext, SimError, type SimRoute, str } from "../router.ts";
import { digestOf, type FwConf, type FwRule, infraOf, newFw } from "./infra_state.ts";

type Obj = Record<string, unknown>;

const RULE_KEYS = [
  "type",
  "action",
  "macro",
  "source",
  "dest",
  "proto",
  "dport",
  "sport",
  "iface",
  "log",
  "icmp-type",
  "comment",
] as const;
const MACROS = new Set([
  "SSH",
  "HTTP",
  "HTTPS",
  "DNS",
  "Ping",
  "SMTP",
  "NTP",
  "SNMP",
  "Ceph",
  "RDP",
  "MySQL",
  "PostgreSQL",
  "Web",
]);
const ACTIONS = new Set(["ACCEPT", "DROP", "REJECT"]);

/** The firewall configuration the request addresses (created empty for a guest on first use). */
function confOf(ctx: SimContext): { conf: FwConf; kind: "cluster" | "node" | "guest" } {
  const infra = infraOf(ctx.sim.state);
  if (ctx.params.vmid !== undefined) {
    const g = guestOf(ctx, ctx.endpoint.path.includes("/lxc/") ? "lxc" : "qemu");
    const key = `guest/${g.vmid}`;
    let conf = infra.firewall.get(key);
    if (!conf) infra.firewall.set(key, conf = newFw({ enable: 0 }));
    return { conf, kind: "guest" };
  }
  if (ctx.params.node !== undefined) {
    const n = nodeOf(ctx);
    const key = `node/${n.name}`;
    let conf = infra.firewall.get(key);
    if (!conf) infra.firewall.set(key, conf = newFw({ enable: 1 }));
    return { conf, kind: "node" };
  }
  return { conf: infra.firewall.get("cluster")!, kind: "cluster" };
}

function digest(conf: FwConf): string {
  return digestOf({ o: conf.options, r: conf.rules, a: conf.aliases, i: conf.ipsets, s: conf.serial });
}

/** Refuses a change when the caller passed a digest of an older configuration. */
function checkDigest(ctx: SimContext, current: string): void {
  const given = str(ctx, "digest");
  if (given !== undefined && given !== current) {
    throw new SimError(500, "detected modified configuration - file changed by other user? Try again.");
  }
}

function changed(ctx: SimContext, conf: FwConf): null {
  conf.serial++;
  ctx.sim.state.touch();
  return null;
}

function listRules(rules: FwRule[], d: string): Obj[] {
  return rules.map((r, pos) => ({ pos, ...r, digest: d, ...(r.enable === undefined ? {} : { enable: r.enable }) }));
}

/** PVE's rule checks (pve-firewall verify_rule, the parts a client can trip over). */
function verifyRule(ctx: SimContext, rule: FwRule, conf: FwConf): void {
  const infra = infraOf(ctx.sim.state);
  const cluster = infra.firewall.get("cluster")!;
  if (rule.type === "group") {
    if (!infra.securityGroups.has(rule.action)) {
      throw new SimError(500, `security group '${rule.action}' does not exist`);
    }
  } else if (!ACTIONS.has(rule.action)) {
    throw new SimError(400, "Parameter verification failed.", { action: `unknown action '${rule.action}'` });
  }
  if (rule.macro !== undefined && !MACROS.has(rule.macro)) {
    throw new SimError(400, "Parameter verification failed.", { macro: `unknown macro '${rule.macro}'` });
  }
  for (const key of ["source", "dest"] as const) {
    const v = rule[key];
    if (v === undefined) continue;
    const set = /^\+(?:(?:dc|guest)\/)?([A-Za-z][\w-]*)$/.exec(v)?.[1];
    if (set !== undefined && !conf.ipsets.has(set) && !cluster.ipsets.has(set)) {
      throw new SimError(400, "Parameter verification failed.", { [key]: `no such ipset '${set}'` });
    }
    if (/^[A-Za-z][\w-]*$/.test(v) && !conf.aliases.has(v.toLowerCase()) && !cluster.aliases.has(v.toLowerCase())) {
      throw new SimError(400, "Parameter verification failed.", { [key]: `no such alias '${v}'` });
    }
  }
  if ((rule.dport !== undefined || rule.sport !== undefined) && rule.proto === undefined && rule.macro === undefined) {
    throw new SimError(400, "Parameter verification failed.", {
      proto: "missing property - 'dport' requires a protocol",
    });
  }
}

function copyRule(ctx: SimContext, into: FwRule): void {
  for (const k of RULE_KEYS) {
    const v = str(ctx, k);
    if (v !== undefined) (into as unknown as Record<string, string>)[k] = v;
  }
  const enable = int(ctx, "enable");
  if (enable !== undefined) into.enable = enable;
}

function ruleAt(rules: FwRule[], ctx: SimContext): FwRule {
  const pos = int(ctx, "pos") ?? -1;
  const r = rules[pos];
  if (!r) throw new SimError(500, `no rule at position ${pos}`);
  return r;
}

function rulesOf(ctx: SimContext): { rules: FwRule[]; conf: FwConf } {
  const group = str(ctx, "group");
  if (group !== undefined) {
    const g = infraOf(ctx.sim.state).securityGroups.get(group);
    if (!g) throw new SimError(500, `no such security group '${group}'`);
    return { rules: g.rules, conf: infraOf(ctx.sim.state).firewall.get("cluster")! };
  }
  const { conf } = confOf(ctx);
  return { rules: conf.rules, conf };
}

const getRules = (ctx: SimContext) => {
  const { rules, conf } = rulesOf(ctx);
  return listRules(rules, digest(conf));
};

function getRule(ctx: SimContext): Obj {
  const { rules, conf } = rulesOf(ctx);
  const r = ruleAt(rules, ctx);
  return { pos: rules.indexOf(r), ...r, digest: digest(conf) };
}

function addRule(ctx: SimContext): null {
  const { rules, conf } = rulesOf(ctx);
  checkDigest(ctx, digest(conf));
  const rule = {} as FwRule;
  copyRule(ctx, rule);
  verifyRule(ctx, rule, conf);
  if (rule.enable === undefined) rule.enable = 0; // PVE adds rules disabled unless told otherwise
  const pos = int(ctx, "pos");
  if (pos !== undefined && pos < rules.length) rules.splice(pos, 0, rule);
  else if (pos !== undefined) rules.push(rule);
  else rules.unshift(rule);
  return changed(ctx, conf);
}

function updateRule(ctx: SimContext): null {
  const { rules, conf } = rulesOf(ctx);
  checkDigest(ctx, digest(conf));
  const rule = ruleAt(rules, ctx);
  const next = { ...rule };
  for (const k of (str(ctx, "delete") ?? "").split(/[,;\s]+/).filter(Boolean)) delete (next as Obj)[k];
  copyRule(ctx, next);
  verifyRule(ctx, next, conf);
  const from = rules.indexOf(rule);
  rules[from] = next;
  const moveto = int(ctx, "moveto");
  if (moveto !== undefined) {
    rules.splice(from, 1);
    rules.splice(Math.min(moveto, rules.length), 0, next);
  }
  return changed(ctx, conf);
}

function deleteRule(ctx: SimContext): null {
  const { rules, conf } = rulesOf(ctx);
  checkDigest(ctx, digest(conf));
  rules.splice(rules.indexOf(ruleAt(rules, ctx)), 1);
  return changed(ctx, conf);
}

function getOptions(ctx: SimContext): Obj {
  const { conf } = confOf(ctx);
  return { ...conf.options, digest: digest(conf) };
}

function setOptions(ctx: SimContext): null {
  const { conf } = confOf(ctx);
  checkDigest(ctx, digest(conf));
  for (const k of (str(ctx, "delete") ?? "").split(/[,;\s]+/).filter(Boolean)) delete conf.options[k];
  for (const [k, v] of Object.entries(ctx.params)) {
    if (["node", "vmid", "digest", "delete"].includes(k) || v === undefined || v === null) continue;
    conf.options[k] = typeof v === "boolean" ? (v ? 1 : 0) : /^\d+$/.test(String(v)) ? Number(v) : String(v);
  }
  return changed(ctx, conf);
}

function listAliases(ctx: SimContext): Obj[] {
  const { conf } = confOf(ctx);
  const d = digest(conf);
  return [...conf.aliases].map(([name, a]) => ({ name, ...a, digest: d }));
}

function aliasName(ctx: SimContext): string {
  return (str(ctx, "name") ?? "").toLowerCase();
}

function addAlias(ctx: SimContext): null {
  const { conf } = confOf(ctx);
  const name = aliasName(ctx);
  if (conf.aliases.has(name)) throw new SimError(500, `alias '${name}' already exists`);
  const comment = str(ctx, "comment");
  conf.aliases.set(name, { cidr: str(ctx, "cidr") ?? "", ...(comment ? { comment } : {}) });
  return changed(ctx, conf);
}

function updateAlias(ctx: SimContext): null {
  const { conf } = confOf(ctx);
  checkDigest(ctx, digest(conf));
  const name = aliasName(ctx);
  const a = conf.aliases.get(name);
  if (!a) throw new SimError(500, `no such alias '${name}'`);
  const comment = str(ctx, "comment");
  const next = { cidr: str(ctx, "cidr") ?? a.cidr, ...(comment ?? a.comment ? { comment: comment ?? a.comment } : {}) };
  const rename = str(ctx, "rename")?.toLowerCase();
  if (rename !== undefined && rename !== name) {
    if (conf.aliases.has(rename)) throw new SimError(500, `alias '${rename}' already exists`);
    conf.aliases.delete(name);
    conf.aliases.set(rename, next);
  } else conf.aliases.set(name, next as { cidr: string; comment?: string });
  return changed(ctx, conf);
}

function deleteAlias(ctx: SimContext): null {
  const { conf } = confOf(ctx);
  checkDigest(ctx, digest(conf));
  conf.aliases.delete(aliasName(ctx));
  return changed(ctx, conf);
}

function ipsetOf(conf: FwConf, name: string) {
  const set = conf.ipsets.get(name);
  if (!set) throw new SimError(500, `no such IPSet '${name}'`);
  return set;
}

function listIpsets(ctx: SimContext): Obj[] {
  const { conf } = confOf(ctx);
  const d = digest(conf);
  return [...conf.ipsets].map(([name, s]) => ({ name, ...(s.comment ? { comment: s.comment } : {}), digest: d }));
}

function createIpset(ctx: SimContext): null {
  const { conf } = confOf(ctx);
  checkDigest(ctx, digest(conf));
  const name = str(ctx, "name") ?? "";
  const rename = str(ctx, "rename");
  const comment = str(ctx, "comment");
  if (rename !== undefined) {
    const old = ipsetOf(conf, rename);
    if (rename !== name && conf.ipsets.has(name)) throw new SimError(500, `IPSet '${name}' already exists`);
    conf.ipsets.delete(rename);
    conf.ipsets.set(name, { ...old, ...(comment !== undefined ? { comment } : {}) });
  } else {
    if (conf.ipsets.has(name)) throw new SimError(500, `IPSet '${name}' already exists`);
    conf.ipsets.set(name, { entries: new Map(), ...(comment ? { comment } : {}) });
  }
  return changed(ctx, conf);
}

function deleteIpset(ctx: SimContext): null {
  const { conf } = confOf(ctx);
  const name = str(ctx, "name") ?? "";
  const set = ipsetOf(conf, name);
  if (set.entries.size > 0 && str(ctx, "force") !== "1") throw new SimError(500, `IPSet '${name}' is not empty`);
  conf.ipsets.delete(name);
  return changed(ctx, conf);
}

function listEntries(ctx: SimContext): Obj[] {
  const { conf } = confOf(ctx);
  const d = digest(conf);
  return [...ipsetOf(conf, str(ctx, "name") ?? "").entries].map(([cidr, e]) => ({ cidr, ...e, digest: d }));
}

function addEntry(ctx: SimContext): null {
  const { conf } = confOf(ctx);
  const set = ipsetOf(conf, str(ctx, "name") ?? "");
  const cidr = str(ctx, "cidr") ?? "";
  if (set.entries.has(cidr)) throw new SimError(500, `address '${cidr}' already exists`);
  const comment = str(ctx, "comment");
  set.entries.set(cidr, { ...(str(ctx, "nomatch") === "1" ? { nomatch: 1 } : {}), ...(comment ? { comment } : {}) });
  return changed(ctx, conf);
}

function deleteEntry(ctx: SimContext): null {
  const { conf } = confOf(ctx);
  checkDigest(ctx, digest(conf));
  const set = ipsetOf(conf, str(ctx, "name") ?? "");
  const cidr = str(ctx, "cidr") ?? "";
  if (!set.entries.delete(cidr)) {
    throw new SimError(400, "Parameter verification failed.", { cidr: "no such IP/Network" });
  }
  return changed(ctx, conf);
}

function listGroups(ctx: SimContext): Obj[] {
  const infra = infraOf(ctx.sim.state);
  return [...infra.securityGroups].map(([group, g]) => ({
    group,
    ...(g.comment ? { comment: g.comment } : {}),
    digest: digestOf(g),
  }));
}

function routesFor(base: string, opts: { sets: boolean }): SimRoute[] {
  const out: SimRoute[] = [
    { method: "GET", path: `${base}/rules`, handler: getRules },
    { method: "POST", path: `${base}/rules`, handler: addRule },
    { method: "GET", path: `${base}/rules/{pos}`, handler: getRule },
    { method: "PUT", path: `${base}/rules/{pos}`, handler: updateRule },
    { method: "DELETE", path: `${base}/rules/{pos}`, handler: deleteRule },
    { method: "GET", path: `${base}/options`, handler: getOptions },
    { method: "PUT", path: `${base}/options`, handler: setOptions },
  ];
  if (!opts.sets) return out;
  return out.concat([
    { method: "GET", path: `${base}/aliases`, handler: listAliases },
    { method: "POST", path: `${base}/aliases`, handler: addAlias },
    { method: "PUT", path: `${base}/aliases/{name}`, handler: updateAlias },
    { method: "DELETE", path: `${base}/aliases/{name}`, handler: deleteAlias },
    { method: "GET", path: `${base}/ipset`, handler: listIpsets },
    { method: "POST", path: `${base}/ipset`, handler: createIpset },
    { method: "GET", path: `${base}/ipset/{name}`, handler: listEntries },
    { method: "POST", path: `${base}/ipset/{name}`, handler: addEntry },
    { method: "DELETE", path: `${base}/ipset/{name}`, handler: deleteIpset },
    { method: "DELETE", path: `${base}/ipset/{name}/{cidr}`, handler: deleteEntry },
  ]);
}

/** Routes of this file. */
export const firewallRoutes: SimRoute[] = [
  ...routesFor("/cluster/firewall", { sets: true }),
  ...routesFor("/nodes/{node}/firewall", { sets: false }),
  ...routesFor("/nodes/{node}/qemu/{vmid}/firewall", { sets: true }),
  ...routesFor("/nodes/{node}/lxc/{vmid}/firewall", { sets: true }),
  { method: "GET", path: "/cluster/firewall/groups", handler: listGroups },
  { method: "GET", path: "/cluster/firewall/groups/{group}", handler: getRules },
];
