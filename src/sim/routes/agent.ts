/**
 * QEMU guest agent endpoints: facts, exec + exec-status, file read/write. A guest answers when it runs and its
 * config enables the agent (`agent: 1` or `agent: enabled=1,…`); each guest has a tiny in-memory file system.
 * Executed programs: `echo` prints its arguments, `hostname` and `uname` answer, `sleep N` runs N seconds on the
 * simulator's clock, `false` exits 1, anything else exits 127 ("not found").
 * @module
 */
import type { SimGuest } from "../model.ts";
import { guestOf, int, type SimContext, SimError, type SimRoute, str } from "../router.ts";

interface Proc {
  endsAt: number;
  exitcode: number;
  out: string;
  err: string;
}
const procs = new WeakMap<SimGuest, Map<number, Proc>>();
const files = new WeakMap<SimGuest, Map<string, string>>();
let nextPid = 4000;

function agentGuest(ctx: SimContext): SimGuest {
  const g = guestOf(ctx, "qemu");
  const agent = String(g.config.agent ?? "0");
  if (!/^(1|enabled=1)/.test(agent)) throw new SimError(500, "No QEMU guest agent configured");
  if (g.status !== "running") throw new SimError(500, `VM ${g.vmid} is not running`);
  return g;
}

function fsOf(g: SimGuest): Map<string, string> {
  let f = files.get(g);
  if (!f) {
    f = new Map([["/etc/hostname", `${g.name}\n`], ["/etc/os-release", 'NAME="Debian GNU/Linux"\nVERSION_ID="13"\n']]);
    files.set(g, f);
  }
  return f;
}

function run(g: SimGuest, argv: string[], now: number): Proc {
  const [prog = "", ...rest] = argv;
  switch (prog) {
    case "echo":
      return { endsAt: now, exitcode: 0, out: rest.join(" ") + "\n", err: "" };
    case "hostname":
      return { endsAt: now, exitcode: 0, out: `${g.name}\n`, err: "" };
    case "uname":
      return { endsAt: now, exitcode: 0, out: "Linux\n", err: "" };
    case "false":
      return { endsAt: now, exitcode: 1, out: "", err: "" };
    case "sleep":
      return { endsAt: now + Number(rest[0] ?? 1) * 1000, exitcode: 0, out: "", err: "" };
    default:
      return { endsAt: now, exitcode: 127, out: "", err: `${prog}: command not found\n` };
  }
}

const facts = (path: string, result: (g: SimGuest) => unknown): SimRoute => ({
  method: "GET",
  path: `/nodes/{node}/qemu/{vmid}/agent/${path}`,
  handler: (ctx) => ({ result: result(agentGuest(ctx)) }),
});

/** Guest agent routes. */
export const agentRoutes: readonly SimRoute[] = [
  { method: "POST", path: "/nodes/{node}/qemu/{vmid}/agent/ping", handler: (ctx) => (agentGuest(ctx), { result: {} }) },
  facts("get-osinfo", () => ({
    id: "debian",
    name: "Debian GNU/Linux",
    "pretty-name": "Debian GNU/Linux 13 (trixie)",
    "version-id": "13",
    "kernel-release": "6.12.0-1-amd64",
    machine: "x86_64",
  })),
  facts("get-fsinfo", (g) => [{
    name: "sda1",
    mountpoint: "/",
    type: "ext4",
    "total-bytes": g.maxdisk,
    "used-bytes": Math.round(g.maxdisk * 0.4),
    disk: [],
  }]),
  facts("network-get-interfaces", (g) => [
    { name: "lo", "ip-addresses": [{ "ip-address": "127.0.0.1", "ip-address-type": "ipv4", prefix: 8 }] },
    {
      name: "eth0",
      "hardware-address": "bc:24:11:00:00:01",
      "ip-addresses": [{
        "ip-address": `10.0.${Math.floor(g.vmid / 256) % 256}.${g.vmid % 256}`,
        "ip-address-type": "ipv4",
        prefix: 24,
      }],
    },
  ]),
  facts("get-users", () => [{ user: "admin", "login-time": 1_700_000_000 }]),
  facts("get-host-name", (g) => ({ "host-name": g.name })),
  facts("get-time", () => 1_700_000_000_000_000_000),
  {
    method: "POST",
    path: "/nodes/{node}/qemu/{vmid}/agent/exec",
    handler: (ctx) => {
      const g = agentGuest(ctx);
      const raw = ctx.params.command;
      const argv = Array.isArray(raw) ? raw.map(String) : raw === undefined ? [] : [String(raw)];
      if (argv.length === 0) {
        throw new SimError(400, "Parameter verification failed.", {
          command: "property is missing and it is not optional",
        });
      }
      const pid = nextPid++;
      let table = procs.get(g);
      if (!table) procs.set(g, table = new Map());
      table.set(pid, run(g, argv, ctx.sim.now()));
      return { pid };
    },
  },
  {
    method: "GET",
    path: "/nodes/{node}/qemu/{vmid}/agent/exec-status",
    handler: (ctx) => {
      const g = agentGuest(ctx);
      const pid = int(ctx, "pid") ?? -1;
      const p = procs.get(g)?.get(pid);
      if (!p) throw new SimError(500, `Agent error: Invalid parameter 'pid'`);
      if (ctx.sim.now() < p.endsAt) return { exited: 0 };
      return {
        exited: 1,
        exitcode: p.exitcode,
        ...(p.out ? { "out-data": p.out } : {}),
        ...(p.err ? { "err-data": p.err } : {}),
      };
    },
  },
  {
    method: "GET",
    path: "/nodes/{node}/qemu/{vmid}/agent/file-read",
    handler: (ctx) => {
      const g = agentGuest(ctx);
      const file = str(ctx, "file") ?? "";
      const content = fsOf(g).get(file);
      if (content === undefined) {
        throw new SimError(500, `Agent error: Failed to open file '${file}': No such file or directory`);
      }
      const count = int(ctx, "count") ?? 16 * 1024 * 1024;
      return content.length > count ? { content: content.slice(0, count), truncated: 1 } : { content };
    },
  },
  {
    method: "POST",
    path: "/nodes/{node}/qemu/{vmid}/agent/file-write",
    handler: (ctx) => {
      const g = agentGuest(ctx);
      fsOf(g).set(str(ctx, "file") ?? "", str(ctx, "content") ?? "");
      return null;
    },
  },
];
