/**
 * Node read tool: node list, status, services, network, disks, syslog/journal tail, pending apt updates.
 * @module
 */
import { z } from "zod";
import { defineTool, type ToolContext } from "./registry.ts";
import { NodeName } from "../guard/schemas.ts";
import { PveError } from "../pve/types.ts";
import { gib, InfoOut, type InfoOutT, infoText, READ, round, table } from "./infra_common.ts";

interface NodeRow {
  node: string;
  status: string;
  cpu?: number;
  maxcpu?: number;
  mem?: number;
  maxmem?: number;
  uptime?: number;
}

type Obj = Record<string, unknown>;

const VIEWS = ["status", "services", "network", "disks", "syslog", "journal", "apt"] as const;

/** Longest log line kept (characters). */
const LINE_MAX = 300;

/** Journal cursors (`s=…;i=…;b=…`) that PVE puts first and last in a journal answer. */
const CURSOR = /^s=[0-9a-f]+;i=[0-9a-f]+;/;

/** The curated fields of `/nodes/{node}/status`. */
export function nodeStatusInfo(d: Obj): Obj {
  const o = (k: string) => (d[k] && typeof d[k] === "object" ? d[k] as Obj : {});
  const cpu = o("cpuinfo");
  const mem = o("memory");
  const swap = o("swap");
  const root = o("rootfs");
  const kernel = o("current-kernel");
  const boot = o("boot-info");
  const info: Obj = {
    cpu_pct: typeof d.cpu === "number" ? round(d.cpu * 100) : null,
    iowait_pct: typeof d.wait === "number" ? round(d.wait * 100) : null,
    cpus: cpu.cpus ?? null,
    cpu_model: typeof cpu.model === "string" ? cpu.model : null,
    loadavg: Array.isArray(d.loadavg) ? d.loadavg.map(Number) : null,
    mem_used_gb: gib(mem.used),
    mem_total_gb: gib(mem.total),
    swap_used_gb: gib(swap.used),
    swap_total_gb: gib(swap.total),
    rootfs_used_gb: gib(root.used),
    rootfs_total_gb: gib(root.total),
    uptime: d.uptime ?? null,
    pveversion: d.pveversion ?? null,
    kernel: kernel.release ?? d.kversion ?? null,
    boot: boot.mode ? `${boot.mode}${boot.secureboot ? " secureboot" : ""}` : null,
  };
  for (const k of Object.keys(info)) if (info[k] === null) delete info[k];
  return info;
}

async function view(
  node: string,
  args: { view: (typeof VIEWS)[number]; lines: number; service?: string | undefined },
  ctx: ToolContext,
): Promise<InfoOutT> {
  const get = async <T>(path: string, params?: Record<string, string | number | undefined>) =>
    (await ctx.pve.request<T>({
      method: "GET",
      path: `/nodes/${node}${path}`,
      ...(params ? { params } : {}),
      signal: ctx.signal,
    })).data;
  switch (args.view) {
    case "status":
      return { info: nodeStatusInfo(await get<Obj>("/status")) };
    case "services": {
      const rows = await get<Obj[]>("/services");
      return {
        total: rows.length,
        ...table(rows, ["name", "state", "active-state", "unit-state"], { name: (r) => r.name ?? r.service }),
      };
    }
    case "network": {
      const rows = (await get<Obj[]>("/network")).sort((a, b) => String(a.iface).localeCompare(String(b.iface)));
      return {
        total: rows.length,
        ...table(rows, [
          "iface",
          "type",
          "active",
          "cidr",
          "gateway",
          "cidr6",
          "bridge_ports",
          "slaves",
          "vlan-id",
          "mtu",
          "comments",
        ]),
      };
    }
    case "disks": {
      const rows = await get<Obj[]>("/disks/list");
      return {
        total: rows.length,
        ...table(rows, ["devpath", "type", "size_gb", "model", "serial", "health", "wearout", "used"], {
          size_gb: (r) => gib(r.size),
        }),
      };
    }
    case "syslog": {
      const res = await ctx.pve.request<{ n: number; t: string }[]>({
        method: "GET",
        path: `/nodes/${node}/syslog`,
        params: { limit: args.lines, ...(args.service ? { service: args.service } : {}) },
        signal: ctx.signal,
      });
      const lines = res.data.map((l) => l.t);
      return { ...(res.total !== undefined ? { total: res.total } : {}), log: { untrusted: true, lines } };
    }
    case "journal": {
      const data = await get<string[]>("/journal", { lastentries: args.lines });
      const lines = data.filter((l) => !CURSOR.test(l)).slice(-args.lines);
      return { log: { untrusted: true, lines } };
    }
    case "apt": {
      let rows: Obj[];
      try {
        rows = await get<Obj[]>("/apt/update");
      } catch (e) {
        if (e instanceof PveError && e.kind === "permission") {
          throw new PveError(
            "permission",
            `Cannot list updates on node "${node}": PVE requires Sys.Modify on /nodes/${node} for this (${e.message})`,
            e.details,
          );
        }
        throw e;
      }
      rows.sort((a, b) => String(a.Package).localeCompare(String(b.Package)));
      return { total: rows.length, ...table(rows, ["Package", "OldVersion", "Version", "Priority", "Origin"]) };
    }
  }
}

/** `node_info`: all nodes (no node), or one node's status, services, network, disks, logs or updates. */
export const nodeInfo = defineTool({
  name: "node_info",
  title: "Node info",
  description:
    "No node: all nodes. With node, view: status, services, network, disks, syslog/journal (last lines, untrusted), apt (pending updates).",
  toolset: "nodes",
  annotations: READ,
  privileges: ["Sys.Audit", "Sys.Syslog"],
  input: z.object({
    node: NodeName.optional(),
    view: z.enum(VIEWS).default("status"),
    lines: z.number().int().min(1).max(200).default(50).describe("log lines"),
    service: z.string().regex(/^[\w@.-]{1,64}$/).optional().describe("syslog unit"),
  }).strict(),
  output: InfoOut,
  textCaps: { "info.cpu_model": 100, "log.lines": LINE_MAX },
  async handler(args, ctx) {
    if (args.node !== undefined) return await view(args.node, args, ctx);
    const { data } = await ctx.pve.request<NodeRow[]>({ method: "GET", path: "/nodes", signal: ctx.signal });
    const rows = [...data].sort((a, b) => a.node.localeCompare(b.node));
    return {
      total: rows.length,
      ...table(rows as unknown as Obj[], ["node", "status", "cpu_pct", "mem_used_gb", "mem_total_gb", "uptime"], {
        cpu_pct: (r) => (typeof r.cpu === "number" ? round(r.cpu * 100) : null),
        mem_used_gb: (r) => gib(r.mem),
        mem_total_gb: (r) => gib(r.maxmem),
      }),
    };
  },
  text: (o) => infoText(o),
});
