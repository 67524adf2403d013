/**
 * Storage tools: list, status and content (read); ISO/template download and volume deletion (changes).
 * @module
 */
import { type ChangePlan, type Effect, effect } from "../core/mod.ts";
import { z } from "zod";
import { defineTool, type ToolContext } from "./registry.ts";
import { NodeName, StorageId, VmId, VolumeId } from "../guard/schemas.ts";
import { paginate } from "./paging.ts";
import { startTask, TaskResult, taskText, WaitArg } from "./task_result.ts";
import { PveError } from "../pve/types.ts";
import { pvePath } from "../pve/encode.ts";
import {
  checkParams,
  CursorArg,
  gib,
  InfoOut,
  infoText,
  Limit,
  mib,
  need,
  READ,
  round,
  table,
} from "./infra_common.ts";

type Obj = Record<string, unknown>;

const CONTENT = ["iso", "vztmpl", "backup", "images", "rootdir", "snippets", "import"] as const;

/** `storage_info`: storages (of a node or the cluster), one storage's status, or its content. */
export const storageInfo = defineTool({
  name: "storage_info",
  title: "Storage info",
  description:
    "view list (node optional), status or content (volumes; filter content, vmid). Default: content if storage is given.",
  toolset: "storage",
  annotations: READ,
  privileges: ["Datastore.Audit"],
  input: z.object({
    node: NodeName.optional(),
    storage: StorageId.optional(),
    view: z.enum(["list", "status", "content"]).optional(),
    content: z.enum(CONTENT).optional(),
    vmid: VmId.optional(),
    limit: Limit,
    cursor: CursorArg.optional(),
  }).strict(),
  output: InfoOut,
  async handler(args, ctx) {
    const view = args.view ?? (args.storage ? "content" : "list");
    const get = async <T>(path: string, params?: Obj) =>
      (await ctx.pve.request<T>({ method: "GET", path, params: params as never, signal: ctx.signal })).data;
    const usage = {
      used_gb: (r: Obj) => gib(r.used ?? (r.type === "storage" ? r.disk : undefined)),
      total_gb: (r: Obj) => gib(r.total ?? r.maxdisk),
      used_pct: (r: Obj) => {
        const used = Number(r.used ?? r.disk);
        const total = Number(r.total ?? r.maxdisk);
        return total > 0 ? round((used / total) * 100) : null;
      },
    };
    if (view === "list") {
      if (args.node === undefined) {
        const rows = (await get<Obj[]>("/cluster/resources", { type: "storage" }))
          .filter((r) => r.type === "storage" && (args.storage === undefined || r.storage === args.storage))
          .sort((a, b) => `${a.storage}/${a.node}`.localeCompare(`${b.storage}/${b.node}`));
        return {
          total: rows.length,
          ...table(rows, [
            "storage",
            "node",
            "plugintype",
            "content",
            "shared",
            "status",
            "used_gb",
            "total_gb",
            "used_pct",
          ], usage),
        };
      }
      const rows =
        (await get<Obj[]>(`/nodes/${args.node}/storage`, args.storage ? { storage: args.storage } : undefined))
          .sort((a, b) => String(a.storage).localeCompare(String(b.storage)));
      return {
        total: rows.length,
        ...table(
          rows,
          ["storage", "type", "content", "active", "enabled", "shared", "used_gb", "total_gb", "used_pct"],
          usage,
        ),
      };
    }
    if (args.node === undefined) need("node", `storage_info view=${view}`);
    if (args.storage === undefined) need("storage", `storage_info view=${view}`);
    const base = `/nodes/${args.node}/storage/${args.storage}`;
    if (view === "status") {
      const d = await get<Obj>(`${base}/status`);
      return {
        info: {
          storage: args.storage,
          type: d.type ?? null,
          content: d.content ?? null,
          active: d.active ?? null,
          enabled: d.enabled ?? null,
          shared: d.shared ?? null,
          used_gb: gib(d.used),
          avail_gb: gib(d.avail),
          total_gb: gib(d.total),
          used_pct: usage.used_pct(d),
        },
      };
    }
    const data = await get<Obj[]>(`${base}/content`, { content: args.content, vmid: args.vmid });
    data.sort((a, b) => String(a.volid).localeCompare(String(b.volid)));
    const page = paginate(data, args.limit, args.cursor);
    return {
      total: data.length,
      ...table(page.items, ["volid", "content", "format", "size_mb", "vmid", "ctime", "protected"], {
        size_mb: (r) => mib(r.size),
        vmid: (r) => (r.vmid === undefined ? null : Number(r.vmid)),
      }),
      ...(page.next ? { next_cursor: page.next } : {}),
    };
  },
  text: (o) => infoText(o),
});

/** File name extensions PVE accepts per downloadable content type. */
const EXTENSIONS: Record<string, RegExp> = {
  iso: /\.(iso|img)$/i,
  vztmpl: /\.tar\.(gz|xz|zst|bz2)$|\.tgz$/i,
  import: /\.(ova|ovf|qcow2|raw|vmdk|img)$/i,
};

/**
 * Checks a download URL: http or https only, no credentials inside it (they would end up in logs and the task list).
 * @returns the normalised URL
 */
export function checkDownloadUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`Cannot download: "${url.slice(0, 100)}" is not a URL`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    throw new TypeError(`Cannot download: URL scheme "${u.protocol}" is not allowed, use https:// or http://`);
  }
  if (u.username || u.password) {
    throw new TypeError("Cannot download: the URL contains credentials; use a URL without user:password@");
  }
  return u.href;
}

/** Checks a target file name: one path segment of safe characters, with an extension matching the content type. */
export function checkFilename(filename: string, content: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]{0,250}$/.test(filename) || filename.includes("..")) {
    throw new TypeError(
      `Cannot download: file name "${
        filename.slice(0, 60)
      }" must be one name of letters, digits and . _ + - (no paths)`,
    );
  }
  const ext = EXTENSIONS[content];
  if (ext && !ext.test(filename)) {
    throw new TypeError(
      `Cannot download: file name "${filename}" does not fit content ${content} (expected ${ext.source})`,
    );
  }
}

/** Splits `sha256:<hex>` into algorithm and lower-case hex digest, checking the digest length. */
export function parseChecksum(value: string): { algorithm: string; hex: string } {
  const m = /^(md5|sha1|sha224|sha256|sha384|sha512):([0-9a-f]+)$/.exec(value.trim().toLowerCase());
  const bits: Record<string, number> = { md5: 128, sha1: 160, sha224: 224, sha256: 256, sha384: 384, sha512: 512 };
  if (!m || m[2]!.length * 4 !== bits[m[1]!]) {
    throw new TypeError(
      `Cannot download: checksum must be <algorithm>:<hex digest> with md5, sha1, sha224, sha256, sha384 or sha512, ` +
        `e.g. sha256:<64 hex digits>`,
    );
  }
  return { algorithm: m[1]!, hex: m[2]! };
}

/**
 * The guest a volume belongs to, from its name: disks (`vm-105-disk-0`, `subvol-105-disk-0`, `105/vm-105-disk-0.qcow2`)
 * and backups (`backup/vzdump-qemu-105-…`, PBS `backup/vm/105/…`).
 */
export function volumeOwner(volume: string): number | undefined {
  const name = volume.includes(":") ? volume.slice(volume.indexOf(":") + 1) : volume;
  const m = /^(?:\d+\/)?(?:vm|base|subvol|basevol)-(\d{3,9})-/.exec(name) ?? /^(\d{3,9})\//.exec(name) ??
    /^backup\/vzdump-(?:qemu|lxc|openvz)-(\d{3,9})-/.exec(name) ?? /^backup\/(?:vm|ct)\/(\d{3,9})\//.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * The guest a volume belongs to, for effects: its vmid, `"none"` for content that belongs to no guest (ISO images,
 * container templates, snippets, import files), or `"unknown"` when the name does not say (fail closed).
 */
export function volumeGuest(volume: string): number | "none" | "unknown" {
  const owner = volumeOwner(volume);
  if (owner !== undefined) return owner;
  const name = volume.includes(":") ? volume.slice(volume.indexOf(":") + 1) : volume;
  return /^(iso|vztmpl|snippets|import)\/[^/]+$/.test(name) ? "none" : "unknown";
}

const volumeInput = z.object({
  action: z.enum(["download", "delete"]),
  node: NodeName,
  storage: StorageId,
  url: z.string().max(2048).optional(),
  filename: z.string().max(255).optional(),
  content: z.enum(["iso", "vztmpl", "import"]).default("iso"),
  checksum: z.string().max(140).optional().describe("e.g. sha256:<hex>"),
  volume: VolumeId.optional(),
  wait: WaitArg,
}).strict();
type VolumeArgs = z.infer<typeof volumeInput>;

/** download writes a file onto a storage; delete removes a volume (and names the guest that owns it). */
export function volumeEffect(args: VolumeArgs): Effect {
  if (args.action === "download") return effect({ cls: "write", storages: [args.storage] });
  const storages = [args.storage];
  if (args.volume === undefined) return effect({ cls: "destructive", storages, undetermined: "no volume is named" });
  const owner = volumeGuest(args.volume);
  if (owner === "unknown") {
    return effect({
      cls: "destructive",
      storages,
      undetermined: `which guest owns volume "${args.volume.slice(0, 80)}" cannot be told from its name`,
    });
  }
  return effect({ cls: "destructive", storages, guests: owner === "none" ? [] : [{ vmid: owner, role: "volume" }] });
}

function volumePath(args: VolumeArgs): string {
  const volume = args.volume ?? need("volume", "storage_volume delete");
  const volid = volume.includes(":") ? volume : `${args.storage}:${volume}`;
  if (!volid.startsWith(`${args.storage}:`)) {
    throw new TypeError(`Cannot delete volume "${volid}": it is not on storage "${args.storage}"`);
  }
  // The volume is the path's last parameter and PVE reads the rest of the path as its value, so its slashes stay
  // separators (each piece is checked and escaped: no empty, `.` or `..` segments can slip in).
  return pvePath("nodes", args.node, "storage", args.storage, "content", ...volid.split("/"));
}

async function volumePlan(args: VolumeArgs, ctx: ToolContext): Promise<ChangePlan> {
  if (args.action === "download") {
    return {
      action: `download ${args.content} to ${args.storage}`,
      target: `${args.node}/${args.storage}/${args.filename ?? "?"}`,
      current: "not downloaded",
      effect: `fetch ${args.url ?? "?"} onto storage ${args.storage}`,
    };
  }
  const path = volumePath(args);
  let current: string;
  try {
    const { data } = await ctx.pve.request<Obj>({ method: "GET", path, signal: ctx.signal });
    current = `exists, ${mib(data.size) ?? "?"} MiB, format ${data.format ?? "?"}${
      data.protected ? ", protected" : ""
    }`;
  } catch (e) {
    if (e instanceof PveError && e.kind !== "not_found" && e.kind !== "server") throw e;
    current = "not found";
  }
  const owner = volumeOwner(args.volume ?? "");
  return {
    action: `delete volume ${args.volume}`,
    target: `${args.node}/${args.storage}: ${args.volume}${owner ? ` (of guest ${owner})` : ""}`,
    current,
    effect: "the volume's data is removed permanently from the storage; this cannot be undone",
  };
}

/** `storage_volume`: download an ISO/template/import file from a URL, or delete a volume. */
export const storageVolume = defineTool({
  name: "storage_volume",
  title: "Storage download/delete",
  description:
    "download: fetch an ISO/template/image from an http(s) URL (url, filename, content). delete: remove a volume (destructive).",
  toolset: "storage",
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  privileges: ["Datastore.AllocateTemplate", "Datastore.Allocate", "Sys.AccessNetwork"],
  adminPrivileges: ["Datastore.Allocate"], // delete
  input: volumeInput,
  output: TaskResult,
  effect: volumeEffect,
  plan: volumePlan,
  async handler(args, ctx) {
    if (args.action === "delete") {
      return await startTask(ctx, { method: "DELETE", path: volumePath(args) }, args.wait);
    }
    const url = checkDownloadUrl(args.url ?? need("url", "storage_volume download"));
    const filename = args.filename ?? need("filename", "storage_volume download");
    checkFilename(filename, args.content);
    const sum = args.checksum === undefined ? undefined : parseChecksum(args.checksum);
    const params = {
      url,
      filename,
      content: args.content,
      ...(sum ? { checksum: sum.hex, "checksum-algorithm": sum.algorithm } : {}),
    };
    checkParams("POST", "/nodes/{node}/storage/{storage}/download-url", params, {
      node: args.node,
      storage: args.storage,
    });
    return await startTask(ctx, {
      method: "POST",
      path: `/nodes/${args.node}/storage/${args.storage}/download-url`,
      params,
    }, args.wait);
  },
  text: (o) => taskText("storage_volume", o),
});
