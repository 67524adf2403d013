/**
 * Storage read tools.
 * @module
 */
import { z } from "zod";
import { defineTool } from "./registry.ts";
import { NodeName, StorageId, VmId } from "../guard/schemas.ts";
import { PageLimit, paginate } from "./paging.ts";
import { Cursor } from "../guard/schemas.ts";

const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

interface StorageRow {
  storage: string;
  type?: string;
  content?: string;
  active?: number;
  enabled?: number;
  shared?: number;
  used?: number;
  total?: number;
  avail?: number;
}
interface ContentRow {
  volid: string;
  content: string;
  format?: string;
  size?: number;
  vmid?: number;
  ctime?: number;
}

/** `storage_info`: storages of a node, or one storage's content. */
export const storageInfo = defineTool({
  name: "storage_info",
  title: "List storages or a storage's content",
  description: "Without storage: the node's storages with type, content types and usage (GiB). With storage: its " +
    "volumes (ISOs, templates, backups, disks), optionally filtered by content type or vmid.",
  toolset: "storage",
  annotations: READ,
  privileges: ["Datastore.Audit"],
  input: z.object({
    node: NodeName,
    storage: StorageId.optional(),
    content: z.enum(["iso", "vztmpl", "backup", "images", "rootdir", "snippets", "import"]).optional(),
    vmid: VmId.optional(),
    limit: PageLimit,
    cursor: Cursor.optional(),
  }).strict(),
  output: z.object({
    storages: z.array(z.object({
      storage: z.string(),
      type: z.string(),
      content: z.string(),
      active: z.boolean(),
      shared: z.boolean(),
      used_gb: z.number().nullable(),
      total_gb: z.number().nullable(),
    })).optional(),
    volumes: z.array(z.object({
      volid: z.string(),
      content: z.string(),
      format: z.string().optional(),
      size_mb: z.number().optional(),
      vmid: z.number().optional(),
    })).optional(),
    total: z.number().optional(),
    next_cursor: z.string().optional(),
  }),
  async handler(args, ctx) {
    const gb = (v: number | undefined) => (v === undefined ? null : Math.round(v / 1073741824 * 10) / 10);
    if (args.storage === undefined) {
      const { data } = await ctx.pve.request<StorageRow[]>({
        method: "GET",
        path: `/nodes/${args.node}/storage`,
        signal: ctx.signal,
      });
      return {
        storages: data.map((s) => ({
          storage: s.storage,
          type: s.type ?? "",
          content: s.content ?? "",
          active: s.active === 1,
          shared: s.shared === 1,
          used_gb: gb(s.used),
          total_gb: gb(s.total),
        })),
      };
    }
    const { data } = await ctx.pve.request<ContentRow[]>({
      method: "GET",
      path: `/nodes/${args.node}/storage/${args.storage}/content`,
      params: { content: args.content, vmid: args.vmid },
      signal: ctx.signal,
    });
    const page = paginate(data, args.limit, args.cursor);
    return {
      total: data.length,
      volumes: page.items.map((v) => ({
        volid: v.volid,
        content: v.content,
        ...(v.format ? { format: v.format } : {}),
        ...(v.size !== undefined ? { size_mb: Math.round(v.size / 1048576) } : {}),
        ...(v.vmid !== undefined ? { vmid: Number(v.vmid) } : {}),
      })),
      ...(page.next ? { next_cursor: page.next } : {}),
    };
  },
  text: (o) =>
    o.storages
      ? o.storages.map((s) => `${s.storage}\t${s.type}\t${s.content}\t${s.used_gb ?? "-"}/${s.total_gb ?? "-"} GiB`)
        .join("\n")
      : `${o.volumes?.length ?? 0} of ${o.total ?? 0} volumes\n` +
        (o.volumes ?? []).map((v) => `${v.volid}\t${v.size_mb ?? "-"} MiB`).join("\n"),
});
