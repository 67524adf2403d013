/**
 * `deno task bench`: speed, memory and size figures of pve-mcp against the built-in simulator, all measured in one run
 * on one machine and stated as ratios to a reference measured in the same run (the raw HTTPS request the tool makes;
 * a bare `Deno.serve`). Writes docs/benchmarks.md (the machine, the figures, the goals from the issues).
 *
 * Usage: deno task bench [--quick] [--heap-cap-mib N] [--out docs/benchmarks.md] [--json FILE] [--no-write]
 * (`--heap-cap-mib` caps V8's old space in the measured servers: memory that stays flat under a cap is garbage
 * collected lazily, not leaked.)
 * @module
 */
import { parseArgs } from "node:util";
import { permissionFlags, V8_FLAGS } from "../src/permissions/profiles.ts";
import { startSimulator } from "../src/sim/mod.ts";
import { describeMachine, idleDenoRss } from "./bench/machine.ts";
import { renderReport } from "./bench/report.ts";
import type { BenchResults } from "./bench/results.ts";
import { renderHighlights } from "./bench/report_notes.ts";
import { writeBlock } from "./doc_blocks.ts";
import { listingBytes, toolsListSizes } from "./bench/sizes.ts";
import { pageThrough, pairedLatency, rawGetter, ROOT, rssRun, secondsApart, startStdioServer } from "./bench/stdio.ts";
import { startupProbe, startupRounds } from "./bench/startup.ts";
import { httpToolCall, loadScenario, startBare, startServeHttp, startSimProcess, throughput } from "./bench/http.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    "heap-cap-mib": { type: "string" },
    out: { type: "string", default: `${ROOT}docs/benchmarks.md` },
    json: { type: "string" },
    "no-write": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(
    "Usage: deno task bench [--quick] [--heap-cap-mib N] [--out docs/benchmarks.md] [--json FILE] [--no-write]",
  );
  Deno.exit(0);
}
const quick = values.quick;
/** V8 old-space cap for the measured servers (tells lazily collected garbage from a leak). */
const heapFlags = values["heap-cap-mib"] ? [`--v8-flags=--max-old-space-size=${Number(values["heap-cap-mib"])}`] : [];
/** The HTTP servers run with `-A` (they listen on an ephemeral port) but with the profile's V8 flags. */
const httpFlags = [`--v8-flags=${V8_FLAGS.join(",")}`, ...heapFlags];
const scale = (n: number) => (quick ? Math.max(5, Math.round(n / 10)) : n);
const step = (msg: string) => console.error(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${msg}`);
const t0 = performance.now();

/** Every measured server runs under the release profile (its permission and V8 flags), as users run it. */
const releaseFlags = permissionFlags({ profile: "release" });
const machine = await describeMachine();
const denoIdleKiB = await idleDenoRss();
step(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Deno ${machine.deno}`);

// --- small cluster: sizes, guest status latency ---------------------------------------------------------------
const small = await startSimulator({ nodes: 3, guests: 30, seed: 1 });
const toolsList = await toolsListSizes(small);
step(`tools/list: defaults ${toolsList.defaults.bytes} B, everything ${toolsList.everything.bytes} B`);

const smallGuest = [...small.state.guests.values()].find((g) => !g.template)!;
const statusPath = (g: typeof smallGuest) => `/nodes/${g.node}/${g.type}/${g.vmid}/status/current`;
let server = await startStdioServer(small, { flags: releaseFlags });
let raw = rawGetter(small);
const infoCall = (vmid: number) => () => server.client.callTool({ name: "guest_info", arguments: { vmid } });
const smallInfo = await pairedLatency(scale(400), 40, () => raw.get(statusPath(smallGuest)), infoCall(smallGuest.vmid));
step(`small guest_info: tool ${smallInfo.tool.median.toFixed(2)} ms vs raw ${smallInfo.raw.median.toFixed(2)} ms`);
small.faults.set("*", { latencyMs: 5 });
const smallInfo5 = await pairedLatency(
  scale(200),
  20,
  () => raw.get(statusPath(smallGuest)),
  infoCall(smallGuest.vmid),
);
small.faults.clear();
step(`small guest_info +5 ms: added ${smallInfo5.added.median.toFixed(2)} ms`);
await server.close();
raw.close();

// --- start-up (small cluster): the floor, source and bundle, in interleaved rounds; where start-up goes -------------
const first = { name: "guest_info", arguments: { vmid: smallGuest.vmid } };
const bundlePath = `${ROOT}dist/pve-mcp.js`;
const bundleBytes = await Deno.stat(bundlePath).then((s) => s.size, () => undefined);
const startup = await startupRounds(
  small,
  {
    source: { flags: releaseFlags },
    ...(bundleBytes !== undefined && { bundle: { entry: bundlePath, flags: ["--no-config", ...releaseFlags] } }),
  },
  first,
  scale(8),
);
step(
  `start-up: node ${startup.node?.median.toFixed(0) ?? "n/a"} ms, deno ${startup.denoEmpty.median.toFixed(0)} ms, ` +
    Object.entries(startup.cold).map(([k, v]) => `${k} ${v.median.toFixed(0)} ms`).join(", "),
);
const probe = await startupProbe(quick ? 1 : 3);
await small.close();

// --- large cluster: listing, guest status, upstream requests, bytes per guest, RSS -----------------------------
const large = await startSimulator({ nodes: 20, guests: 2000, seed: 2 });
server = await startStdioServer(large, { flags: releaseFlags });
raw = rawGetter(large);
const largeGuest = [...large.state.guests.values()].find((g) => !g.template)!;
const listAll = { name: "guest_list", arguments: { limit: 5000 } };
const listRaw = () => raw.get("/cluster/resources?type=vm");
const list = await pairedLatency(scale(80), 8, listRaw, () => server.client.callTool(listAll));
step(`large guest_list (2,000): tool ${list.tool.median.toFixed(2)} ms vs raw ${list.raw.median.toFixed(2)} ms`);
large.faults.set("*", { latencyMs: 5 });
const list5 = await pairedLatency(scale(50), 5, listRaw, () => server.client.callTool(listAll));
large.faults.clear();
const largeInfo = await pairedLatency(
  scale(300),
  30,
  () => raw.get(statusPath(largeGuest)),
  () => server.client.callTool({ name: "guest_info", arguments: { vmid: largeGuest.vmid } }),
);
step(`large guest_info: added ${largeInfo.added.median.toFixed(2)} ms`);
large.clearRequests();
const full = await listingBytes(server.client, { limit: 5000 });
const upstreamRequests = large.requests.length;
const page = await listingBytes(server.client, {});
step(
  `listing: ${upstreamRequests} upstream request(s), ${
    full.bytesPerGuest.toFixed(1)
  } B/guest, page ${page.totalBytes} B`,
);
const apart = await secondsApart(server, large, raw.get, 4000, quick ? 2 : 3);
step(`status after 4 s idle: ${apart.requests.join("/")} request(s), ${apart.tool.median.toFixed(1)} ms`);
const paging = await pageThrough(server, large);
step(`paging: ${paging.pages} pages, ${paging.listings} listing request(s)`);
await server.close();
// RSS on a fresh server under the release profile (its V8 flags included), so "at start" is the idle process after
// initialize.
server = await startStdioServer(large, { flags: [...releaseFlags, ...heapFlags] });
const vmids = [...large.state.guests.keys()];
const rss = await rssRun(
  server,
  quick ? 1000 : 10_000,
  4,
  quick ? 250 : 1000,
  (i) => i % 20 === 0 ? listAll : { name: "guest_info", arguments: { vmid: vmids[i % vmids.length]! } },
  0,
);
step(`RSS: ${(rss.endKiB / 1024).toFixed(1)} MiB after ${rss.calls} calls (${rss.seconds.toFixed(0)} s)`);
await server.close();
raw.close();
await large.close();

// --- HTTP: throughput vs bare Deno.serve, then the load scenario ------------------------------------------------
let http: BenchResults["http"];
let load: BenchResults["load"];
try {
  const simProc = await startSimProcess(3, 30);
  try {
    const vm = 100;
    const mcp = await startServeHttp(simProc, { tokens: ["bench"], perMinute: 1_000_000, flags: httpFlags });
    let mcpRun;
    try {
      const check = await httpToolCall(mcp.url, mcp.tokens.bench, "guest_info", { vmid: vm }, 0);
      if (check.outcome !== "ok") throw new Error(`serve --http answered ${check.detail}`);
      mcpRun = await throughput(
        20,
        quick ? 2 : 5,
        1,
        (i) => httpToolCall(mcp.url, mcp.tokens.bench, "guest_info", { vmid: vm }, i),
      );
    } finally {
      await mcp.close();
    }
    const bare = await startBare();
    let bareRun;
    try {
      bareRun = await throughput(
        20,
        quick ? 2 : 5,
        1,
        (i) => httpToolCall(bare.url, undefined, "guest_info", { vmid: vm }, i),
      );
    } finally {
      await bare.close();
    }
    http = { mcp: mcpRun, bare: bareRun, ratio: mcpRun.perSecond / bareRun.perSecond };
    step(`HTTP: ${mcpRun.perSecond.toFixed(0)} calls/s vs bare ${bareRun.perSecond.toFixed(0)}/s`);

    const names = Array.from({ length: 20 }, (_, i) => `load-${i + 1}`);
    const perMinute = 100;
    const loadServer = await startServeHttp(simProc, { tokens: names, perMinute, flags: httpFlags });
    try {
      load = await loadScenario(
        loadServer,
        names,
        quick ? 200 : 1000,
        perMinute,
        (c, i) => ({ vmid: 100 + ((c + i) % 30) }),
      );
    } finally {
      await loadServer.close();
    }
    step(`load: ${load.errors} errors, worst deviation ${load.worstDeviation.toFixed(2)} tokens`);
  } finally {
    await simProc.close();
  }
} catch (e) {
  const why = `serve --http could not be benchmarked: ${(e as Error).message.split("\n")[0]}`;
  step(why);
  http = { pending: why };
  load = { pending: why };
}

machine.loadAverageEnd = Deno.loadavg().map((v) => v.toFixed(2)).join(", ");
const results: BenchResults = {
  machine,
  quick,
  seconds: (performance.now() - t0) / 1000,
  toolsList,
  small: { guestInfo: smallInfo, guestInfo5ms: smallInfo5 },
  large: { guestInfo: largeInfo, list, list5ms: list5, upstreamRequests, full, page, apart, paging },
  rss,
  denoIdleKiB,
  heapCapMiB: heapFlags.length ? Number(values["heap-cap-mib"]) : undefined,
  startup: { flags: releaseFlags.join(" "), ...startup, probe, ...(bundleBytes !== undefined && { bundleBytes }) },
  http,
  load,
};
step("done");
if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(results, null, 2));
const report = renderReport(results);
if (!values["no-write"]) {
  await Deno.writeTextFile(values.out, report);
  // Formatted like every other page (`deno fmt --check` runs in `deno task ok`).
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", values.out], cwd: ROOT }).output();
  // docs/reliability.md shows the same run's verdicts (never figures typed by hand).
  await writeBlock(`${ROOT}docs/reliability.md`, "bench", renderHighlights(results));
  console.error(`Wrote ${values.out} and the bench block of docs/reliability.md`);
} else console.log(report);
