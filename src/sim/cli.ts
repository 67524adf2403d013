/**
 * `pve-mcp simulate`: runs the PVE simulator until SIGINT/SIGTERM and prints how to reach it (URL, CA file,
 * fingerprint, credentials). This is command output, so it goes to stdout.
 * @module
 */
import { parseArgs } from "node:util";
import { startSimulator } from "./mod.ts";

/** I/O hooks (tests pass their own). */
export interface SimulateIo {
  /** Receives output text (default: stdout). */
  write?: (text: string) => void;
  /** Receives error text (default: stderr). */
  error?: (text: string) => void;
  /** Stops the simulator when aborted (default: SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

const USAGE = `Usage: pve-mcp simulate [options]

Runs a simulated Proxmox VE cluster (HTTPS, PVE 9.1 API under /api2/json) until Ctrl+C.

Options:
  --port <n>              TCP port (default: a free one)
  --hostname <addr>       address to listen on (default: 127.0.0.1)
  --nodes <n>             cluster nodes, 1-50 (default: 3)
  --guests <n>            VMs and containers, 0-10000 (default: 30)
  --seed <n>              seed of the generated cluster (default: 1)
  --task-duration-ms <n>  how long simulated tasks run (default: 1000)
  --json                  print one JSON line with the connection details instead of text
  -h, --help              show this help
`;

function intFlag(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new Error(`Invalid value for --${name}: expected a whole number, got "${v}"`);
  return Number(v);
}

const enc = new TextEncoder();

/** A value quoted for POSIX shells: single quotes (no `!` history expansion, no `$`), `'` written as `'\''`. */
export function sh(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/**
 * Runs the `simulate` command. Resolves with the exit code (0 after a clean stop, 2 on bad arguments).
 */
export async function runSimulateCommand(args: string[], io: SimulateIo = {}): Promise<number> {
  const write = io.write ?? ((t: string) => void Deno.stdout.writeSync(enc.encode(t)));
  const error = io.error ?? ((t: string) => void Deno.stderr.writeSync(enc.encode(t)));
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        port: { type: "string" },
        hostname: { type: "string" },
        nodes: { type: "string" },
        guests: { type: "string" },
        seed: { type: "string" },
        "task-duration-ms": { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    error(`${e instanceof Error ? e.message : e}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    write(USAGE);
    return 0;
  }

  let sim;
  try {
    const port = intFlag(values.port, "port");
    const nodes = intFlag(values.nodes, "nodes");
    const guests = intFlag(values.guests, "guests");
    const seed = intFlag(values.seed, "seed");
    const taskDurationMs = intFlag(values["task-duration-ms"], "task-duration-ms");
    sim = await startSimulator({
      ...(port !== undefined ? { port } : {}),
      ...(nodes !== undefined ? { nodes } : {}),
      ...(guests !== undefined ? { guests } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(taskDurationMs !== undefined ? { taskDurationMs } : {}),
      ...(values.hostname !== undefined ? { hostname: values.hostname } : {}),
    });
  } catch (e) {
    error(`Cannot start the simulator: ${e instanceof Error ? e.message : e}\n`);
    return 2;
  }

  // Listen for the stop signal before printing, so a caller that reacts to the output cannot race it.
  const stopped = new Promise<void>((resolve) => {
    if (io.signal) {
      if (io.signal.aborted) return resolve();
      io.signal.addEventListener("abort", () => resolve(), { once: true });
      return;
    }
    const stop = () => {
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
      resolve();
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  });
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-sim-" });
  const caFile = `${dir}/pve-root-ca.pem`;
  await Deno.writeTextFile(caFile, sim.caCertPem);
  const cluster = { nodes: sim.state.nodes.size, guests: sim.state.guests.size };
  const admin = sim.tokens.admin;
  if (values.json) {
    write(
      JSON.stringify({
        url: sim.url,
        host: sim.host,
        port: sim.port,
        caFile,
        fingerprint: sim.fingerprint,
        tokens: sim.tokens,
        users: sim.users,
        ...cluster,
      }) + "\n",
    );
  } else {
    const tokenLines = Object.entries(sim.tokens)
      .map(([name, t]) => `    ${name.padEnd(9)} ${t.tokenId.padEnd(22)} ${t.secret}`)
      .join("\n");
    write(
      `pve-mcp simulator (Proxmox VE 9.1 API) listening on ${sim.url}\n` +
        `  cluster:      ${cluster.nodes} nodes, ${cluster.guests} guests\n` +
        `  CA file:      ${caFile}\n` +
        `  fingerprint:  ${sim.fingerprint}\n` +
        `  API tokens (name, token id, secret):\n${tokenLines}\n` +
        `  ticket login: ${sim.user.username} / ${sim.user.password}\n\n` +
        `Try:\n  curl --cacert ${sh(caFile)} -H ${sh(`Authorization: ${admin?.header}`)} ` +
        `${sim.url}/api2/json/cluster/resources\n\n` +
        `Point pve-mcp at it:\n  PROXMOX_HOST=${sim.host} PROXMOX_PORT=${sim.port} PROXMOX_CA_FILE=${sh(caFile)} ` +
        `PROXMOX_TOKEN_ID=${sh(admin?.tokenId ?? "")} PROXMOX_TOKEN_SECRET=${
          sh(admin?.secret ?? "")
        } pve-mcp serve\n\n` +
        `Press Ctrl+C to stop.\n`,
    );
  }

  await stopped;
  await sim.close();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  if (!values.json) write("Simulator stopped.\n");
  return 0;
}
