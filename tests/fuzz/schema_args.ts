/**
 * Tool arguments generated from each tool's listed JSON Schema (what `tools/list` shows a model), so every tool in the
 * registry is fuzzed without per-tool code. Values mix plausible ones (names and ids that exist in the simulator,
 * strings matching the tool's own patterns) with hostile ones (tests/fuzz/values.ts), so fuzzing reaches the handlers
 * and the requests they emit, not only the input validation.
 * @module
 */
import fc from "fast-check";
import { type Endpoint, listEndpoints, type ParamSpec } from "../../src/pve/contract.ts";
import type { Simulator } from "../../src/sim/mod.ts";
import { hostileFor, hostileString, INJECTION, TRAVERSAL } from "./values.ts";

/** A JSON Schema fragment as the MCP SDK lists it (zod → JSON Schema). */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  items?: JsonSchema;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  anyOf?: JsonSchema[];
}

/** A tool as listed: name and input schema. */
export interface ListedTool {
  name: string;
  inputSchema: JsonSchema;
}

/** Names and ids that exist in the simulated cluster (so plausible arguments reach the handlers). */
export interface FuzzDict {
  nodes: string[];
  vmids: number[];
  storages: string[];
  upids: string[];
  volumes: string[];
  pools: string[];
  users: string[];
}

/** One generated case. */
export interface FuzzCase {
  tool: string;
  args: Record<string, unknown>;
  /** "valid" (plausible values only), "hostile" (some properties hostile) or "structural" (missing/extra keys). */
  kind: "valid" | "hostile" | "structural";
  /** Properties that carry hostile values. */
  hostile: string[];
}

/** Reads the dictionary from a running simulator. */
export function dictFromSim(sim: Simulator): FuzzDict {
  const vols: string[] = [];
  for (const s of sim.state.storages.values()) {
    for (const node of s.shared ? [undefined] : s.nodes) {
      for (const v of sim.state.volumes(s, node ?? s.nodes[0] ?? "pve1").slice(0, 5)) vols.push(v.volid);
    }
  }
  return {
    nodes: [...sim.state.nodes.keys()],
    vmids: [...sim.state.guests.keys()].slice(0, 200),
    storages: [...sim.state.storages.keys()],
    upids: sim.tasks.all().slice(0, 50).map((t) => t.upid),
    volumes: vols.length ? vols : ["local:iso/debian-12.iso"],
    pools: [...sim.state.pools.keys(), "fuzzpool"],
    users: ["root@pam", "auditor@pve", "fuzz@pve"],
  };
}

const primaryType = (s: JsonSchema): string | undefined => Array.isArray(s.type) ? s.type[0] : s.type;

function pick<T>(values: readonly T[], fallback: T): fc.Arbitrary<T> {
  return values.length ? fc.constantFrom(...values) : fc.constant(fallback);
}

/** Strings matching a pattern, within the length limits (pattern-less strings: short free text). */
function patternString(s: JsonSchema): fc.Arbitrary<string> {
  const max = Math.min(s.maxLength ?? 60, 200);
  const min = s.minLength ?? 0;
  if (s.pattern) {
    let re: RegExp;
    try {
      re = new RegExp(s.pattern);
    } catch {
      return fc.string({ minLength: min, maxLength: max });
    }
    return fc.stringMatching(re).filter((v) => v.length >= min && v.length <= max);
  }
  return fc.string({ minLength: min, maxLength: Math.min(max, 40) });
}

/** Plausible values for well-known property names (free-text properties get sensible text too). */
function namedValue(name: string, s: JsonSchema, d: FuzzDict): fc.Arbitrary<unknown> | undefined {
  const t = primaryType(s);
  if (t === "integer" && /^(vmid|template|newid)$/.test(name)) {
    return fc.oneof({ weight: 4, arbitrary: pick(d.vmids, 100) }, {
      weight: 1,
      arbitrary: fc.integer({ min: 100, max: 99_999 }),
    });
  }
  if (t !== "string") return undefined;
  const max = s.maxLength ?? 10_000;
  const fit = (a: fc.Arbitrary<string>) => a.filter((v) => v.length <= max && (s.minLength ?? 0) <= v.length);
  switch (name) {
    case "node":
    case "target_node":
      return fc.oneof({ weight: 5, arbitrary: pick(d.nodes, "pve1") }, {
        weight: 1,
        arbitrary: fc.constant("pve-missing"),
      });
    case "storage":
    case "target_storage":
      return pick(d.storages, "local");
    case "upid":
      return fc.oneof({ weight: 4, arbitrary: pick(d.upids, "UPID:pve1:0:0:0:x::root@pam:") }, {
        weight: 1,
        arbitrary: patternString(s),
      });
    case "volume":
    case "iso":
    case "ostemplate":
      return fit(fc.oneof(pick(d.volumes, "local:iso/x.iso"), fc.constant("local:iso/missing.iso")));
    case "poolid":
    case "pool":
      return pick(d.pools, "fuzzpool");
    case "userid":
      return pick(d.users, "root@pam");
    case "url":
      return fc.constantFrom("https://example.invalid/debian-12.iso", "http://10.0.0.1/x.iso", "ftp://x/y");
    case "checksum":
      return fc.constantFrom("sha256:" + "ab".repeat(32), "md5:" + "0".repeat(32), "sha256:zz");
    case "cidr":
      return fc.constantFrom("10.0.0.0/24", "192.168.1.5", "fd00::/64", "+mygroup", "dc/alias1");
    case "cursor":
      return fc.oneof({ weight: 3, arbitrary: fc.constantFrom("o0", "o1", "o20", "o200") }, {
        weight: 1,
        arbitrary: patternString(s),
      });
    case "disk":
      return fit(fc.constantFrom("scsi0", "virtio0", "ide2", "sata1", "efidisk0", "rootfs", "mp0"));
    case "size":
      return fit(fc.constantFrom("+1G", "+512M", "64G", "+0.5G", "100"));
    case "mac":
      return fit(fc.constantFrom("BC:24:11:00:00:01", "02:00:00:AA:BB:CC"));
    case "ip":
      return fit(fc.constantFrom("dhcp", "manual", "10.0.0.5/24"));
    case "gw":
      return fit(fc.constantFrom("10.0.0.1", "192.168.1.254"));
    case "ip6":
      return fit(fc.constantFrom("auto", "dhcp", "fd00::5/64"));
    case "bridge":
      return fit(fc.constantFrom("vmbr0", "vmbr1"));
    case "snapname":
      return fit(fc.constantFrom("snap1", "before-upgrade", "nightly_2"));
    case "ciuser":
      return fit(fc.constantFrom("admin", "debian"));
    case "nameserver":
      return fit(fc.constantFrom("1.1.1.1", "1.1.1.1 8.8.8.8", "2606:4700:4700::1111"));
    case "searchdomain":
      return fit(fc.constantFrom("example.com", "lab.internal"));
    case "startup":
      return fit(fc.constantFrom("order=1", "order=2,up=30", "up=5,down=10"));
    case "name":
      if (s.pattern || s.enum) return undefined;
      return fit(fc.constantFrom("web-01", "db.example.com", "snap1", "eth1", "Alias_1", "test"));
    case "filename":
      return fc.constantFrom("debian-12.iso", "a.tar.zst", "x.img");
    case "password":
    case "cipassword":
      return fit(fc.constantFrom("S3cret-pass!", "correct horse battery staple"));
    case "ssh_keys":
    case "sshkeys":
      return fc.constant("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForFuzzing fuzz@host");
    default:
      if (!s.pattern && !s.enum && /comment|description|notes|name$/.test(name)) {
        return fit(fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("web server", "Notes: ok", "ünïcödé")));
      }
      return undefined;
  }
}

const FIREWALL_FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  type: fc.constantFrom("in", "out", "group"),
  action: fc.constantFrom("ACCEPT", "DROP", "REJECT"),
  macro: fc.constantFrom("SSH", "HTTP", "Ping"),
  source: fc.constantFrom("10.0.0.0/24", "+mygroup"),
  dest: fc.constantFrom("192.168.1.1"),
  proto: fc.constantFrom("tcp", "udp", "icmp"),
  dport: fc.constantFrom("22", "80:90", "http"),
  sport: fc.constantFrom("1024:65535"),
  iface: fc.constantFrom("net0"),
  log: fc.constantFrom("nolog", "info"),
  enable: fc.constantFrom(0, 1, true),
  policy_in: fc.constantFrom("ACCEPT", "DROP"),
};

/** Characters a near-miss may bring in: the separators and escapes PVE's formats care about. */
const NEAR_CHARS = [..."..::,,;= /-_+@!$%0aZ9\t"];

/**
 * Near misses of plausible strings: up to three edits (drop, duplicate, replace or insert a character). Many tools
 * check their patterns in code (not in the listed schema), so this is how the fuzzer probes those patterns' edges.
 */
export function nearMiss(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const edit = fc.record({ op: fc.integer({ min: 0, max: 3 }), at: fc.nat(), ch: fc.constantFrom(...NEAR_CHARS) });
  return fc.tuple(base, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([v, edits]) => {
    let out = v;
    for (const { op, at, ch } of edits) {
      const i = out.length ? at % out.length : 0;
      if (op === 0) out = out.slice(0, i) + out.slice(i + 1);
      else if (op === 1) out = out.slice(0, i) + (out[i] ?? ch) + out.slice(i);
      else if (op === 2) out = out.slice(0, i) + ch + out.slice(i + 1);
      else out = out.slice(0, i) + ch + out.slice(i);
    }
    return out;
  });
}

/** A plausible value for a property (always of the declared type); strings are sometimes near misses. */
export function validValue(name: string, s: JsonSchema, d: FuzzDict): fc.Arbitrary<unknown> {
  const plain = plausibleValue(name, s, d);
  if (primaryType(s) !== "string" || s.enum?.length) return plain;
  return fc.oneof(
    { weight: 4, arbitrary: plain },
    { weight: 1, arbitrary: nearMiss(plain as fc.Arbitrary<string>) },
  );
}

function plausibleValue(name: string, s: JsonSchema, d: FuzzDict): fc.Arbitrary<unknown> {
  const named = namedValue(name, s, d);
  if (named) return named;
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  if (s.anyOf?.length) return fc.oneof(...s.anyOf.map((x) => validValue(name, x, d)));
  switch (primaryType(s)) {
    case "string":
      return patternString(s);
    case "integer": {
      const min = s.minimum ?? -1_000_000;
      const max = s.maximum ?? 1_000_000;
      return fc.oneof({ weight: 3, arbitrary: fc.integer({ min, max }) }, {
        weight: 1,
        arbitrary: fc.constantFrom(min, max),
      });
    }
    case "number": {
      const min = s.minimum ?? -1e6;
      const max = s.maximum ?? 1e6;
      return fc.oneof(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), fc.constantFrom(min, max));
    }
    case "boolean":
      return fc.boolean();
    case "array":
      return fc.array(validValue(name, s.items ?? {}, d), { maxLength: Math.min(s.maxItems ?? 4, 4) });
    case "object":
      if (s.properties) return argsRecord(s, d);
      if (name === "fields") {
        return fc.dictionary(
          fc.constantFrom(...Object.keys(FIREWALL_FIELDS)),
          fc.oneof(...Object.values(FIREWALL_FIELDS)),
          { maxKeys: 4 },
        );
      }
      return fc.dictionary(
        fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/),
        fc.oneof(fc.string({ maxLength: 20 }), fc.integer()),
        { maxKeys: 3 },
      );
    default:
      return fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean());
  }
}

/** Optional properties set in a plausible call: few, like a model's calls (many at once mostly conflict). */
const MAX_OPTIONAL = 3;
/** Properties left out of plausible calls (a random digest never matches). */
const SKIP_VALID = new Set(["digest"]);

function argsRecord(s: JsonSchema, d: FuzzDict): fc.Arbitrary<Record<string, unknown>> {
  const props = Object.entries(s.properties ?? {});
  const required = new Set(s.required ?? []);
  const optional = props.map(([k]) => k).filter((k) => !required.has(k) && !SKIP_VALID.has(k));
  return fc.subarray(optional, { maxLength: Math.min(MAX_OPTIONAL, optional.length) }).chain((chosen) => {
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [k, v] of props) if (required.has(k) || chosen.includes(k)) model[k] = validValue(k, v, d);
    return fc.record(model) as fc.Arbitrary<Record<string, unknown>>;
  });
}

/** A concrete path for a contract endpoint, path parameters filled from the dictionary (or made hostile). */
function pathFor(ep: Endpoint, d: FuzzDict): fc.Arbitrary<string> {
  const fills = ep.pathParams.map((p): fc.Arbitrary<string> => {
    const base: fc.Arbitrary<string> = p === "node"
      ? pick(d.nodes, "pve1")
      : p === "vmid"
      ? pick(d.vmids, 100).map(String)
      : p === "storage"
      ? pick(d.storages, "local")
      : p === "upid"
      ? pick(d.upids, "UPID:pve1:0:0:0:x::root@pam:")
      : p === "userid"
      ? pick(d.users, "root@pam")
      : p === "poolid"
      ? pick(d.pools, "fuzzpool")
      : fc.stringMatching(/^[a-z][a-z0-9]{1,8}$/);
    return fc.oneof(
      { weight: 8, arbitrary: base.map(encodeURIComponent) },
      { weight: 1, arbitrary: fc.constantFrom(...TRAVERSAL, ...INJECTION.slice(0, 6)) },
    );
  });
  return fc.tuple(...fills).map((vals) => {
    let i = 0;
    return ep.path.replace(/\{[^}]+\}/g, () => vals[i++] ?? "x");
  });
}

/** A value for a contract parameter, usually valid, sometimes not. */
function paramValue(spec: ParamSpec): fc.Arbitrary<unknown> {
  const t = Array.isArray(spec.type) ? spec.type[0] : spec.type;
  const valid: fc.Arbitrary<unknown> = spec.enum?.length
    ? fc.constantFrom(...spec.enum)
    : t === "integer"
    ? fc.integer({ min: spec.minimum ?? 0, max: spec.maximum ?? 100_000 })
    : t === "number"
    ? fc.double({ min: spec.minimum ?? 0, max: spec.maximum ?? 1e5, noNaN: true })
    : t === "boolean"
    ? fc.boolean()
    : fc.string({ maxLength: Math.min(spec.maxLength ?? 20, 20) });
  return fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: hostileString() });
}

/** Arguments for the raw API tool: real endpoints of the contract (mostly reads), checked by the tool itself. */
function rawApiArgs(d: FuzzDict): fc.Arbitrary<Record<string, unknown>> {
  const eps = listEndpoints();
  const reads = eps.filter((e) => e.method === "GET");
  return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...reads) }, {
    weight: 1,
    arbitrary: fc.constantFrom(...eps),
  })
    .chain((ep) => {
      const names = Object.keys(ep.params).filter((n) => !ep.pathParams.includes(n) && !n.includes("["));
      const params = names.length
        ? fc.subarray(names, { maxLength: Math.min(3, names.length) }).chain((chosen) =>
          fc.tuple(...chosen.map((n) => paramValue(ep.params[n]!))).map((vals) =>
            Object.fromEntries(chosen.map((n, i) => [n, vals[i]]))
          )
        )
        : fc.constant({});
      return fc.record({
        method: fc.oneof({ weight: 9, arbitrary: fc.constant(ep.method) }, {
          weight: 1,
          arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE"),
        }),
        path: pathFor(ep, d),
        params,
      }, { requiredKeys: ["method", "path"] });
    });
}

/** Arguments for one tool: valid, hostile (1-2 properties replaced) or structural (keys missing or extra). */
export function caseFor(tool: ListedTool, d: FuzzDict): fc.Arbitrary<FuzzCase> {
  const schema = tool.inputSchema;
  const props = Object.keys(schema.properties ?? {});
  const valid = tool.name === "pve_api" ? rawApiArgs(d) : argsRecord(schema, d);
  const asCase = (kind: FuzzCase["kind"], hostile: string[]) => (args: Record<string, unknown>): FuzzCase => ({
    tool: tool.name,
    args,
    kind,
    hostile,
  });
  const hostile = props.length === 0
    ? valid.map(asCase("valid", []))
    : fc.tuple(valid, fc.subarray(props, { minLength: 1, maxLength: Math.min(2, props.length) })).chain((
      [base, keys],
    ) =>
      fc.tuple(...keys.map((k) => hostileFor(primaryType(schema.properties![k]!)))).map((vals) => {
        const args = { ...base };
        keys.forEach((k, i) => (args[k] = vals[i]));
        return asCase("hostile", keys)(args);
      })
    );
  const structural = fc.tuple(
    valid,
    fc.dictionary(
      fc.oneof(
        fc.constantFrom("__proto__", "constructor", "cluster", "dry_run", "_meta", "node ", "VMID"),
        hostileString(),
      ),
      fc.oneof(hostileString(), fc.integer(), fc.constant(null)),
      { minKeys: 0, maxKeys: 2 },
    ),
    fc.subarray(schema.required ?? []),
  ).map(([base, extra, drop]) => {
    const args: Record<string, unknown> = { ...base };
    for (const k of drop) delete args[k];
    for (const [k, v] of Object.entries(extra)) {
      Object.defineProperty(args, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return asCase("structural", [...Object.keys(extra), ...drop.map((k) => `-${k}`)])(args);
  });
  return fc.oneof(
    { weight: 5, arbitrary: valid.map(asCase("valid", [])) },
    { weight: 4, arbitrary: hostile },
    { weight: 1, arbitrary: structural },
  );
}

/** Cases over every listed tool, evenly. */
export function caseArb(tools: readonly ListedTool[], d: FuzzDict): fc.Arbitrary<FuzzCase> {
  return fc.constantFrom(...tools).chain((t) => caseFor(t, d));
}
