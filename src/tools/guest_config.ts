/**
 * `guest_config`: update an allowlisted set of configuration keys of a VM or container (CPU, memory, name, notes,
 * tags, boot behaviour, cloud-init). Anything else (devices, raw args, hookscripts, passthrough) is out of reach.
 * @module
 */
import { effect, type GuestRef } from "../core/mod.ts";
import { z } from "zod";
import { defineTool, type ToolContext } from "./registry.ts";
import { Tag, VmId } from "../guard/schemas.ts";
import type { PveParamValue } from "../pve/types.ts";
import { checkFormat } from "../pve/contract_check.ts";
import {
  CHANGE,
  checkSshKeys,
  DnsName,
  encodeSshKeys,
  guestLabel,
  guestPath,
  joinTags,
  matching,
  resolveSecretRef,
  SecretArg,
} from "./guest_common.ts";

/** Keys of the tool's input that can be cleared with `delete` (reset to PVE's default). */
const DELETABLE = [
  "notes",
  "tags",
  "onboot",
  "agent",
  "ciuser",
  "cipassword",
  "sshkeys",
  "ipconfig",
  "nameserver",
] as const;

const QEMU_ONLY = new Set(["agent", "ciuser", "cipassword", "sshkeys", "ipconfig"]);
const LXC_ONLY = new Set(["swap"]);

const IpConfig = matching(
  /^(ip=(dhcp|[\d.]+\/\d{1,2})(,gw=[\d.]+)?)?(,?ip6=(dhcp|auto|[0-9a-fA-F:]+\/\d{1,3})(,gw6=[0-9a-fA-F:]+)?)?$/,
  "must look like ip=dhcp or ip=10.0.0.5/24,gw=10.0.0.1",
  120,
);

const Input = z.object({
  vmid: VmId,
  name: DnsName.optional(),
  notes: z.string().max(8192).optional(),
  tags: z.array(Tag).max(20).optional().describe("Replaces all"),
  onboot: z.boolean().optional(),
  cores: z.number().int().min(1).max(512).optional(),
  memory: z.number().int().min(16).max(4_194_304).optional().describe("MiB"),
  swap: z.number().int().min(0).max(4_194_304).optional().describe("lxc, MiB"),
  agent: z.boolean().optional().describe("qemu guest agent"),
  ciuser: matching(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a user name like ops", 32).optional(),
  cipassword: SecretArg("cloud-init").optional(),
  sshkeys: SecretArg("cloud-init public keys").optional(),
  ipconfig: z.array(IpConfig).min(1).max(8).optional().describe("ipconfig0.., e.g. ip=dhcp"),
  // PVE's own address-list check (a loose character class let `.` and `6:700:47700::1` through; found by the fuzzer).
  nameserver: z.string().max(200).refine(
    (v) => v.trim() !== "" && checkFormat("address-list", v) === undefined,
    "must be IP addresses separated by spaces",
  ).optional(),
  delete: z.array(z.enum(DELETABLE)).max(DELETABLE.length).optional().describe("Reset to default"),
  digest: z.string().max(64).optional().describe("Fail if the config changed since"),
}).strict();
type ConfigArgs = z.infer<typeof Input>;

/** Secret values already resolved from `secret://` references. */
export interface ConfigSecrets {
  cipassword?: string;
  sshkeys?: string;
}

/**
 * Maps the tool's arguments to `PUT .../config` parameters for a guest type. Pure.
 * @returns the parameters and the names of the keys set and deleted (for the result; never values).
 */
export function configParams(
  type: "qemu" | "lxc",
  args: ConfigArgs,
  secrets: ConfigSecrets,
): { params: Record<string, PveParamValue>; set: string[]; deleted: string[] } {
  const p: Record<string, PveParamValue> = {};
  const given = Object.entries(args).filter(([k, v]) => v !== undefined && !["vmid", "delete", "digest"].includes(k))
    .map(([k]) => k);
  for (const k of [...given, ...(args.delete ?? [])]) {
    if (type === "lxc" && QEMU_ONLY.has(k)) throw new TypeError(`${k} applies to VMs only (CT has no ${k})`);
    if (type === "qemu" && LXC_ONLY.has(k)) throw new TypeError(`${k} applies to containers only`);
  }
  for (const k of args.delete ?? []) {
    if (given.includes(k)) throw new TypeError(`${k} is both set and deleted`);
  }
  p[type === "qemu" ? "name" : "hostname"] = args.name;
  p.description = args.notes;
  p.tags = args.tags === undefined ? undefined : joinTags(args.tags);
  p.onboot = args.onboot;
  p.cores = args.cores;
  p.memory = args.memory === undefined ? undefined : type === "qemu" ? String(args.memory) : args.memory;
  p.swap = args.swap;
  p.agent = args.agent === undefined ? undefined : args.agent ? "1" : "0";
  p.ciuser = args.ciuser;
  p.cipassword = secrets.cipassword;
  p.sshkeys = secrets.sshkeys === undefined ? undefined : encodeSshKeys(secrets.sshkeys);
  args.ipconfig?.forEach((v, i) => (p[`ipconfig${i}`] = v));
  p.nameserver = args.nameserver;
  const deleted = (args.delete ?? []).flatMap((k) => {
    if (k === "notes") return ["description"];
    if (k === "ipconfig") return ["ipconfig0"];
    return [k];
  });
  if (deleted.length) p.delete = deleted.join(",");
  if (args.digest) p.digest = args.digest;
  const set = Object.entries(p).filter(([k, v]) => v !== undefined && k !== "delete" && k !== "digest").map(([k]) => k);
  if (set.length === 0 && deleted.length === 0) throw new TypeError("nothing to change: pass a key to set or delete");
  return { params: p, set, deleted };
}

async function resolveSecrets(args: ConfigArgs, ctx: ToolContext): Promise<ConfigSecrets> {
  const out: ConfigSecrets = {};
  if (args.cipassword !== undefined) {
    out.cipassword = (await resolveSecretRef(args.cipassword, ctx, "cipassword")).value;
  }
  if (args.sshkeys !== undefined) {
    const keys = await resolveSecretRef(args.sshkeys, ctx, "sshkeys");
    checkSshKeys(keys, "sshkeys");
    out.sshkeys = keys.value;
  }
  return out;
}

function refuseLocked(ref: GuestRef, config: Record<string, unknown>): void {
  if (typeof config.lock === "string") {
    throw new TypeError(`${guestLabel(ref)} is locked (${config.lock}): wait for the running operation to finish`);
  }
}

/** `guest_config`: change allowlisted configuration keys of a guest. */
export const guestConfig = defineTool({
  name: "guest_config",
  title: "Update a guest's configuration",
  description: "Set or reset (delete) allowlisted config keys of a VM/CT; qemu cloud-init via ci*/sshkeys/ipconfig. " +
    "Running VMs may apply CPU/memory at next start (pending).",
  toolset: "guests",
  annotations: { ...CHANGE, idempotentHint: true },
  privileges: ["VM.Config.CPU", "VM.Config.Memory", "VM.Config.Options", "VM.Config.Cloudinit"],
  input: Input,
  output: z.object({
    vmid: z.number(),
    set: z.array(z.string()),
    deleted: z.array(z.string()),
    pending: z.array(z.string()).optional(),
  }),
  secretArgs: {
    cipassword: {},
    sshkeys: { roundTrip: "SSH keys stay readable in the guest and in its configuration" },
  },
  // Only allowlisted keys: no disk, device or volume key can name another guest's volume here.
  effect: (args) => effect({ cls: "write", guests: [{ vmid: args.vmid, role: "target" }] }),
  async handler(args, ctx) {
    const ref = await ctx.resolveGuest(args.vmid);
    const secrets = await resolveSecrets(args, ctx);
    const { params, set, deleted } = configParams(ref.type, args, secrets);
    const { data: current } = await ctx.pve.request<Record<string, unknown>>({
      method: "GET",
      path: guestPath(ref, "config"),
      signal: ctx.signal,
    });
    refuseLocked(ref, current ?? {});
    await ctx.pveWrite.request({ method: "PUT", path: guestPath(ref, "config"), params, signal: ctx.signal });
    const out: { vmid: number; set: string[]; deleted: string[]; pending?: string[] } = {
      vmid: ref.vmid,
      set,
      deleted,
    };
    if (ref.status === "running") {
      const { data: pend } = await ctx.pve.request<{ key: string; pending?: unknown; delete?: number }[]>({
        method: "GET",
        path: guestPath(ref, "pending"),
        signal: ctx.signal,
      });
      const keys = (pend ?? []).filter((r) => r.pending !== undefined || r.delete !== undefined).map((r) => r.key);
      if (keys.length) out.pending = keys;
    }
    return out;
  },
  text: (out) =>
    `guest ${out.vmid}: set ${out.set.join(", ") || "nothing"}; reset ${out.deleted.join(", ") || "nothing"}` +
    (out.pending ? `; pending until reboot: ${out.pending.join(", ")}` : ""),
});
