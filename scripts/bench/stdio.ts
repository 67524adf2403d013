/**
 * The server as a stdio subprocess (source or bundle) driven by a real MCP client, and the measurements made through
 * it: added latency over the raw HTTPS request, RSS under a long run, cold start to the first tool result.
 * @module
 */
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import type { Simulator } from "../../src/sim/mod.ts";
import { rssKiB } from "./machine.ts";
import { slope, summary } from "./stats.ts";

/** Repository root. */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** A server subprocess with its client. */
export interface StdioServer {
  client: Client;
  pid: number;
  stderr(): string;
  close(): Promise<void>;
}

/** How to start the server. */
export interface ServerLaunch {
  /** Program file (default src/main.ts). */
  entry?: string;
  /** Deno permission flags (default -A). */
  flags?: string[];
  env?: Record<string, string>;
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "DENO_DIR", "DENO_TLS_CA_STORE", "DENO_NO_UPDATE_CHECK", "NO_COLOR", "TMPDIR"]) {
    const v = Deno.env.get(k);
    if (v !== undefined) env[k] = v;
  }
  return env;
}

/** Writes the simulator's CA next to a temp dir and returns the server environment for it. */
export async function serverEnv(sim: Simulator, dir: string, extra: Record<string, string> = {}) {
  await Deno.writeTextFile(`${dir}/ca.pem`, sim.caCertPem);
  return {
    ...baseEnv(),
    PROXMOX_HOST: "127.0.0.1",
    PROXMOX_PORT: String(sim.port),
    PROXMOX_TOKEN_ID: sim.tokens.admin.tokenId,
    PROXMOX_TOKEN_SECRET: sim.tokens.admin.secret,
    PROXMOX_CA_FILE: `${dir}/ca.pem`,
    PROXMOX_MCP_LOG_LEVEL: "warning",
    // The benchmark measures speed, not the per-principal limiter (the load scenario checks that).
    PROXMOX_MCP_RATE_LIMIT_PER_MINUTE: "1000000",
    ...extra,
  };
}

/** Starts the server against a simulator and connects a client. */
export async function startStdioServer(sim: Simulator, launch: ServerLaunch = {}): Promise<StdioServer> {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-bench-" });
  const env = await serverEnv(sim, dir, launch.env);
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", ...(launch.flags ?? ["-A"]), "--quiet", launch.entry ?? `${ROOT}src/main.ts`, "serve"],
    env,
    cwd: dir,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (c: Uint8Array) => (stderr += new TextDecoder().decode(c)));
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(transport);
  return {
    client,
    pid: transport.pid ?? -1,
    stderr: () => stderr,
    close: async () => {
      await client.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** A raw HTTPS GET with the server's credential, over a kept-alive connection; the body is read and parsed. */
export function rawGetter(sim: Simulator): { get: (path: string) => Promise<unknown>; close: () => void } {
  const http = Deno.createHttpClient({ caCerts: [sim.caCertPem] });
  const headers = { authorization: sim.tokens.admin.header, accept: "application/json" };
  return {
    get: async (path) => {
      const res = await fetch(`${sim.url}/api2/json${path}`, { client: http, headers });
      if (!res.ok) throw new Error(`Raw GET ${path} failed: ${res.status}`);
      return JSON.parse(await res.text());
    },
    close: () => http.close(),
  };
}

/** Latency of one call through the MCP client vs the raw request, measured in interleaved pairs. */
export interface PairedLatency {
  tool: { median: number; p95: number; n: number };
  raw: { median: number; p95: number; n: number };
  added: { median: number; p95: number };
}

/** Runs `n` interleaved pairs (order alternating) after `warmup` pairs; fails on a tool error. */
export async function pairedLatency(
  n: number,
  warmup: number,
  raw: () => Promise<unknown>,
  tool: () => Promise<{ isError?: boolean | undefined }>,
): Promise<PairedLatency> {
  const rawT: number[] = [];
  const toolT: number[] = [];
  const timeRaw = async () => {
    const t = performance.now();
    await raw();
    return performance.now() - t;
  };
  const timeTool = async () => {
    const t = performance.now();
    const r = await tool();
    const d = performance.now() - t;
    if (r.isError) throw new Error(`The tool call failed during the benchmark: ${JSON.stringify(r).slice(0, 300)}`);
    return d;
  };
  for (let i = 0; i < warmup + n; i++) {
    let a: number, b: number;
    if (i % 2 === 0) {
      a = await timeRaw();
      b = await timeTool();
    } else {
      b = await timeTool();
      a = await timeRaw();
    }
    if (i >= warmup) {
      rawT.push(a);
      toolT.push(b);
    }
  }
  const t = summary(toolT);
  const r = summary(rawT);
  return { tool: t, raw: r, added: { median: t.median - r.median, p95: t.p95 - r.p95 } };
}

/** RSS over a long run. */
export interface RssRun {
  calls: number;
  startKiB: number;
  warmKiB: number;
  endKiB: number;
  maxKiB: number;
  /** KiB per 1,000 calls over the second half of the run (flat ≈ 0). */
  slopeKiBPer1000: number;
  samples: { calls: number; kib: number }[];
  seconds: number;
}

/** Runs `calls` calls (`concurrency` in flight), sampling the server's VmRSS every `every` calls. */
export async function rssRun(
  server: StdioServer,
  calls: number,
  concurrency: number,
  every: number,
  next: (i: number) => { name: string; arguments: Record<string, unknown> },
  warmup = 500,
): Promise<RssRun> {
  const startKiB = await rssKiB(server.pid);
  const run = async (from: number, to: number) => {
    let i = from;
    const worker = async () => {
      while (i < to) {
        const r = await server.client.callTool(next(i++)) as { isError?: boolean };
        if (r.isError) throw new Error(`A call failed during the RSS run: ${JSON.stringify(r).slice(0, 300)}`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };
  await run(0, warmup);
  const warmKiB = await rssKiB(server.pid);
  const samples: { calls: number; kib: number }[] = [{ calls: 0, kib: warmKiB }];
  const started = performance.now();
  for (let done = 0; done < calls; done += every) {
    await run(done, Math.min(calls, done + every));
    samples.push({ calls: Math.min(calls, done + every), kib: await rssKiB(server.pid) });
  }
  const seconds = (performance.now() - started) / 1000;
  const half = samples.slice(Math.floor(samples.length / 2));
  return {
    calls,
    startKiB,
    warmKiB,
    endKiB: samples.at(-1)!.kib,
    maxKiB: Math.max(...samples.map((s) => s.kib)),
    slopeKiBPer1000: slope(half.map((s) => s.calls), half.map((s) => s.kib)) * 1000,
    samples,
    seconds,
  };
}

/** Cold start: spawn → initialize → first tool result, `runs` times after one unmeasured run. */
export async function coldStart(
  sim: Simulator,
  launch: ServerLaunch,
  call: { name: string; arguments: Record<string, unknown> },
  runs: number,
): Promise<{ median: number; min: number; n: number }> {
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const t = performance.now();
    const s = await startStdioServer(sim, launch);
    try {
      const r = await s.client.callTool(call) as { isError?: boolean };
      const d = performance.now() - t;
      if (r.isError) throw new Error(`Cold start call failed: ${JSON.stringify(r).slice(0, 300)}`);
      if (i > 0) times.push(d);
    } finally {
      await s.close();
    }
  }
  return { median: summary(times).median, min: Math.min(...times), n: times.length };
}

/** A status call made seconds after the previous one, as a model makes them. */
export interface SecondsApart {
  idleMs: number;
  /** Upstream requests of each measured call. */
  requests: number[];
  tool: { median: number; p95: number; n: number };
  raw: { median: number; p95: number; n: number };
}

/**
 * `repeats` times: a `guest_info` call, `idleMs` of silence, then a `guest_info` of another guest, timed, with the
 * simulator's request log counting what it cost upstream; then the raw status request of that guest, timed.
 */
export async function secondsApart(
  server: StdioServer,
  sim: Simulator,
  raw: (path: string) => Promise<unknown>,
  idleMs: number,
  repeats: number,
): Promise<SecondsApart> {
  const guests = [...sim.state.guests.values()].filter((g) => !g.template);
  const requests: number[] = [];
  const toolT: number[] = [];
  const rawT: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const a = guests[(i * 37) % guests.length]!;
    const b = guests[(i * 37 + 11) % guests.length]!;
    await server.client.callTool({ name: "guest_info", arguments: { vmid: a.vmid } });
    await new Promise((r) => setTimeout(r, idleMs));
    sim.clearRequests();
    let t = performance.now();
    const r = await server.client.callTool({ name: "guest_info", arguments: { vmid: b.vmid } }) as {
      isError?: boolean;
    };
    toolT.push(performance.now() - t);
    if (r.isError) throw new Error(`guest_info failed: ${JSON.stringify(r).slice(0, 300)}`);
    requests.push(sim.requests.length);
    t = performance.now();
    await raw(`/nodes/${b.node}/${b.type}/${b.vmid}/status/current`);
    rawT.push(performance.now() - t);
  }
  return { idleMs, requests, tool: summary(toolT), raw: summary(rawT) };
}

/** Pages through every guest with `guest_list` at its default page size; counts pages and listing requests. */
export async function pageThrough(server: StdioServer, sim: Simulator): Promise<{ pages: number; listings: number }> {
  sim.clearRequests();
  let cursor: string | undefined;
  let pages = 0;
  do {
    const r = await server.client.callTool({ name: "guest_list", arguments: cursor ? { cursor } : {} }) as {
      isError?: boolean;
      structuredContent?: { next_cursor?: string };
    };
    if (r.isError) throw new Error(`guest_list failed: ${JSON.stringify(r).slice(0, 300)}`);
    cursor = r.structuredContent?.next_cursor;
    pages++;
  } while (cursor && pages < 1000);
  return { pages, listings: sim.requests.filter((q) => q.path === "/cluster/resources").length };
}
