/**
 * The policy matrix: every tool of the registry × every action (and flag variant) × mode × guest-selector case →
 * allowed or denied, with a clear reason. Samples are generated from each tool's input schema, so new tools are
 * covered automatically; a tool whose required inputs cannot be generated fails here with what to add to SAMPLES.
 */
import {
  type CallClass,
  effect,
  type Mode,
  MODE_FOR_CLASS,
  modeAllows,
  MODES,
  type Principal,
  TOOLSETS,
} from "../../src/core/mod.ts";
import { deepStrictEqual, ok } from "node:assert/strict";
import { z } from "zod";
import { ALL_TOOLS } from "../../src/tools/all.ts";
import { effectOf, type ToolDef, unavailableReason } from "../../src/tools/registry.ts";
import { createPolicy, type PolicySettings } from "../../src/policy/policy.ts";
import { type GuestSelector } from "../../src/policy/guest_selector.ts";
import { clusterHandle } from "../../src/server/app.ts";
import { canBeDestructive } from "../../src/server/prepare.ts";
import { type PveApi, PveError } from "../../src/pve/types.ts";

/** The guest every sample targets. */
const VMID = 150;

/** Values for required inputs the generator cannot invent (by field name). */
const SAMPLES: Record<string, unknown> = {
  vmid: VMID,
  node: "pve1",
  storage: "local",
  upid: "UPID:pve1:00001234:00005678:65000000:qmstart:150:root@pam:",
  userid: "ops@pve",
  tokenid: "mcp",
  poolid: "pool1",
  snapname: "before_upgrade",
  name: "snap1",
  disk: "scsi0",
  volume: "local:iso/debian.iso",
  path: "/nodes/pve1/qemu/150/status/current",
  argv: ["uptime"],
  url: "https://example.com/debian.iso",
  filename: "debian.iso",
  iface: "vmbr0",
  cidr: "10.0.0.0/24",
};

const EMPTY: GuestSelector = { vmids: [], pools: [], tags: [], nodes: [] };
const SELECTOR_CASES: {
  name: string;
  guests: GuestSelector;
  protected: GuestSelector;
  effect?: "outside" | "protected";
}[] = [
  { name: "no selectors", guests: EMPTY, protected: EMPTY },
  { name: "target inside the selector", guests: { ...EMPTY, vmids: ["100-199"] }, protected: EMPTY },
  { name: "target selected by tag", guests: { ...EMPTY, tags: ["web"] }, protected: EMPTY },
  {
    name: "target outside the selector",
    guests: { ...EMPTY, vmids: ["200-299"] },
    protected: EMPTY,
    effect: "outside",
  },
  { name: "target protected by vmid", guests: EMPTY, protected: { ...EMPTY, vmids: ["150"] }, effect: "protected" },
  {
    name: "target protected by pool",
    guests: { ...EMPTY, vmids: ["100-199"] },
    protected: { ...EMPTY, pools: ["prod"] },
    effect: "protected",
  },
];

/** A read client that knows one guest (VMID in pool prod, tag web) and nothing else. */
function fakeCluster() {
  const api: PveApi = {
    host: "fake:8006",
    request<T>(req: { method: string; path: string; params?: Record<string, unknown> }) {
      // The resolver asks PVE about a vmid it does not list (absent or invisible): here, every other vmid is free.
      if (req.method === "GET" && req.path === "/cluster/nextid") {
        return Promise.resolve({ data: req.params?.vmid as T });
      }
      if (req.method === "GET" && req.path === "/cluster/resources") {
        return Promise.resolve({
          data: [{
            id: `qemu/${VMID}`,
            type: "qemu",
            vmid: VMID,
            node: "pve1",
            name: "web1",
            status: "running",
            pool: "prod",
            tags: "web",
          }] as T,
        });
      }
      return Promise.reject(new PveError("invalid", `policy checks must not call ${req.method} ${req.path}`));
    },
  };
  return clusterHandle("default", api);
}

type JsonSchema = {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  minItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  default?: unknown;
};

function invent(name: string, s: JsonSchema): unknown {
  if (name in SAMPLES) return SAMPLES[name];
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case "integer":
    case "number":
      return s.minimum ?? 1;
    case "boolean":
      return false;
    case "array":
      return Array.from({ length: s.minItems ?? 0 }, () => invent(`${name}[]`, s.items ?? {}));
    case "object":
      return {};
    default:
      return "x";
  }
}

/** Argument samples of a tool: one per action, plus one per optional boolean flag set to true. */
function samplesOf(def: ToolDef): Record<string, unknown>[] {
  const js = z.toJSONSchema(def.input, { io: "input" }) as JsonSchema;
  const props = js.properties ?? {};
  const base: Record<string, unknown> = {};
  for (const name of js.required ?? []) base[name] = invent(name, props[name] ?? {});
  for (const name of ["vmid", "node"]) if (name in props && !(name in base)) base[name] = SAMPLES[name];
  if (def.toolset === "agent" && "argv" in props) base.argv = SAMPLES.argv;
  const actions = props.action?.enum ?? [undefined];
  const out: Record<string, unknown>[] = [];
  for (const action of actions) {
    const sample = action === undefined ? { ...base } : { ...base, action };
    out.push(sample);
    for (const [name, p] of Object.entries(props)) {
      if (p.type === "boolean" && !(js.required ?? []).includes(name)) out.push({ ...sample, [name]: true });
    }
  }
  if (def.name === "pve_api") {
    out.push(
      { method: "POST", path: `/nodes/pve1/qemu/${VMID}/status/start` },
      { method: "POST", path: `/nodes/pve1/qemu/${VMID}/status/stop` },
      { method: "DELETE", path: `/nodes/pve1/qemu/${VMID}` },
      { method: "POST", path: "/nodes/pve1/stopall" },
    );
  }
  return out.map((sample) => {
    const parsed = def.input.safeParse(sample);
    ok(
      parsed.success,
      `${def.name}: cannot build a valid sample ${JSON.stringify(sample)}: ${parsed.error?.message}\n` +
        "Add a value for the missing field to SAMPLES in tests/policy/matrix_test.ts",
    );
    return parsed.data as Record<string, unknown>;
  });
}

const ALL_TOOLSETS = { toolsets: TOOLSETS as readonly string[], allowTools: [], denyTools: [] };

Deno.test("policy matrix: every tool × action × mode × selector case is allowed or denied with a clear reason", async (t) => {
  const cluster = fakeCluster();
  const signal = new AbortController().signal;
  let cases = 0;
  const hiddenReads = new Set<string>();
  for (const def of ALL_TOOLS as readonly ToolDef[]) {
    await t.step(def.name, async () => {
      const samples = samplesOf(def);
      for (const mode of MODES) {
        const listed = unavailableReason(def, { mode, ...ALL_TOOLSETS }) === undefined;
        let anyAllowed = false;
        let anyChangeAllowed = false;
        for (const sel of SELECTOR_CASES) {
          const settings: PolicySettings = {
            mode,
            guests: sel.guests,
            protected: sel.protected,
            agentExec: { vmids: [String(VMID)], tags: [], programs: ["uptime"] },
          };
          const policy = createPolicy(settings);
          for (const args of samples) {
            const eff = effectOf(def, args);
            const cls: CallClass = eff.cls;
            const principal: Principal = { id: "matrix", transport: "stdio" };
            const reason = await policy.check(def.name, eff, { principal, cluster, signal });
            const what = `${def.name} ${JSON.stringify(args)} in ${mode} with ${sel.name}`;
            cases++;
            const needed = MODE_FOR_CLASS[cls];
            if (!modeAllows(mode, needed)) {
              ok(reason !== undefined, `${what}: a ${cls} call was allowed`);
              ok(
                reason.includes(def.name) && reason.includes(`needs mode ${needed}`),
                `${what}: unclear reason: ${reason}`,
              );
              continue;
            }
            const touches = eff.guests.some((g) => g.vmid === VMID);
            const fenced = sel.guests !== EMPTY || sel.protected !== EMPTY;
            if (eff.refuse !== undefined) {
              ok(reason?.includes(eff.refuse), `${what}: a refused effect was allowed: ${reason}`);
            } else if (cls === "read") {
              deepStrictEqual(reason, undefined, `${what}: a read was denied`);
            } else if (!fenced) {
              deepStrictEqual(reason, undefined, `${what}: denied without selectors`);
            } else if (eff.mass !== undefined) {
              ok(reason?.includes("many guests at once"), `${what}: a mass action was not refused: ${reason}`);
            } else if (eff.undetermined !== undefined) {
              ok(reason?.includes("cannot all be determined"), `${what}: an undetermined change passed: ${reason}`);
            } else if (touches && sel.effect === "outside") {
              ok(reason?.includes(`guest ${VMID}`) && reason.includes("is outside"), `${what}: ${reason}`);
            } else if (touches && sel.effect === "protected") {
              ok(reason?.includes(`guest ${VMID}`) && reason.includes("is protected"), `${what}: ${reason}`);
            } else {
              deepStrictEqual(reason, undefined, `${what}: denied: ${reason}`);
            }
            if (reason === undefined && sel.effect === undefined) {
              anyAllowed = true;
              if (cls !== "read") anyChangeAllowed = true;
            }
          }
        }
        // Listing follows the calls: a listed tool has a call the mode allows. A hidden tool allows no change; it may
        // allow reads (a tool mixing read and change actions is hidden in read-only mode: read-only wins).
        if (listed) ok(anyAllowed, `${def.name} is listed in ${mode} mode but no call of it is allowed there`);
        else {
          ok(!anyChangeAllowed, `${def.name} is hidden in ${mode} mode but changes through it are allowed there`);
          if (anyAllowed) hiddenReads.add(`${def.name} (${mode})`);
        }
      }
    });
  }
  ok(cases > 100, `only ${cases} cases`);
  console.log(`policy matrix: ${ALL_TOOLS.length} tools, ${cases} cases`);
  if (hiddenReads.size) console.log(`hidden although some actions are reads: ${[...hiddenReads].join(", ")}`);
});

Deno.test("policy matrix: a principal's mode cap lowers the server's mode, never raises it", async () => {
  const cluster = fakeCluster();
  const signal = new AbortController().signal;
  const changers = (ALL_TOOLS as readonly ToolDef[]).filter((d) => !d.annotations.readOnlyHint);
  ok(changers.length > 0, "no changing tools in the registry");
  for (
    const [server, cap, expected] of [
      ["admin", "read-only", "read-only"],
      ["admin", "operator", "operator"],
      ["operator", "admin", "operator"],
      ["read-only", "admin", "read-only"],
    ] as [Mode, Mode, Mode][]
  ) {
    const policy = createPolicy({ mode: server, guests: EMPTY, protected: EMPTY });
    for (const def of changers) {
      for (const args of samplesOf(def)) {
        const eff = effectOf(def, args);
        const cls = eff.cls;
        const reason = await policy.check(def.name, eff, {
          principal: { id: "capped", transport: "http", mode: cap },
          cluster,
          signal,
        });
        const allowed = modeAllows(expected, MODE_FOR_CLASS[cls]);
        ok(
          allowed ? !reason?.includes("needs mode") : reason?.includes(`this session runs in ${expected}`),
          `${def.name} ${cls} with server ${server}, cap ${cap}: ${reason}`,
        );
      }
    }
  }
});

Deno.test("policy matrix: tools that can be destructive describe a plan and answer a dry run with an object", () => {
  for (const def of ALL_TOOLS as readonly ToolDef[]) {
    if (!canBeDestructive(def)) continue;
    ok(
      def.plan !== undefined,
      `${def.name} can be destructive but has no plan(): the human could not be told the effect`,
    );
    ok(
      def.output instanceof z.ZodObject,
      `${def.name}: output must be an object so a dry run can answer {dry_run: plan}`,
    );
  }
  for (const def of ALL_TOOLS as readonly ToolDef[]) {
    const destructiveCall = samplesOf(def).some((a) => effectOf(def, a).cls === "destructive");
    ok(!destructiveCall || canBeDestructive(def), `${def.name} has destructive calls but destructiveHint is false`);
  }
});

Deno.test("policy matrix: no tool takes a confirmation or dry-run flag of its own (the pipeline owns both)", () => {
  for (const def of ALL_TOOLS as readonly ToolDef[]) {
    const props = Object.keys((z.toJSONSchema(def.input, { io: "input" }) as JsonSchema).properties ?? {});
    for (const p of props) {
      ok(
        !/^(confirm|confirmed|confirmation|yes|approve|approved|dry_?run|cluster)$/i.test(p),
        `${def.name} takes "${p}"`,
      );
    }
  }
});

Deno.test("policy matrix: guest-agent exec needs an opted-in guest and an allowlisted program", async () => {
  const { checkAgentExec } = await import("../../src/policy/policy.ts");
  const s = { vmids: ["100-149"], tags: ["agent-ok"], programs: ["uptime", "/usr/bin/df"] };
  deepStrictEqual(checkAgentExec(s, { vmid: 120, tags: [] }, ["uptime"]), undefined);
  deepStrictEqual(checkAgentExec(s, { vmid: 300, tags: ["agent-ok"] }, ["/usr/bin/df", "-h"]), undefined);
  ok(checkAgentExec(s, { vmid: 300, tags: [] }, ["uptime"])?.includes("not opted in"));
  ok(checkAgentExec(s, { vmid: 120, tags: [] }, ["rm", "-rf", "/"])?.includes('"rm" is not allowlisted'));
  ok(checkAgentExec(s, { vmid: 120, tags: [] }, ["/tmp/x/uptime"])?.includes("not allowlisted"), "basename matched");
  ok(checkAgentExec(s, { vmid: 120, tags: [] }, ["df"])?.includes("not allowlisted"), "bare name matched a path entry");
  ok(checkAgentExec(s, { vmid: 120, tags: [] }, [])?.includes("needs a program"));
  ok(checkAgentExec(undefined, { vmid: 120, tags: [] }, ["uptime"])?.includes("not opted in"), "default allows exec");
  ok(checkAgentExec({ ...s, programs: [] }, { vmid: 120, tags: [] }, ["uptime"])?.includes("allowed: none"));

  // Through the policy: any effect that runs a program inside a guest is checked, whatever its class or tool.
  const policy = createPolicy({
    mode: "admin",
    guests: EMPTY,
    protected: EMPTY,
    agentExec: { vmids: [], tags: ["web"], programs: ["uptime"] },
  });
  const ctx = {
    principal: { id: "p", transport: "stdio" as const },
    cluster: fakeCluster(),
    signal: new AbortController().signal,
  };
  const exec = (vmid: number, cls: CallClass, program?: string) =>
    policy.check(
      "agent_exec_probe",
      effect({ cls, inGuest: { vmid, what: "exec", ...(program ? { program } : {}) } }),
      ctx,
    );
  deepStrictEqual(await exec(VMID, "write", "uptime"), undefined);
  ok((await exec(VMID, "write", "bash"))?.includes("not allowlisted"));
  ok((await exec(999, "read", "uptime"))?.includes("not opted in"), "read-class exec");
  ok((await exec(VMID, "write"))?.includes("needs a program"));
  const files = (vmid: number) => policy.check("p", effect({ cls: "read", inGuest: { vmid, what: "files" } }), ctx);
  deepStrictEqual(await files(VMID), undefined);
  ok((await files(999))?.includes("not opted in to guest-agent file access"));
});
