/**
 * Documentation and least-privilege role derived from the registry (docs/tools.md, `pve-mcp role`).
 * @module
 */
import { type Mode } from "../core/mod.ts";
import { z } from "zod";
import { minimumClass, type ToolDef } from "./registry.ts";

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  anyOf?: JsonSchema[];
};

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => `\`${v}\``).join(" \\| ");
  if (s.anyOf) return s.anyOf.map(typeOf).join(" \\| ");
  if (s.type === "array") return `${s.items ? typeOf(s.items) : "any"}[]`;
  const range = s.minimum !== undefined || s.maximum !== undefined ? ` (${s.minimum ?? ""}…${s.maximum ?? ""})` : "";
  return `${Array.isArray(s.type) ? s.type.join("/") : s.type ?? "any"}${range}`;
}

function flag(on: boolean, name: string): string {
  return on ? name : "";
}

/** Markdown for docs/tools.md. */
export function renderToolsDoc(tools: readonly ToolDef[]): string {
  const out: string[] = [
    "# Tools",
    "",
    "Generated from the tool registry by `deno task gen:docs`; a test fails when this page is out of date.",
    "`class` is the least a call of the tool needs: read (any mode), write (operator) or destructive (admin);",
    "tools with an `action` argument classify each call by its action. Hints: RO read-only, D destructive,",
    "I idempotent, OW open world.",
    "",
    "| tool | toolset | class | hints | PVE privileges |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const d of tools) {
    const a = d.annotations;
    const hints = [
      flag(a.readOnlyHint, "RO"),
      flag(a.destructiveHint, "D"),
      flag(a.idempotentHint, "I"),
      flag(a.openWorldHint, "OW"),
    ]
      .filter(Boolean).join(" ");
    out.push(`| [${d.name}](#${d.name}) | ${d.toolset} | ${minimumClass(d)} | ${hints} | ${d.privileges.join(", ")} |`);
  }
  for (const d of tools) {
    const schema = z.toJSONSchema(d.input, { io: "input" }) as JsonSchema;
    out.push("", `## ${d.name}`, "", `**${d.title}.** ${d.description}`, "");
    const props = Object.entries(schema.properties ?? {});
    if (props.length === 0) {
      out.push("No arguments.");
      continue;
    }
    out.push("| argument | type | required | default | notes |", "| --- | --- | --- | --- | --- |");
    for (const [name, p] of props) {
      const req = schema.required?.includes(name) && p.default === undefined ? "yes" : "";
      const def = p.default === undefined ? "" : `\`${JSON.stringify(p.default)}\``;
      out.push(`| \`${name}\` | ${typeOf(p)} | ${req} | ${def} | ${(p.description ?? "").replaceAll("|", "\\|")} |`);
    }
  }
  return out.join("\n") + "\n";
}

/** The union of PVE privileges the given tools need, sorted. */
export function requiredPrivileges(tools: readonly ToolDef[], mode: Mode = "admin"): string[] {
  const used = (t: ToolDef) =>
    mode === "admin" ? t.privileges : t.privileges.filter((p) => !t.adminPrivileges?.includes(p));
  return [...new Set(tools.flatMap(used))].sort();
}

/** `pveum` commands that create a least-privilege role, user and token for the given tools. */
export function roleCommands(
  tools: readonly ToolDef[],
  opts: { role?: string; user?: string; token?: string; mode?: Mode } = {},
): string {
  const role = opts.role ?? "PVEMCP";
  const user = opts.user ?? "mcp@pve";
  const token = opts.token ?? "mcp";
  const privs = requiredPrivileges(tools, opts.mode);
  const mode = opts.mode ? ` in ${opts.mode} mode` : "";
  return [
    `# Least-privilege role for ${tools.length} enabled tools${mode} (${privs.length} privileges)`,
    `pveum role add ${role} --privs "${privs.join(",")}"`,
    `pveum user add ${user} --comment "pve-mcp"`,
    `pveum user token add ${user} ${token} --privsep 1`,
    `# With privilege separation the token's rights are the intersection of the user's and the token's ACLs:`,
    `pveum acl modify / --users ${user} --roles ${role}`,
    `pveum acl modify / --tokens '${user}!${token}' --roles ${role}`,
    `# Narrow "/" to /vms/<id>, /pool/<name> or /storage/<id> paths where you can.`,
  ].join("\n");
}
