/**
 * Read-only guest tools: one listing request for the whole cluster, and status/config by vmid alone.
 * @module
 */
import { z } from "zod";
import { defineTool } from "./registry.ts";
import { Cursor, GuestType, NodeName, PoolId, Tag, VmId } from "../guard/schemas.ts";
import { type VmResource } from "../pve/guests.ts";
import { PageLimit, paginate, parseCursor } from "./paging.ts";

const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

const EXTRA_FIELDS = ["tags", "cpu", "mem", "disk", "uptime", "pool", "lock", "hastate"] as const;
const BASE_COLUMNS = ["vmid", "name", "type", "node", "status"] as const;

/** Case-insensitive glob (`*`, `?`) → RegExp. */
function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "i");
}

function extraValue(row: VmResource, field: (typeof EXTRA_FIELDS)[number]): string | number | null {
  switch (field) {
    case "cpu":
      return row.cpu === undefined ? null : Math.round(row.cpu * 1000) / 10; // percent, one decimal
    case "mem":
      return row.mem === undefined ? null : Math.round(row.mem / 1048576); // MiB
    case "disk":
      return row.disk === undefined ? null : Math.round(row.disk / 1073741824); // GiB
    case "uptime":
      return row.uptime ?? null;
    default:
      return row[field] ?? null;
  }
}

/** `guest_list`: every guest of the cluster through one `/cluster/resources` request, filtered and paged. */
export const guestList = defineTool({
  name: "guest_list",
  title: "List guests (VMs and containers)",
  description:
    "List QEMU VMs and LXC containers across the cluster with one API request. Filters: type, node, status, tag, " +
    "pool, name (glob, e.g. web-*). Compact columnar rows; page with cursor. Add fields for tags, cpu (%), mem (MiB), " +
    "disk (GiB), uptime (s), pool, lock, hastate.",
  toolset: "guests",
  annotations: READ,
  privileges: ["VM.Audit"],
  input: z.object({
    type: GuestType.optional(),
    node: NodeName.optional(),
    status: z.enum(["running", "stopped", "paused", "suspended"]).optional(),
    tag: Tag.optional(),
    pool: PoolId.optional(),
    name: z.string().max(100).optional().describe("Glob on the guest name, e.g. db-*"),
    templates: z.boolean().default(true).describe("Include templates"),
    fields: z.array(z.enum(EXTRA_FIELDS)).max(EXTRA_FIELDS.length).optional(),
    limit: PageLimit,
    cursor: Cursor.optional(),
  }).strict(),
  output: z.object({
    total: z.number().int(),
    columns: z.array(z.string()),
    rows: z.array(z.array(z.union([z.string(), z.number(), z.null()]))),
    next_cursor: z.string().optional(),
  }),
  async handler(args, ctx) {
    const listing = await ctx.listGuests(parseCursor(args.cursor).snapshot);
    const name = args.name === undefined ? undefined : globToRegExp(args.name);
    const rows = listing.rows.filter((r) =>
      (r.type === "qemu" || r.type === "lxc") &&
      (args.type === undefined || r.type === args.type) &&
      (args.node === undefined || r.node === args.node) &&
      (args.status === undefined || r.status === args.status) &&
      (args.pool === undefined || r.pool === args.pool) &&
      (args.tag === undefined || (r.tags ?? "").split(/[;, ]+/).includes(args.tag)) &&
      (name === undefined || name.test(r.name ?? "")) &&
      (args.templates || r.template !== 1)
    ).sort((a, b) => Number(a.vmid) - Number(b.vmid));
    const fields = args.fields ?? [];
    const page = paginate(rows, args.limit, args.cursor, listing.id);
    return {
      total: rows.length,
      columns: [...BASE_COLUMNS, ...fields],
      rows: page.items.map((r) => [
        Number(r.vmid),
        r.name ?? "",
        r.template === 1 ? `${r.type}-template` : r.type,
        r.node ?? "",
        r.status ?? "",
        ...fields.map((f) => extraValue(r, f)),
      ]),
      ...(page.next ? { next_cursor: page.next } : {}),
    };
  },
  // Every row of the page (a client may show the model only the text); the page size keeps it within ~16 KB.
  text: (out) =>
    `${out.rows.length} of ${out.total} guests` + (out.next_cursor ? ` (more: cursor ${out.next_cursor})` : "") +
    "\n" + [out.columns, ...out.rows].map((r) => r.map((c) => c ?? "-").join("\t")).join("\n"),
});

const STATUS_KEYS = [
  "status",
  "qmpstatus",
  "lock",
  "uptime",
  "cpu",
  "cpus",
  "mem",
  "maxmem",
  "disk",
  "maxdisk",
  "netin",
  "netout",
  "ha",
  "agent",
  "tags",
  "template",
  "pid",
  "running-machine",
  "running-qemu",
] as const;

/** `guest_info`: status or configuration of one guest, addressed by vmid alone. */
export const guestInfo = defineTool({
  name: "guest_info",
  title: "Show a guest's status or configuration",
  description:
    "Current status (default) or configuration of a VM or container, by vmid alone (the node is found for you). " +
    "Notes/description are left out unless include_notes is true (they are untrusted text).",
  toolset: "guests",
  annotations: READ,
  privileges: ["VM.Audit"],
  input: z.object({
    vmid: VmId,
    view: z.enum(["status", "config"]).default("status"),
    include_notes: z.boolean().default(false),
  }).strict(),
  output: z.object({
    vmid: z.number(),
    type: z.string(),
    node: z.string(),
    name: z.string(),
    status: z.record(z.string(), z.unknown()).optional(),
    config: z.record(z.string(), z.unknown()).optional(),
    notes: z.object({ untrusted: z.literal(true), text: z.string() }).optional(),
  }),
  async handler(args, ctx) {
    const ref = await ctx.resolveGuest(args.vmid);
    const base = `/nodes/${ref.node}/${ref.type}/${ref.vmid}`;
    const head = { vmid: ref.vmid, type: ref.type, node: ref.node, name: ref.name };
    if (args.view === "status") {
      const { data } = await ctx.pve.request<Record<string, unknown>>({
        method: "GET",
        path: `${base}/status/current`,
        signal: ctx.signal,
      });
      const status: Record<string, unknown> = {};
      for (const key of STATUS_KEYS) if (data?.[key] !== undefined) status[key] = data[key];
      return { ...head, status };
    }
    const { data } = await ctx.pve.request<Record<string, unknown>>({
      method: "GET",
      path: `${base}/config`,
      signal: ctx.signal,
    });
    const { description, digest: _digest, ...config } = data ?? {};
    const out: { config: Record<string, unknown>; notes?: { untrusted: true; text: string } } = { config };
    if (args.include_notes && typeof description === "string") {
      out.notes = { untrusted: true, text: description };
    } else if (typeof description === "string") {
      config["description"] = "(left out: pass include_notes to read it)";
    }
    return { ...head, ...out };
  },
  text: (out) => {
    const head = `${out.type} ${out.vmid} "${out.name}" on ${out.node}`;
    const body = out.status ?? out.config ?? {};
    const lines = Object.entries(body).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`);
    if (out.notes) lines.push(`notes (untrusted text from the cluster): ${out.notes.text}`);
    return [head, ...lines].join("\n");
  },
});
