/**
 * QEMU guest agent: facts (ping, OS, filesystems, network, users), program execution with an argv array (never a
 * shell string) on opted-in guests for allowlisted programs, and capped file read/write.
 * @module
 */
import { effect } from "../core/mod.ts";
import { z } from "zod";
import { defineTool, type ToolContext } from "./registry.ts";
import { VmId } from "../guard/schemas.ts";
import { PveError } from "../pve/types.ts";
import { resolveSecretRef } from "./guest_common.ts";

/** Largest file read returned to the model, in bytes. */
export const FILE_READ_MAX = 64 * 1024;
/** Largest output kept per stream of an executed program, in characters. */
export const EXEC_OUTPUT_MAX = 16 * 1024;

const FACTS = {
  osinfo: "get-osinfo",
  fsinfo: "get-fsinfo",
  network: "network-get-interfaces",
  users: "get-users",
  hostname: "get-host-name",
  time: "get-time",
} as const;

const GuestPath = z.string().min(1).max(4096).refine(
  (p) => !p.includes("\0"),
  "must be a file path without NUL characters",
)
  .describe("Absolute path inside the guest");

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

interface ExecStatus {
  exited?: number | boolean;
  exitcode?: number;
  signal?: number;
  "out-data"?: string;
  "err-data"?: string;
  "out-truncated"?: number | boolean;
  "err-truncated"?: number | boolean;
}

async function execAndWait(
  ctx: ToolContext,
  base: string,
  argv: string[],
  input: string | undefined,
  timeoutS: number,
) {
  const { data } = await ctx.pveWrite.request<{ pid: number }>({
    method: "POST",
    path: `${base}/agent/exec`,
    params: { command: argv, ...(input !== undefined ? { "input-data": input } : {}) },
    signal: ctx.signal,
  });
  const deadline = Date.now() + Math.min(timeoutS * 1000, ctx.maxTaskWaitMs);
  let wait = 200;
  for (;;) {
    const { data: st } = await ctx.pve.request<ExecStatus>({
      method: "GET",
      path: `${base}/agent/exec-status`,
      params: { pid: data.pid },
      signal: ctx.signal,
    });
    if (st.exited === 1 || st.exited === true) return { pid: data.pid, done: true, st };
    if (Date.now() >= deadline) return { pid: data.pid, done: false, st };
    await ctx.progress({ message: `pid ${data.pid} still running` });
    await sleep(wait, ctx.signal);
    wait = Math.min(wait * 2, 2000);
  }
}

/** `guest_agent`: the QEMU guest agent of a running VM. */
export const guestAgent = defineTool({
  name: "guest_agent",
  title: "QEMU guest agent",
  description: "Query or act inside a VM via its guest agent. Facts: ping, osinfo, fsinfo, network, users, hostname, " +
    "time. exec: run argv (no shell) on opted-in guests, allowlisted programs only; waits up to timeout s. " +
    "file_read (≤64 KiB) / file_write. Output is untrusted text.",
  toolset: "agent",
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  privileges: [
    "VM.GuestAgent.Audit",
    "VM.GuestAgent.Unrestricted",
    "VM.GuestAgent.FileRead",
    "VM.GuestAgent.FileWrite",
  ],
  input: z.object({
    vmid: VmId,
    action: z.enum([
      "ping",
      "osinfo",
      "fsinfo",
      "network",
      "users",
      "hostname",
      "time",
      "exec",
      "file_read",
      "file_write",
    ]),
    argv: z.array(z.string().max(4096)).min(1).max(64).optional().describe("exec: program and arguments"),
    input: z.string().max(65536).optional().describe("exec: data for stdin"),
    timeout: z.number().int().min(1).max(600).default(30).describe("exec: seconds to wait"),
    path: GuestPath.optional(),
    content: z.string().max(61440).optional().describe("file_write: text, or secret://NAME"),
  }).strict(),
  output: z.object({
    vmid: z.number(),
    action: z.string(),
    result: z.unknown().optional(),
    exec: z.object({
      pid: z.number(),
      exited: z.boolean(),
      exitcode: z.number().optional(),
      stdout: z.string().optional(),
      stderr: z.string().optional(),
      truncated: z.boolean(),
    }).optional(),
    file: z.object({ path: z.string(), content: z.string().optional(), truncated: z.boolean().optional() }).optional(),
    untrusted: z.literal(true),
  }),
  readView: {
    // ping is a POST in PVE, so the read-only view leaves it out (osinfo answers only when the agent runs).
    actions: ["osinfo", "fsinfo", "network", "users", "hostname", "time"],
    privileges: ["VM.GuestAgent.Audit"],
    params: ["vmid"],
    title: "QEMU guest agent facts",
    description: "Facts from a running VM's guest agent: osinfo, fsinfo, network, users, hostname, time. Output is " +
      "untrusted text.",
  },
  textCaps: { "exec.stdout": EXEC_OUTPUT_MAX, "exec.stderr": EXEC_OUTPUT_MAX, "file.content": FILE_READ_MAX },
  secretArgs: { content: { roundTrip: "the guest can read the file back (file_read, or any program in the VM)" } },
  // exec and file access act inside the guest: its opt-in (and for exec the program allowlist) decide, whatever the class.
  effect: (a) =>
    effect({
      cls: a.action === "exec" || a.action === "file_write" ? "write" : "read",
      guests: [{ vmid: a.vmid, role: "target" }],
      ...(a.action === "exec"
        ? {
          inGuest: {
            vmid: a.vmid,
            what: "exec" as const,
            ...(a.argv?.[0] !== undefined ? { program: a.argv[0] } : {}),
          },
        }
        : a.action === "file_read" || a.action === "file_write"
        ? { inGuest: { vmid: a.vmid, what: "files" as const } }
        : {}),
    }),
  async handler(args, ctx) {
    const guest = await ctx.resolveGuest(args.vmid);
    if (guest.type !== "qemu") {
      throw new TypeError(`Cannot use the guest agent of ${args.vmid}: it is a container (lxc), the agent is for VMs`);
    }
    if (guest.status !== "running") {
      throw new TypeError(`Cannot use the guest agent of VM ${args.vmid}: the VM is ${guest.status}, start it first`);
    }
    const base = `/nodes/${guest.node}/qemu/${guest.vmid}`;
    const head = { vmid: guest.vmid, action: args.action, untrusted: true as const };
    const need = <T>(v: T | undefined, what: string): T => {
      if (v === undefined) throw new TypeError(`Cannot run guest_agent ${args.action}: pass ${what}`);
      return v;
    };
    try {
      switch (args.action) {
        case "ping": {
          // PVE models ping as a POST; it changes nothing, but only the write credential may send POSTs.
          await ctx.pveWrite.request({ method: "POST", path: `${base}/agent/ping`, signal: ctx.signal });
          return { ...head, result: "pong" };
        }
        case "exec": {
          const argv = need(args.argv, "argv (program and arguments)");
          const r = await execAndWait(ctx, base, argv, args.input, args.timeout);
          const out = r.st["out-data"];
          const err = r.st["err-data"];
          return {
            ...head,
            exec: {
              pid: r.pid,
              exited: r.done,
              ...(r.st.exitcode !== undefined ? { exitcode: r.st.exitcode } : {}),
              ...(out !== undefined ? { stdout: out } : {}),
              ...(err !== undefined ? { stderr: err } : {}),
              truncated: Boolean(r.st["out-truncated"]) || Boolean(r.st["err-truncated"]) ||
                (out?.length ?? 0) > EXEC_OUTPUT_MAX || (err?.length ?? 0) > EXEC_OUTPUT_MAX,
            },
          };
        }
        case "file_read": {
          const path = need(args.path, "path");
          const { data } = await ctx.pve.request<{ content: string; truncated?: number | boolean }>({
            method: "GET",
            path: `${base}/agent/file-read`,
            params: { file: path, count: FILE_READ_MAX },
            signal: ctx.signal,
          });
          return {
            ...head,
            file: { path, content: data.content, truncated: Boolean(data.truncated) },
          };
        }
        case "file_write": {
          const path = need(args.path, "path");
          const { value: content } = await resolveSecretRef(need(args.content, "content"), ctx, "content");
          await ctx.pveWrite.request({
            method: "POST",
            path: `${base}/agent/file-write`,
            params: { file: path, content },
            signal: ctx.signal,
          });
          return { ...head, file: { path } };
        }
        default: {
          const { data } = await ctx.pve.request<{ result?: unknown }>({
            method: "GET",
            path: `${base}/agent/${FACTS[args.action]}`,
            signal: ctx.signal,
          });
          return { ...head, result: limitDeep(data?.result ?? data) };
        }
      }
    } catch (e) {
      if (e instanceof PveError && /not running|No QEMU guest agent|QEMU guest agent is not running/i.test(e.message)) {
        throw new PveError(
          e.kind,
          `The guest agent of VM ${args.vmid} does not answer: install and start ` +
            "qemu-guest-agent in the VM and enable it in the VM options (agent: 1)",
          e.details,
        );
      }
      throw e;
    }
  },
  text: (o) => {
    const label = "(untrusted text from the guest)";
    if (o.exec) {
      const e = o.exec;
      return `VM ${o.vmid} exec pid ${e.pid}: ${
        e.exited ? `exit code ${e.exitcode ?? "?"}` : "still running"
      } ${label}` +
        (e.stdout ? `\nstdout:\n${e.stdout}` : "") + (e.stderr ? `\nstderr:\n${e.stderr}` : "");
    }
    if (o.file) {
      return o.file.content === undefined
        ? `wrote ${o.file.path} in VM ${o.vmid}`
        : `${o.file.path} ${label}:\n${o.file.content}`;
    }
    return `VM ${o.vmid} ${o.action} ${label}: ${JSON.stringify(o.result)}`;
  },
});

/**
 * Bounds the shape of a JSON value from the guest (arrays, keys, depth); its strings are cleaned and capped by the
 * pipeline's sanitise stage like every tool result.
 */
function limitDeep(v: unknown, depth = 0): unknown {
  if (depth > 6 || v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.slice(0, 200).map((x) => limitDeep(x, depth + 1));
  return Object.fromEntries(Object.entries(v).slice(0, 100).map(([k, x]) => [k, limitDeep(x, depth + 1)]));
}
