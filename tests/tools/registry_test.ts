import { z } from "zod";
import { DEFAULT_TOOLSETS, MODES, TOOLSETS } from "../../src/core/mod.ts";
import { ALL_TOOLS } from "../../src/tools/all.ts";
import { selectTools, type ToolDef, unavailableReason } from "../../src/tools/registry.ts";
import { type Simulator, startSimulator } from "../../src/sim/mod.ts";
import { startInProcessStack } from "../fuzz/stack.ts";
import { assert, assertEquals } from "../assert.ts";

Deno.test("registry: names are unique snake_case and every tool has a description, privileges and a toolset", () => {
  const seen = new Set<string>();
  for (const def of ALL_TOOLS) {
    assert(/^[a-z][a-z0-9_]{0,63}$/.test(def.name), `bad tool name ${def.name}`);
    assert(!seen.has(def.name), `duplicate tool name ${def.name}`);
    seen.add(def.name);
    assert(def.description.length >= 20, `${def.name}: description too short`);
    assert(def.title.length > 0, `${def.name}: no title`);
    assert((TOOLSETS as readonly string[]).includes(def.toolset), `${def.name}: unknown toolset ${def.toolset}`);
    assert(def.privileges.length > 0, `${def.name}: no PVE privileges listed`);
  }
});

Deno.test("registry: all four annotations are explicit booleans and consistent", () => {
  for (const def of ALL_TOOLS) {
    const a = def.annotations as unknown as Record<string, unknown>;
    for (const key of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"]) {
      assert(typeof a[key] === "boolean", `${def.name}: annotation ${key} missing`);
    }
    if (def.annotations.readOnlyHint) {
      assert(!def.annotations.destructiveHint, `${def.name}: read-only tools cannot be destructive`);
      assert(def.effect === undefined, `${def.name}: read-only tools cannot declare effects of changes`);
    } else {
      assert(def.effect !== undefined, `${def.name}: a tool that can change something declares its effect`);
    }
  }
});

Deno.test("registry: input schemas are plain objects without top-level anyOf/oneOf/allOf and reject unknown keys", () => {
  for (const def of ALL_TOOLS) {
    const schema = z.toJSONSchema(def.input) as Record<string, unknown>;
    assert(schema.type === "object", `${def.name}: input must be an object schema`);
    for (const key of ["anyOf", "oneOf", "allOf"]) assert(!(key in schema), `${def.name}: top-level ${key}`);
    assert(schema.additionalProperties === false, `${def.name}: input must be strict`);
    const out = z.toJSONSchema(def.output, { io: "output" }) as Record<string, unknown>;
    assert(out.type === "object", `${def.name}: output must be an object schema`);
  }
});

Deno.test("registry: read-only mode lists only read-only tools; read-only wins over allow lists", () => {
  const everything = { toolsets: TOOLSETS, allowTools: [], denyTools: [] };
  const ro = selectTools(ALL_TOOLS, { mode: "read-only", ...everything });
  assert(ro.length > 0, "read-only mode lists nothing");
  assert(ro.every((d) => d.annotations.readOnlyHint), "read-only mode lists a tool that changes things");
  const writers = ALL_TOOLS.filter((d) => !d.annotations.readOnlyHint);
  for (const w of writers) {
    const reason = unavailableReason(w as ToolDef, {
      mode: "read-only",
      toolsets: TOOLSETS,
      allowTools: [w.name],
      denyTools: [],
    });
    assert(reason?.includes("needs mode"), `${w.name}: allow list overrode read-only`);
  }
});

Deno.test("registry: deny wins over allow, and allow lists narrow the tool list", () => {
  const first = ALL_TOOLS[0]!;
  const reason = unavailableReason(first, {
    mode: "admin",
    toolsets: TOOLSETS,
    allowTools: [first.name],
    denyTools: [first.name],
  });
  assert(reason?.includes("denied"), `deny did not win: ${reason}`);
  const only = selectTools(ALL_TOOLS, { mode: "admin", toolsets: [], allowTools: [first.name], denyTools: [] });
  assert(only.length === 1 && only[0] === first, "allow list did not narrow the list to one tool");
});

Deno.test("registry: default toolsets exist and every mode is known", () => {
  for (const t of DEFAULT_TOOLSETS) assert((TOOLSETS as readonly string[]).includes(t), `unknown default toolset ${t}`);
  assert(MODES.length === 3, "three modes");
});

/** The tools a client receives from tools/list in `mode`, every toolset on: the real App, McpServer and client. */
async function listedTools(mode: string, sim: Simulator): Promise<Record<string, unknown>[]> {
  const stack = await startInProcessStack({
    sim,
    env: { PROXMOX_MCP_MODE: mode, PROXMOX_MCP_TOOLSETS: TOOLSETS.join(","), PROXMOX_MCP_LOG_LEVEL: "error" },
  });
  try {
    // As JSON on the wire: keys the client library leaves undefined are not part of what the server sent.
    return JSON.parse(JSON.stringify((await stack.client.listTools()).tools));
  } finally {
    await stack.close();
  }
}

/**
 * One snapshot per mode and tool name (adding a tool adds one entry; it shifts no others) of the tool exactly as
 * tools/list sends it: the compact listed input schema with `dry_run`, descriptions, annotations, read-only views.
 * Regenerate with `deno test -A --update-snapshots tests/tools/registry_test.ts`.
 */
Deno.test("registry: tools/list snapshots per mode, keyed by tool name (what a client receives)", async (t) => {
  await using sim = await startSimulator({ nodes: 1, guests: 1 });
  for (const mode of MODES) {
    const tools = await listedTools(mode, sim);
    const expected = selectTools(ALL_TOOLS, { mode, toolsets: TOOLSETS, allowTools: [], denyTools: [] });
    assertEquals(tools.map((x) => x.name).sort(), expected.map((d) => d.name).sort(), `${mode}: listed tools`);
    for (const tool of tools) await t.assertSnapshot(tool, { name: `${mode}: ${tool.name}` });
  }
});
