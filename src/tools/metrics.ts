/**
 * Metrics history (RRD data) of a node, guest or storage, summarised: min/avg/max/last per metric plus a few
 * downsampled points, so a week of data costs a few hundred bytes instead of tens of kilobytes.
 * @module
 */
import { z } from "zod";
import { defineTool } from "./registry.ts";
import { NodeName, StorageId, VmId } from "../guard/schemas.ts";
import { keysOnly, need, READ, round } from "./infra_common.ts";

type Row = Record<string, unknown>;

/** Unit and scale of a metric, by name. Bytes become GiB, rates KiB/s, fractions percent. */
export function metricUnit(name: string): { unit: string; scale: number } {
  if (name === "cpu" || name === "iowait") return { unit: "%", scale: 100 };
  if (/^(net|disk)(in|out|read|write)$/.test(name)) return { unit: "KiB/s", scale: 1 / 1024 };
  if (
    /^(mem|maxmem|memused|memtotal|memavailable|memfree|swap\w*|root\w*|disk|maxdisk|used|total|arcsize)$/.test(name)
  ) {
    return { unit: "GiB", scale: 1 / 1073741824 };
  }
  return { unit: "", scale: 1 };
}

/** Per-metric statistics. */
export interface MetricStats {
  unit: string;
  min: number;
  avg: number;
  max: number;
  last: number;
}

/** Rounds to 3 significant digits (enough for a summary). */
function sig(v: number): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  const d = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(v))));
  return round(v, Math.min(d, 6));
}

const DEFAULT_POINTS: Record<string, string[]> = {
  node: ["cpu", "memused", "loadavg", "netin", "netout", "iowait"],
  guest: ["cpu", "mem", "netin", "netout", "diskread", "diskwrite"],
  storage: ["used", "total"],
};

/** What {@linkcode summarise} returns. */
export interface Summary {
  samples: number;
  from: number | null;
  to: number | null;
  stats: Record<string, MetricStats>;
  times?: number[];
  points?: Record<string, (number | null)[]>;
}

/**
 * Summarises RRD rows: statistics for every numeric metric, and `points` bucket averages (or maxima) for the
 * `series` metrics. Missing samples (absent keys, NaN) are skipped.
 */
export function summarise(
  rows: readonly Row[],
  opts: { points: number; series: readonly string[]; cf: "AVERAGE" | "MAX" },
): {
  samples: number;
  from: number | null;
  to: number | null;
  stats: Record<string, MetricStats>;
  points?: Record<string, (number | null)[]>;
  times?: number[];
} {
  const sorted = rows.filter((r) => typeof r.time === "number").sort((a, b) => Number(a.time) - Number(b.time));
  const names = new Set<string>();
  for (const r of sorted) {
    for (const [k, v] of Object.entries(r)) if (k !== "time" && typeof v === "number") names.add(k);
  }
  const stats: Record<string, MetricStats> = {};
  for (const name of [...names].sort()) {
    const { unit, scale } = metricUnit(name);
    const vals = sorted.map((r) => r[name]).filter((v): v is number => typeof v === "number" && Number.isFinite(v));
    if (!vals.length) continue;
    const sum = vals.reduce((a, b) => a + b, 0);
    stats[name] = {
      unit,
      min: sig(Math.min(...vals) * scale),
      avg: sig((sum / vals.length) * scale),
      max: sig(Math.max(...vals) * scale),
      last: sig((vals[vals.length - 1] as number) * scale),
    };
  }
  const out = {
    samples: sorted.length,
    from: sorted.length ? Number(sorted[0]!.time) : null,
    to: sorted.length ? Number(sorted[sorted.length - 1]!.time) : null,
    stats,
  };
  const series = opts.series.filter((s) => stats[s]);
  if (opts.points === 0 || !series.length || !sorted.length) return out;
  const n = Math.min(opts.points, sorted.length);
  const buckets: Row[][] = Array.from({ length: n }, () => []);
  sorted.forEach((r, i) => buckets[Math.min(n - 1, Math.floor((i * n) / sorted.length))]!.push(r));
  const points: Record<string, (number | null)[]> = {};
  for (const s of series) {
    const { scale } = metricUnit(s);
    points[s] = buckets.map((b) => {
      const vals = b.map((r) => r[s]).filter((v): v is number => typeof v === "number" && Number.isFinite(v));
      if (!vals.length) return null;
      const v = opts.cf === "MAX" ? Math.max(...vals) : vals.reduce((a, c) => a + c, 0) / vals.length;
      return sig(v * scale);
    });
  }
  return { ...out, times: buckets.map((b) => Number(b[b.length - 1]?.time ?? 0)), points };
}

/** `metrics_history`: RRD history of a node, guest or storage over a time frame, summarised. */
export const metricsHistory = defineTool({
  name: "metrics_history",
  title: "Metrics history",
  description:
    "RRD history of a guest (vmid), storage (node+storage) or node: min/avg/max/last per metric and a few points. Units %, GiB, KiB/s.",
  toolset: "metrics",
  annotations: READ,
  privileges: ["Sys.Audit", "VM.Audit", "Datastore.Audit"],
  input: z.object({
    vmid: VmId.optional(),
    node: NodeName.optional(),
    storage: StorageId.optional(),
    timeframe: z.enum(["hour", "day", "week", "month", "year"]).default("hour"),
    cf: z.enum(["AVERAGE", "MAX"]).default("AVERAGE"),
    points: z.number().int().min(0).max(60).default(12).describe("per series"),
  }).strict(),
  output: keysOnly(["target", "timeframe", "samples", "from", "to", "stats", "times", "points"]),
  async handler(args, ctx) {
    let path: string;
    let target: string;
    let kind: "node" | "guest" | "storage";
    if (args.vmid !== undefined) {
      const ref = await ctx.resolveGuest(args.vmid);
      path = `/nodes/${ref.node}/${ref.type}/${ref.vmid}/rrddata`;
      target = `${ref.type} ${ref.vmid} on ${ref.node}`;
      kind = "guest";
    } else {
      const node = args.node ?? need("vmid, or node (with storage for a storage)", "metrics_history");
      path = args.storage ? `/nodes/${node}/storage/${args.storage}/rrddata` : `/nodes/${node}/rrddata`;
      target = args.storage ? `storage ${args.storage} on ${node}` : `node ${node}`;
      kind = args.storage ? "storage" : "node";
    }
    const { data } = await ctx.pve.request<Row[]>({
      method: "GET",
      path,
      params: { timeframe: args.timeframe, cf: args.cf },
      signal: ctx.signal,
    });
    const sum = summarise(data ?? [], {
      points: args.points,
      series: DEFAULT_POINTS[kind]!,
      cf: args.cf,
    });
    return { target, timeframe: args.timeframe, ...sum };
  },
  text: (out) => {
    const o = out as unknown as Summary & { target: string; timeframe: string };
    const lines = [`${o.target}, last ${o.timeframe}: ${o.samples} samples from ${o.from ?? "-"} to ${o.to ?? "-"}`];
    if (o.times?.length) lines.push(`times: ${o.times.join(" ")}`);
    for (const [k, s] of Object.entries(o.stats)) {
      lines.push(`${k}${s.unit ? ` (${s.unit})` : ""}: min ${s.min} avg ${s.avg} max ${s.max} last ${s.last}`);
    }
    for (const [k, v] of Object.entries(o.points ?? {})) lines.push(`${k} points: ${v.map((x) => x ?? "-").join(" ")}`);
    return lines.join("\n");
  },
});
