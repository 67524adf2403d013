/**
 * The built-in Proxmox VE simulator: a real HTTPS server on loopback speaking PVE's wire format under `/api2/json`,
 * backed by a seeded, stateful cluster. For tests (in-process) and for `pve-mcp simulate`.
 *
 * ```ts
 * await using sim = await startSimulator({ nodes: 3, guests: 30, seed: 1 });
 * const client = Deno.createHttpClient({ caCerts: [sim.caCertPem] });
 * const res = await fetch(`${sim.url}/api2/json/version`, { client, headers: { authorization: sim.tokens.auditor.header } });
 * ```
 * @module
 */
import { generateCertificate, type SimCertificate } from "./cert.ts";
import { hasPriv } from "./auth.ts";
import { FaultRegistry, type SimFault } from "./faults.ts";
import type { ClusterState } from "./model.ts";
import {
  PrincipalDb,
  type TokenCredentials,
  type TokenSpec,
  type UserCredentials,
  type UserSpec,
} from "./principals.ts";
import { RouteTable, type SimCore, type SimRoute } from "./router.ts";
import { DEFAULT_ROUTES } from "./routes/index.ts";
import { seedCluster, seedTaskHistory } from "./seed.ts";
import { createHandler, type SimRequestRecord } from "./server.ts";
import { listen } from "./http.ts";
import { TaskManager } from "./tasks.ts";

export type { SimFault } from "./faults.ts";
export type { AclEntry, SimPrincipal } from "./auth.ts";
export type { TokenCredentials, TokenSpec, UserCredentials, UserSpec } from "./principals.ts";
export type { SimContext, SimHandler, SimRoute } from "./router.ts";
export { SimError } from "./router.ts";
export type { SimRequestRecord } from "./server.ts";
export { RawJson } from "./server.ts";
export type { ClusterState, SimGuest, SimNode, SimStorage, SimVolume } from "./model.ts";
export type { SimTask } from "./tasks.ts";
export { encodeUpid, parseUpid } from "./tasks.ts";

/** Options of {@linkcode startSimulator}. All optional. */
export interface SimulatorOptions {
  /** Cluster nodes, 1-50 (default 3). */
  nodes?: number;
  /** Guests (qemu + lxc), 0-10,000 (default 30). */
  guests?: number;
  /** Seed of the generated cluster (default 1). */
  seed?: number;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  hostname?: string;
  /** The simulator's clock in ms (default `Date.now`): tickets expire and tasks finish by it. */
  now?: () => number;
  /** How long simulated tasks run on that clock (default 1000 ms). */
  taskDurationMs?: number;
  /** Extra or replaced API tokens by name (defaults: `admin`, `operator`, `auditor`). */
  tokens?: Record<string, TokenSpec>;
  /** Extra or replaced users by name (defaults: `admin` = root@pam, `auditor` = auditor@pve). */
  users?: Record<string, UserSpec>;
  /** Extra routes (added after, and overriding, the defaults). */
  routes?: readonly SimRoute[];
  /** Faults active from the start. */
  faults?: { pattern: string; fault: SimFault; times?: number }[];
  /** Delay before each 401 (real PVE waits ~3 s; default 0). */
  authFailureDelayMs?: number;
  /** Requests kept in `requests` (oldest dropped beyond twice this; default 10,000). */
  maxRecordedRequests?: number;
  /** Nodes that start offline (their forwarded endpoints answer 595). */
  offlineNodes?: string[];
  /** Gzip answers over 1 KiB when the client accepts it, as PVE does (default false: saves CPU in benchmarks). */
  gzip?: boolean;
  /** TLS material to reuse; default: generated once per process and hostname. */
  certificate?: SimCertificate;
}

/** A running simulator. */
export interface Simulator {
  /** `https://127.0.0.1:PORT` (append `/api2/json/...`). */
  url: string;
  host: string;
  port: number;
  /** CA certificate (PEM) to trust. */
  caCertPem: string;
  /** SHA-256 fingerprint of the server certificate, `AA:BB:...`. */
  fingerprint: string;
  /** API tokens by name: `admin` (everything), `operator` (no allocate/delete), `auditor` (read-only), and extras. */
  tokens:
    & { admin: TokenCredentials; operator: TokenCredentials; auditor: TokenCredentials }
    & Record<
      string,
      TokenCredentials
    >;
  /** Ticket login of the admin user (root@pam). */
  user: UserCredentials;
  /** All users by name (`admin`, `auditor`, extras). */
  users: { admin: UserCredentials; auditor: UserCredentials } & Record<string, UserCredentials>;
  /** Every request received, oldest first. */
  requests: SimRequestRecord[];
  /** Empties `requests`. */
  clearRequests(): void;
  /**
   * Calls `observe` with every request received from now on, whatever `requests` keeps or `clearRequests` empties
   * (a test referee checks them all); returns the function that stops the calls.
   */
  onRequest(observe: (r: SimRequestRecord) => void): () => void;
  /** Fault injection: `faults.set(pattern, fault, {times})`, `faults.clear()`. */
  faults: FaultRegistry;
  /** The cluster (mutable; call `state.touch()` after changing objects directly). */
  state: ClusterState;
  tasks: TaskManager;
  routes: RouteTable;
  /** The simulator's clock. */
  now(): number;
  /** Stops the server. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const certCache = new Map<string, Promise<SimCertificate>>();

function certificateFor(hostname: string): Promise<SimCertificate> {
  let p = certCache.get(hostname);
  if (!p) {
    const extra = /^[\d.]+$|:/.test(hostname) ? { ipAddresses: [hostname] } : { dnsNames: [hostname] };
    p = generateCertificate(hostname === "127.0.0.1" ? {} : extra);
    certCache.set(hostname, p);
  }
  return p;
}

function clampInt(v: number | undefined, def: number, min: number, max: number, what: string): number {
  const n = v ?? def;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(`Cannot start the simulator: ${what} must be an integer from ${min} to ${max}, got ${v}`);
  }
  return n;
}

/** Starts a simulator. Startup with the defaults takes a few milliseconds (plus ~15 ms for the first certificate). */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const nodes = clampInt(opts.nodes, 3, 1, 50, "nodes");
  const guests = clampInt(opts.guests, 30, 0, 10_000, "guests");
  const seed = clampInt(opts.seed, 1, 0, 2 ** 32 - 1, "seed");
  const hostname = opts.hostname ?? "127.0.0.1";
  const now = opts.now ?? Date.now;
  const cert = opts.certificate ?? await certificateFor(hostname);

  const nowS = Math.floor(now() / 1000);
  const state = seedCluster({ nodes, guests, seed, nowSeconds: nowS });
  for (const name of opts.offlineNodes ?? []) state.setNodeOnline(name, false);
  const tasks = new TaskManager({ now, durationMs: opts.taskDurationMs ?? 1000, onChange: () => state.touch() });
  seedTaskHistory(state, tasks, seed, nowS);
  const principals = new PrincipalDb(opts.tokens, opts.users);
  const poolOf = (path: string) => {
    const m = /^\/vms\/(\d+)$/.exec(path);
    return m ? state.guests.get(Number(m[1]))?.pool : undefined;
  };
  const core: SimCore = {
    state,
    tasks,
    principals,
    now,
    fingerprint: cert.fingerprint,
    version: { version: "9.1.9", release: "9.1", repoid: "5b6a6e8c1d3f7a92" },
    hasPriv: (p, path, priv) => hasPriv(p, path, priv, poolOf),
  };
  const routes = new RouteTable().add(DEFAULT_ROUTES).add(opts.routes ?? []);
  const faults = new FaultRegistry();
  for (const f of opts.faults ?? []) faults.set(f.pattern, f.fault, f.times === undefined ? {} : { times: f.times });
  const requests: SimRequestRecord[] = [];
  const observers = new Set<(r: SimRequestRecord) => void>();
  const closing = new AbortController();
  const handler = createHandler({
    core,
    routes,
    faults,
    principals,
    requests,
    observers,
    maxRecords: opts.maxRecordedRequests ?? 10_000,
    authFailureDelayMs: opts.authFailureDelayMs ?? 0,
    closed: closing.signal,
  });

  const server = await listen({
    hostname,
    port: opts.port ?? 0,
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    gzip: opts.gzip ?? false,
    handler,
  });
  const port = server.port;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      closing.abort();
      await server.close();
    })();
    return closed;
  };
  return {
    url: `https://${host}:${port}`,
    host: hostname,
    port,
    caCertPem: cert.caCertPem,
    fingerprint: cert.fingerprint,
    tokens: principals.tokenCredentials as Simulator["tokens"],
    user: principals.userCredentials.admin as UserCredentials,
    users: principals.userCredentials as Simulator["users"],
    requests,
    clearRequests: () => void requests.splice(0, requests.length),
    onRequest: (observe) => {
      const once = (r: SimRequestRecord) => observe(r); // a distinct entry per call, removed by its own stop
      observers.add(once);
      return () => void observers.delete(once);
    },
    faults,
    state,
    tasks,
    routes,
    now,
    close,
    [Symbol.asyncDispose]: close,
  };
}
