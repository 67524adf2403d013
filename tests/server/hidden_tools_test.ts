import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { hiddenToolRefusal, type ToolView } from "../../src/server/hidden_tools.ts";
import { ALL_TOOLS } from "../../src/tools/all.ts";
import { DEFAULT_TOOLSETS } from "../../src/core/mod.ts";
import { selectTools, type ToolFilter } from "../../src/tools/registry.ts";

function view(server: ToolFilter, session: ToolFilter = server): ToolView {
  return { all: ALL_TOOLS, server, session, listed: selectTools(ALL_TOOLS, session) };
}

const BASE: ToolFilter = { mode: "admin", toolsets: DEFAULT_TOOLSETS, allowTools: [], denyTools: [] };

Deno.test("hidden tools: each reason names the setting or the client's cap; listed and unknown tools pass", () => {
  const admin = view(BASE);
  assertEquals(hiddenToolRefusal(admin, "guest_power", {}), undefined, "listed");
  assertEquals(hiddenToolRefusal(admin, "no_such_tool", {}), undefined, "unknown: the SDK answers");
  assertEquals(hiddenToolRefusal(admin, 42, {}), undefined);

  const capped = view(BASE, { ...BASE, mode: "read-only" });
  assertEquals(
    hiddenToolRefusal(capped, "guest_power", {}),
    "guest_power needs mode operator; your client's access is limited to read-only (ask the operator for a token " +
      "with mode operator)",
  );
  const denied = view({ ...BASE, denyTools: ["guest_power"] });
  assert(hiddenToolRefusal(denied, "guest_power", {})?.includes("turned off by the operator (PROXMOX_MCP_DENY_TOOLS)"));
  const allow = view({ ...BASE, allowTools: ["guest_list"] });
  assert(hiddenToolRefusal(allow, "guest_power", {})?.includes("not in the operator's allow list"));
  const toolset = view(BASE, { ...BASE, toolsets: ["cluster"] });
  assert(hiddenToolRefusal(toolset, "guest_list", {})?.includes("which your client's access does not include"));
  const both = view({ ...BASE, mode: "read-only" });
  const msg = hiddenToolRefusal(both, "firewall_change", {}) ?? "";
  assert(msg.includes("needs mode operator") && msg.includes("toolset firewall"), msg);
});

Deno.test("hidden tools: a read-only view refuses only the tool's own other actions", () => {
  const ro = view({ ...BASE, mode: "read-only" });
  assertEquals(hiddenToolRefusal(ro, "snapshot", { vmid: 100, action: "list" }), undefined);
  assertEquals(hiddenToolRefusal(ro, "snapshot", { vmid: 100, action: "explode" }), undefined, "validation answers");
  assert(
    hiddenToolRefusal(ro, "snapshot", { vmid: 100, action: "delete" })?.startsWith(
      "snapshot action delete needs mode admin",
    ),
  );
});
