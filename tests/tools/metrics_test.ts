import { metricsHistory, metricUnit, summarise } from "../../src/tools/metrics.ts";
import { assert, assertEquals, callTool, errorOf, fakeInfra, guest } from "./infra_fake.ts";

const GiB = 1024 ** 3;

Deno.test("summarise: min/avg/max/last in display units, missing samples skipped", () => {
  const rows = [
    { time: 300, cpu: 0.5, mem: 2 * GiB },
    { time: 100, cpu: 0.1, mem: 1 * GiB },
    { time: 200, mem: 3 * GiB },
    { time: 400, cpu: NaN, netin: 2048 },
  ];
  const s = summarise(rows, { points: 2, series: ["cpu", "mem"], cf: "AVERAGE" });
  assertEquals([s.samples, s.from, s.to], [4, 100, 400]);
  assertEquals(s.stats.cpu, { unit: "%", min: 10, avg: 30, max: 50, last: 50 });
  assertEquals(s.stats.mem, { unit: "GiB", min: 1, avg: 2, max: 3, last: 2 });
  assertEquals(s.stats.netin, { unit: "KiB/s", min: 2, avg: 2, max: 2, last: 2 });
  assertEquals(s.points, { cpu: [10, 50], mem: [2, 2] });
  assertEquals(s.times, [200, 400]);
  const max = summarise(rows, { points: 1, series: ["mem"], cf: "MAX" });
  assertEquals(max.points, { mem: [3] });
  assertEquals(summarise([], { points: 5, series: ["cpu"], cf: "AVERAGE" }).samples, 0);
});

Deno.test("metricUnit: bytes, rates and fractions", () => {
  assertEquals(metricUnit("rootused").unit, "GiB");
  assertEquals(metricUnit("diskwrite").unit, "KiB/s");
  assertEquals(metricUnit("iowait").unit, "%");
  assertEquals(metricUnit("loadavg").unit, "");
});

Deno.test("metrics_history: guest by vmid alone, storage and node paths; a week stays small", async () => {
  const week = Array.from(
    { length: 336 },
    (_, i) => ({
      time: i * 1800,
      cpu: (i % 10) / 100,
      mem: GiB,
      maxmem: 4 * GiB,
      netin: 1e4,
      netout: 2e4,
      diskread: 0,
      diskwrite: 1e5,
    }),
  );
  const { ctx, sent } = fakeInfra({
    "GET /nodes/pve3/lxc/200/rrddata": week,
    "GET /nodes/pve1/storage/local/rrddata": [{ time: 1, used: GiB, total: 2 * GiB }],
    "GET /nodes/pve1/rrddata": [{ time: 1, cpu: 0.2, loadavg: 1.5 }],
  }, { guests: [guest(200, "lxc", { node: "pve3" })] });
  const g = await callTool<Record<string, unknown>>(metricsHistory, { vmid: 200, timeframe: "week" }, ctx);
  assertEquals(g.target, "lxc 200 on pve3");
  assertEquals(sent[0]?.params, { timeframe: "week", cf: "AVERAGE" });
  assert(JSON.stringify(g).length < 1500, `summary too big: ${JSON.stringify(g).length} bytes for 336 samples`);
  assertEquals(Object.keys(g.points as object), ["cpu", "mem", "netin", "netout", "diskread", "diskwrite"]);
  const s = await callTool<Record<string, unknown>>(metricsHistory, { node: "pve1", storage: "local", cf: "MAX" }, ctx);
  assertEquals(s.target, "storage local on pve1");
  const n = await callTool<Record<string, unknown>>(metricsHistory, { node: "pve1", points: 0 }, ctx);
  assertEquals(n.points, undefined);
  assertEquals((n.stats as Record<string, unknown>).loadavg, { unit: "", min: 1.5, avg: 1.5, max: 1.5, last: 1.5 });
  assert((await errorOf(() => callTool(metricsHistory, {}, ctx))).includes("pass vmid"), "needs a target");
  assert(metricsHistory.text(g).includes("cpu (%): min 0 avg"), metricsHistory.text(g));
});
