/**
 * Untrusted text is cleaned in one place: a marker with hostile characters (controls, bidi, zero-width, variation
 * selectors incl. U+E0100+ and U+180B, U+2028/2029, tag characters, an unpaired surrogate) is planted in every
 * free-text field the simulator stores — guest names, notes, tags, pool comments, volume notes, firewall, user, group,
 * token and HA comments, task log lines, agent facts — and every read view of every tool (every value of its
 * view/action enum, with notes included) is walked in read-only mode. No hostile character may reach the client, in
 * text or structured content, results or errors; the marker's visible text must arrive (as data).
 */
import fc from "fast-check";
import { hasInvisible } from "../../src/guard/untrusted.ts";
import { startSimulator } from "../../src/sim/mod.ts";
import { infraOf } from "../../src/sim/routes/infra_state.ts";
import { caseFor, dictFromSim, type ListedTool } from "../fuzz/schema_args.ts";
import { ALL_TOOLSETS_ENV } from "../fuzz/run.ts";
import { assert, call, startStack } from "./harness.ts";

const HOSTILE = "\u202E\u200B\u0007\u001b[2J\u{E0041}\u{E0100}\u180B\u2028\u2029\uFE0F\u061C\u00AD\uFEFF\uD800";
const MARK = "hostile-marker";
const FREE_KEYS = new Set(["comment", "comments", "description", "notes", "desc", "alias"]);

/** Replaces every free-text field (by key) in the simulator's state with the marker. */
function plant(value: unknown, seen = new Set<unknown>()): number {
  if (value === null || typeof value !== "object" || seen.has(value)) return 0;
  seen.add(value);
  let n = 0;
  const items = value instanceof Map ? [...value.values()] : Array.isArray(value) ? value : undefined;
  if (items) return items.reduce((sum: number, v) => sum + plant(v, seen), 0);
  const obj = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (FREE_KEYS.has(k) && typeof v === "string") {
      obj[k] = `${MARK}-${k} ${HOSTILE} end`;
      n++;
    } else n += plant(v, seen);
  }
  return n;
}

function assertClean(value: unknown, where: string): void {
  const walk = (v: unknown): void => {
    if (typeof v === "string") {
      assert(!hasInvisible(v), `${where}: a hostile character survived in ${JSON.stringify(v.slice(0, 200))}`);
    } else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        walk(k);
        walk(x);
      }
    }
  };
  walk(value);
}

Deno.test("e2e: hostile characters in every free-text field never reach the client, in any read view", async () => {
  const sim = await startSimulator({ nodes: 2, guests: 8, seed: 21, taskDurationMs: 0 });
  const s = sim.state;
  for (const g of s.guests.values()) {
    g.name = `${MARK}-name${HOSTILE}`;
    g.tags = [...g.tags, `${MARK}-tag${HOSTILE}`];
    g.config.description = `${MARK}-notes ${HOSTILE} end`;
  }
  const vm = [...s.guests.values()].find((g) => g.type === "qemu" && !g.template)!;
  vm.config.agent = "1";
  vm.status = "running";
  vm.qmpstatus = "running";
  s.pools.set("hostile", { comment: `${MARK}-pool ${HOSTILE}` });
  for (const p of s.pools.values()) p.comment = `${MARK}-pool ${HOSTILE}`;
  for (const st of s.storages.values()) {
    for (const node of s.nodes.keys()) {
      for (const v of s.volumes(st, node)) (v as { notes?: string }).notes = MARK + HOSTILE;
    }
  }
  const infra = infraOf(s);
  for (const u of infra.users.values()) u.comment = `${MARK}-user ${HOSTILE}`;
  const planted = plant(infra) + plant([...s.storages.values()]);
  assert(planted > 10, `planted ${planted} free-text fields`);
  for (const t of sim.tasks.all()) t.log.push(`${MARK}-log ${HOSTILE}`);
  s.touch();

  const stack = await startStack({
    sim,
    mode: "read-only",
    env: { ...ALL_TOOLSETS_ENV, PROXMOX_MCP_MODE: "read-only" },
  });
  let calls = 0;
  let withMark = 0;
  try {
    const tools = (await stack.client.listTools()).tools as unknown as ListedTool[];
    const dict = dictFromSim(sim);
    for (const tool of tools) {
      const props = tool.inputSchema.properties ?? {};
      const field = ["view", "action"].find((f) => Array.isArray(props[f]?.enum));
      const values = field ? (props[field]!.enum as string[]) : [undefined];
      const bases = fc.sample(caseFor(tool, dict).filter((c) => c.kind === "valid"), { seed: 77, numRuns: 3 });
      for (const value of values) {
        for (const base of bases) {
          const args: Record<string, unknown> = { ...base.args };
          if (field) args[field] = value;
          if ("include_notes" in props) args.include_notes = true;
          if ("vmid" in props && base.args.vmid !== undefined) args.vmid = vm.vmid;
          const r = await call(stack.client, tool.name, args).catch((e) => ({ error: String(e) }));
          calls++;
          assertClean(r, `${tool.name} ${field ?? ""}=${value ?? ""}`);
          if (JSON.stringify(r).includes(MARK)) withMark++;
        }
      }
    }
  } finally {
    await stack.close();
    await sim.close();
  }
  assert(calls > 100, `walked ${calls} calls`);
  assert(withMark > 20, `the marker reached the client (as clean data) in only ${withMark} of ${calls} results`);
});
