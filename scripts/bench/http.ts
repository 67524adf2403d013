/**
 * HTTP benchmarks: `pve-mcp serve --http` as a subprocess (device-token auth, audit log, rate limits, every guard on)
 * against a simulator subprocess, loaded by concurrent raw clients; a bare `Deno.serve` subprocess as the reference;
 * and the load scenario (20 clients × 1,000 calls) that checks the rate limiter's arithmetic.
 *
 * The pre-authentication bucket is per client address (300/min, burst 60), so one benchmark process on 127.0.0.1
 * would hit it within a second. The server is therefore configured the way it runs behind a reverse proxy:
 * 127.0.0.1 is a trusted proxy and each request names a client address in `X-Forwarded-For` (10.x.y.z), so every
 * guard still runs but no address exceeds its own allowance.
 * @module
 */
import { DeviceTokenStore } from "../../src/auth/device_tokens.ts";
import { rssKiB } from "./machine.ts";
import { ROOT } from "./stdio.ts";

/** Connection details printed by `pve-mcp simulate --json`. */
export interface SimInfo {
  url: string;
  port: number;
  caFile: string;
  tokens: Record<string, { tokenId: string; secret: string; header: string }>;
}

/** A child process we started. */
export interface Child {
  pid: number;
  close(): Promise<void>;
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "DENO_DIR", "DENO_TLS_CA_STORE", "DENO_NO_UPDATE_CHECK", "NO_COLOR", "TMPDIR"]) {
    const v = Deno.env.get(k);
    if (v !== undefined) env[k] = v;
  }
  return env;
}

/** A free TCP port on 127.0.0.1 (closed again; the caller binds it right away). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`The child process ended before printing a line: ${buf}`);
    buf += value;
    const nl = buf.indexOf("\n");
    if (nl >= 0) {
      // Keep draining so the child never blocks on a full pipe.
      (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })().catch(() => {});
      return buf.slice(0, nl);
    }
  }
}

function spawn(args: string[], env: Record<string, string>, stdout: "piped" | "null" = "piped") {
  return new Deno.Command(Deno.execPath(), {
    args,
    env: { ...baseEnv(), ...env },
    clearEnv: true,
    cwd: ROOT,
    stdout,
    stderr: "piped",
  }).spawn();
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch { /* already gone */ }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 3000);
  await child.status;
  clearTimeout(timer);
  await child.stderr.cancel().catch(() => {});
}

/** Starts `pve-mcp simulate --json` in its own process. */
export async function startSimProcess(nodes: number, guests: number): Promise<SimInfo & Child> {
  const child = spawn(
    ["run", "-A", "--quiet", "src/main.ts", "simulate", "--json", "--nodes", String(nodes), "--guests", String(guests)],
    {},
  );
  child.stderr.pipeTo(new WritableStream()).catch(() => {});
  const info = JSON.parse(await firstLine(child.stdout)) as SimInfo;
  return { ...info, pid: child.pid, close: () => stop(child) };
}

/** Starts the bare reference server. */
export async function startBare(): Promise<{ url: string } & Child> {
  const child = spawn(["run", "--allow-net=127.0.0.1", "--quiet", "scripts/bench/bare_server.ts"], {});
  child.stderr.pipeTo(new WritableStream()).catch(() => {});
  const { port } = JSON.parse(await firstLine(child.stdout)) as { port: number };
  return { url: `http://127.0.0.1:${port}/mcp`, pid: child.pid, close: () => stop(child) };
}

/** A running `serve --http` with its device tokens. */
export interface HttpServer extends Child {
  url: string;
  tokens: Record<string, string>;
  dir: string;
}

/** Starts `pve-mcp serve --http` with device tokens, the audit log and the given rate limit. */
export async function startServeHttp(
  sim: SimInfo,
  opts: { tokens: string[]; perMinute: number; env?: Record<string, string>; flags?: string[] },
): Promise<HttpServer> {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-bench-http-" });
  const store = new DeviceTokenStore({ path: `${dir}/tokens.json` });
  const tokens: Record<string, string> = {};
  for (const name of opts.tokens) tokens[name] = (await store.add({ name })).token;
  const port = freePort();
  const adminPort = freePort();
  const child = spawn(["run", "-A", ...(opts.flags ?? []), "--quiet", "src/main.ts", "serve", "--http"], {
    PROXMOX_HOST: "127.0.0.1",
    PROXMOX_PORT: String(sim.port),
    PROXMOX_TOKEN_ID: sim.tokens.admin!.tokenId,
    PROXMOX_TOKEN_SECRET: sim.tokens.admin!.secret,
    PROXMOX_CA_FILE: sim.caFile,
    PROXMOX_MCP_HTTP_PORT: String(port),
    PROXMOX_MCP_ADMIN_PORT: String(adminPort),
    PROXMOX_MCP_HTTP_TOKENS_FILE: `${dir}/tokens.json`,
    PROXMOX_MCP_AUDIT_PATH: `${dir}/audit`,
    PROXMOX_MCP_AUDIT_KEY: "bench-audit-key-0123456789abcdefghijkl",
    PROXMOX_MCP_HTTP_TRUSTED_PROXIES: "127.0.0.1/32",
    PROXMOX_MCP_HTTP_ALLOW_NETWORKS: "127.0.0.0/8,10.0.0.0/8",
    PROXMOX_MCP_RATE_LIMIT_PER_MINUTE: String(opts.perMinute),
    PROXMOX_MCP_LOG_LEVEL: "warning",
    ...opts.env,
  }, "null");
  let stderr = "";
  (async () => {
    for await (const c of child.stderr.pipeThrough(new TextDecoderStream())) stderr = (stderr + c).slice(-4000);
  })().catch(() => {});
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${adminPort}/healthz`).then((r) => (r.body?.cancel(), r.ok), () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop(child);
      throw new Error(`serve --http did not become healthy in 30 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    pid: child.pid,
    tokens,
    dir,
    close: async () => {
      await stop(child);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Outcome of one HTTP tool call. */
export type CallOutcome = "ok" | "limited" | "error";

let xff = 0;
/** A client address for X-Forwarded-For; each one is used rarely (see the module doc). */
function nextAddress(): string {
  const n = xff++;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${(n & 255) || 1}`;
}

/** One `tools/call` over HTTP; classifies the answer. */
export async function httpToolCall(
  url: string,
  token: string | undefined,
  name: string,
  args: Record<string, unknown>,
  id: number,
): Promise<{ outcome: CallOutcome; detail: string }> {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "x-forwarded-for": nextAddress(),
    },
    body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } }),
  });
  const text = await res.text();
  const json = text.startsWith("event:") || text.startsWith("data:")
    ? text.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5)).join("")
    : text;
  let msg: { result?: { isError?: boolean }; error?: { message?: string } } = {};
  try {
    msg = JSON.parse(json);
  } catch { /* classified below */ }
  if (res.status === 200 && msg.result && !msg.result.isError) return { outcome: "ok", detail: "" };
  if (res.status === 429 && /^Rate limit reached for device:/.test(msg.error?.message ?? "")) {
    return { outcome: "limited", detail: "" };
  }
  return { outcome: "error", detail: `${res.status} ${text.slice(0, 200)}` };
}

/** Closed-loop load: `workers` concurrent loops for `seconds` (after `warmupSeconds`); calls per second. */
export async function throughput(
  workers: number,
  seconds: number,
  warmupSeconds: number,
  call: (i: number) => Promise<{ outcome: CallOutcome; detail: string }>,
): Promise<{ calls: number; perSecond: number; errors: number; firstError?: string }> {
  let i = 0;
  let counted = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const measureFrom = start + warmupSeconds * 1000;
  const end = measureFrom + seconds * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      const r = await call(i++);
      const now = performance.now();
      if (r.outcome === "error") {
        errors++;
        firstError ??= r.detail;
      }
      if (now >= measureFrom && now < end) counted++;
    }
  };
  await Promise.all(Array.from({ length: workers }, loop));
  return { calls: counted, perSecond: counted / seconds, errors, ...(firstError && { firstError }) };
}

/** One client of the load scenario. */
export interface LoadClient {
  name: string;
  ok: number;
  limited: number;
  errors: string[];
  firstSend: number;
  firstRecv: number;
  lastSend: number;
  lastRecv: number;
}

/** The load scenario's outcome and its check of the rate limiter. */
export interface LoadResult {
  clients: LoadClient[];
  perMinute: number;
  seconds: number;
  /** Largest distance (tokens) of a client's allowed calls outside the interval its timestamps allow. */
  worstDeviation: number;
  exact: boolean;
  errors: number;
  rss: { beforeKiB: number; afterKiB: number; maxKiB: number; samples: number[] };
}

/**
 * N clients (one device token each) × M sequential calls, all at once. A bucket of capacity C refilling C per
 * minute, drained continuously, admits C + rate·(t_last − t_first) calls; the client's own send/receive times
 * bound the limiter's take times, so the admitted count must lie in that interval ± 1 token.
 */
export async function loadScenario(
  server: HttpServer,
  names: string[],
  callsEach: number,
  perMinute: number,
  args: (client: number, i: number) => Record<string, unknown>,
): Promise<LoadResult> {
  const samples: number[] = [await rssKiB(server.pid)];
  const sampler = setInterval(() => rssKiB(server.pid).then((k) => samples.push(k)), 500);
  const started = performance.now();
  const clients = await Promise.all(names.map(async (name, ci): Promise<LoadClient> => {
    const c: LoadClient = { name, ok: 0, limited: 0, errors: [], firstSend: 0, firstRecv: 0, lastSend: 0, lastRecv: 0 };
    for (let i = 0; i < callsEach; i++) {
      const sent = performance.now();
      const r = await httpToolCall(server.url, server.tokens[name], "guest_info", args(ci, i), i);
      const recv = performance.now();
      if (i === 0) [c.firstSend, c.firstRecv] = [sent, recv];
      [c.lastSend, c.lastRecv] = [sent, recv];
      if (r.outcome === "ok") c.ok++;
      else if (r.outcome === "limited") c.limited++;
      else c.errors.push(r.detail);
    }
    return c;
  }));
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  samples.push(await rssKiB(server.pid));
  const rate = perMinute / 60_000;
  let worst = 0;
  for (const c of clients) {
    const lo = perMinute + rate * Math.max(0, c.lastSend - c.firstRecv);
    const hi = perMinute + rate * (c.lastRecv - c.firstSend);
    const dev = c.ok < lo ? lo - c.ok : c.ok > hi ? c.ok - hi : 0;
    worst = Math.max(worst, dev);
  }
  const errors = clients.reduce((n, c) => n + c.errors.length, 0);
  return {
    clients,
    perMinute,
    seconds,
    worstDeviation: worst,
    exact: worst <= 1,
    errors,
    rss: { beforeKiB: samples[0]!, afterKiB: samples.at(-1)!, maxKiB: Math.max(...samples), samples },
  };
}
