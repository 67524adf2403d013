/**
 * The simulator's answer of EVERY endpoint it serves validates against the `returns` schema of the official PVE API
 * (../shared/pve-api/apidata.json): plain GETs with path parameters filled automatically, everything else (writes,
 * reads that need state) through tests/sim/schema_scenario.ts. A route neither reaches with a 200 fails the test,
 * unless it is in the short, justified EXEMPT list.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { Simulator } from "../../src/sim/mod.ts";
import { APIDATA_URL, apidataPresent } from "../referee/apidata_check.ts";
import { Api } from "./helpers.ts";
import { validateReturns } from "./returns_validator.ts";
import { driveScenario, SCENARIO_GETS } from "./schema_scenario.ts";

const present = apidataPresent();
if (!present) {
  console.warn(
    "SKIPPED: ../shared/pve-api/apidata.json is absent, so simulator answers are not checked against the schema.",
  );
}

// deno-lint-ignore no-explicit-any
type Schema = Record<string, any>;

function returnsByEndpoint(apidata: Schema[]): Map<string, Schema> {
  const out = new Map<string, Schema>();
  const walk = (n: Schema) => {
    for (const [m, info] of Object.entries(n.info ?? {})) out.set(`${m} ${n.path}`, (info as Schema).returns);
    for (const c of n.children ?? []) walk(c);
  };
  apidata.forEach(walk);
  return out;
}

/** Query every call of an endpoint needs (required non-path parameters). */
const REQUIRED: Record<string, string> = {
  "GET /nodes/{node}/rrddata": "timeframe=hour",
  "GET /nodes/{node}/qemu/{vmid}/rrddata": "timeframe=hour",
  "GET /nodes/{node}/lxc/{vmid}/rrddata": "timeframe=hour",
  "GET /nodes/{node}/storage/{storage}/rrddata": "timeframe=hour",
};

/** Endpoints the simulator serves whose answers are not checked here, with the reason. Keep it short (≤ 5). */
const EXEMPT: Record<string, string> = {
  "POST /nodes/{node}/qemu/{vmid}/remote_migrate": "refused by the simulator (no remote cluster): no answer to check",
  "POST /nodes/{node}/lxc/{vmid}/remote_migrate": "refused by the simulator (no remote cluster): no answer to check",
};

/**
 * Routes held to the strict check (no undeclared keys): the first tools' endpoints in access.ts, cluster.ts, nodes.ts,
 * guests.ts, storage.ts and tasks.ts. Other routes are checked in PVE's own dialect (undeclared keys allowed, since the
 * schema omits many fields real PVE sends) and their undeclared keys are listed as warnings.
 */
const STRICT =
  /^GET (\/version|\/cluster\/(status|resources|tasks)|\/pools(\/\{poolid\})?|\/access\/(ticket|domains|permissions)|\/nodes(\/\{node\}(\/status|\/(qemu|lxc)(\/\{vmid\}\/(status\/current|config))?|\/storage(\/\{storage\}\/(status|content))?|\/tasks(\/\{upid\}(\/status|\/log)?)?))?)$/;

/**
 * Known deviations, reported as warnings instead of failures: the endpoint, a pattern of the problem, and why.
 * Remove an entry once its route is fixed.
 */
const KNOWN_DEVIATIONS: [RegExp, string][] = [
  [
    /^GET \/nodes\/\{node\}\/disks\/list\?.*\.osdid-list: missing/,
    "real PVE sends null here although the schema says required",
  ],
];

/** Extra query strings to try per endpoint (each is validated), besides the bare call. */
const VARIANTS: Record<string, string[]> = {
  "GET /cluster/resources": ["type=vm", "type=node", "type=storage", "type=sdn"],
  "GET /nodes/{node}/qemu": ["full=1"],
  "GET /nodes/{node}/storage": ["format=1", "content=images", "enabled=1"],
  "GET /nodes/{node}/storage/{storage}/content": ["content=backup"],
  "GET /nodes/{node}/tasks": ["source=all", "errors=1", "limit=2&start=1"],
  "GET /nodes/{node}/tasks/{upid}/log": ["start=1&limit=1"],
  "GET /pools": ["poolid=prod", "poolid=prod&type=qemu"],
  "GET /access/permissions": ["path=/vms/100"],
};

/** Keys real PVE sends that its schema does not declare (documented deviations), per endpoint. */
const ALLOW: Record<string, string[]> = {
  "GET /nodes/{node}/storage/{storage}/content": ["[].content"],
  "GET /nodes/{node}/tasks": ["[].tokenid"],
  "GET /nodes/{node}/tasks/{upid}/status": [".tokenid"],
  "GET /cluster/tasks": [
    "[].node",
    "[].pid",
    "[].pstart",
    "[].starttime",
    "[].type",
    "[].id",
    "[].user",
    "[].tokenid",
    "[].status",
    "[].endtime",
  ],
  "POST /access/ticket": [".cap"],
};

/** Values for path parameters the resolver below does not know. Add one when a new route needs it. */
const SAMPLES: Record<string, string> = { poolid: "prod", userid: "root@pam", tokenid: "mcp-admin" };

class NoSample extends Error {}

function fill(sim: Simulator, template: string): string {
  const qemu = [...sim.state.guests.values()].find((g) => g.type === "qemu" && g.status === "running")!;
  const lxc = [...sim.state.guests.values()].find((g) => g.type === "lxc" && g.status === "running")!;
  const guest = template.includes("/lxc/") ? lxc : qemu;
  const node = template.includes("{vmid}") ? guest.node : "pve1";
  return template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    switch (name) {
      case "node":
        return node;
      case "vmid":
        return String(guest.vmid);
      case "storage":
        return template.includes("/content") ? "nas" : "local-lvm";
      case "upid":
        return encodeURIComponent(sim.tasks.onNode(node)[0]?.upid ?? "");
      default:
        if (SAMPLES[name] === undefined) throw new NoSample(`{${name}}`);
        return encodeURIComponent(SAMPLES[name]);
    }
  });
}

Deno.test({
  name:
    "sim schema: every endpoint the simulator serves answers within its official `returns` schema (needs ../shared)",
  ignore: !present,
  fn: async () => {
    const returns = returnsByEndpoint(JSON.parse(await Deno.readTextFile(APIDATA_URL)));
    await using api = await Api.start({ nodes: 3, guests: 40, offlineNodes: [], taskDurationMs: 0 });
    const auth = api.sim.tokens.admin.header;
    const problems: string[] = [];
    const undeclared = new Set<string>();
    const checked = new Set<string>();
    const validate = (key: string, what: string, data: unknown) => {
      checked.add(key);
      for (const e of validateReturns(returns.get(key), data, new Set(ALLOW[key] ?? []))) {
        if (!STRICT.test(key) && e.endsWith(": not in the schema")) {
          undeclared.add(`${key}: ${e.replace(/\[\d+\]/g, "[]")}`);
        } else problems.push(`${what}: ${e}`);
      }
    };

    // Plain GETs: path parameters filled from the seeded cluster, plus query variants.
    const gets = api.sim.routes.keys().filter((k) => k.startsWith("GET "));
    assert(gets.length >= 20, `expected the first tools' GET endpoints, got ${gets.length}`);
    assert(gets.filter((k) => STRICT.test(k)).length >= 20, "the strict set matches the first tools' endpoints");
    for (const key of gets.filter((k) => !SCENARIO_GETS.has(k))) {
      let path: string;
      try {
        path = fill(api.sim, key.slice(4));
      } catch (e) {
        if (!(e instanceof NoSample)) throw e;
        continue; // the scenario below reaches it, or the coverage check fails
      }
      for (const variant of ["", ...(VARIANTS[key] ?? [])]) {
        const query = [REQUIRED[key], variant].filter(Boolean).join("&");
        const r = await api.call("GET", path, { auth, query });
        if (r.status !== 200) problems.push(`${key}?${query}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
        else validate(key, `${key}?${query}`, r.body.data);
      }
    }

    // Everything else: writes and stateful reads, in an order the cluster's state allows.
    await driveScenario(api.sim, async (key, vars, opts = {}) => {
      const [method = "", template = ""] = key.split(" ");
      const path = template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
        if (vars[name] === undefined) throw new Error(`${key}: no value for {${name}}`);
        return encodeURIComponent(String(vars[name]));
      });
      const r = await api.call(method, path, { auth, ...opts });
      if (r.status !== 200) {
        problems.push(`${key}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
        return undefined;
      }
      validate(key, key, r.body.data);
      return r.body.data;
    });

    if (undeclared.size) {
      console.warn(
        `Keys the schema does not declare (fine if real PVE sends them):\n  ${[...undeclared].join("\n  ")}`,
      );
    }
    const known = problems.filter((p) => KNOWN_DEVIATIONS.some(([re]) => re.test(p)));
    if (known.length) {
      const why = (p: string) => KNOWN_DEVIATIONS.find(([re]) => re.test(p))?.[1];
      console.warn(`Known deviations:\n  ${known.map((p) => `${p} (${why(p)})`).join("\n  ")}`);
    }
    assertEquals(problems.filter((p) => !known.includes(p)), []);
    const missing = api.sim.routes.keys().filter((k) => !checked.has(k) && EXEMPT[k] === undefined);
    assertEquals(missing, [], "endpoints whose answers were not checked (add them to tests/sim/schema_scenario.ts)");
    assert(Object.keys(EXEMPT).length <= 5, "the exemption list stays short");
    for (const k of Object.keys(EXEMPT)) assert(!checked.has(k), `${k} is checked now: remove its exemption`);
  },
});

Deno.test("returns validator: catches wrong types, missing fields, unknown keys, enums, booleans", () => {
  const schema = {
    type: "array",
    items: {
      type: "object",
      properties: {
        vmid: { type: "integer" },
        status: { type: "string", enum: ["running", "stopped"] },
        template: { type: "boolean", optional: 1 },
        "net[n]": { type: "string", optional: 1 },
      },
    },
  };
  assertEquals(validateReturns(schema, [{ vmid: 100, status: "running", template: 1, net0: "x" }]), []);
  assertEquals(validateReturns(schema, [{ vmid: "100", status: "paused", template: true, extra: 1 }]), [
    '[0].vmid: expected integer, got "100"',
    '[0].status: "paused" is not one of running, stopped',
    "[0].template: expected boolean, got true",
    "[0].extra: not in the schema",
  ]);
  assertEquals(validateReturns(schema, [{ status: "stopped" }]), ["[0].vmid: missing (not optional)"]);
  assertEquals(validateReturns(schema, [{ vmid: 1, status: "stopped", extra: 1 }], new Set(["[].extra"])), []);
  assertEquals(validateReturns({ type: "null" }, null), []);
  assertEquals(validateReturns({ type: "string", pattern: "(?^:UPID:.*)" }, "x"), [
    '(root): "x" does not match /(?^:UPID:.*)/',
  ]);
});
