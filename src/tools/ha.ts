/**
 * High-availability read tool: manager status, resources, groups and rules.
 * @module
 */
import { z } from "zod";
import { defineTool } from "./registry.ts";
import { InfoOut, infoText, READ, table } from "./infra_common.ts";

type Obj = Record<string, unknown>;

const VIEWS: Record<string, { path: string; columns: string[] }> = {
  status: {
    path: "/cluster/ha/status/current",
    columns: ["id", "type", "node", "status", "state", "crm_state", "request_state", "quorate"],
  },
  resources: {
    path: "/cluster/ha/resources",
    columns: ["sid", "type", "state", "group", "failback", "max_restart", "max_relocate", "comment"],
  },
  groups: { path: "/cluster/ha/groups", columns: ["group", "nodes", "restricted", "nofailback", "comment"] },
  rules: {
    path: "/cluster/ha/rules",
    columns: ["rule", "type", "resources", "nodes", "affinity", "strict", "disable", "comment"],
  },
};

/** `ha_info`: HA manager status, resources, groups (before PVE 9) or rules (PVE 9). */
export const haInfo = defineTool({
  name: "ha_info",
  title: "HA info",
  description: "view status (manager, nodes, services), resources, groups (PVE 8) or rules (PVE 9).",
  toolset: "ha",
  annotations: READ,
  privileges: ["Sys.Audit"],
  input: z.object({ view: z.enum(["status", "resources", "groups", "rules"]).default("status") }).strict(),
  output: InfoOut,
  async handler(args, ctx) {
    const v = VIEWS[args.view]!;
    const { data } = await ctx.pve.request<Obj[]>({ method: "GET", path: v.path, signal: ctx.signal });
    return { total: data.length, ...table(data, v.columns) };
  },
  text: (o) => infoText(o),
});
