/**
 * Shared pieces of the guest-changing tools (power, lifecycle, config, snapshots, backups): paths, labels, free vmids,
 * property strings, disk names and `secret://` references.
 * @module
 */
import { type GuestRef, type ToolAnnotations } from "../core/mod.ts";
import { z } from "zod";
import { pvePath } from "../pve/encode.ts";
import { vmidTaken } from "../pve/guests.ts";
import { PveError } from "../pve/types.ts";
import type { ToolContext } from "./registry.ts";
import { secretRefName } from "../secrets/resolve.ts";
import { SecretStoreError } from "../secrets/store.ts";

/** Annotations of a tool whose worst action changes something but destroys nothing. */
export const CHANGE: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: false,
};

/** Annotations of a tool with at least one destructive action. */
export const DESTRUCTIVE: ToolAnnotations = { ...CHANGE, destructiveHint: true };

/** A guest's location, enough to build its API paths. */
export type GuestLoc = Pick<GuestRef, "vmid" | "type" | "node">;

/** `/nodes/{node}/{qemu|lxc}/{vmid}[/rest...]`, each segment checked and escaped. */
export function guestPath(ref: GuestLoc, ...rest: string[]): string {
  return pvePath("nodes", ref.node, ref.type, ref.vmid, ...rest);
}

/** `VM` for QEMU, `CT` for LXC — how PVE's own messages name guests. */
export function kind(type: "qemu" | "lxc"): "VM" | "CT" {
  return type === "qemu" ? "VM" : "CT";
}

/** `VM 105 "db1" on pve2` — for messages and plans. Names come from the cluster: cleaned and capped. */
export function guestLabel(ref: GuestRef): string {
  const name = ref.name ? ` "${ref.name.replace(/[^\w.-]/g, "").slice(0, 63)}"` : "";
  return `${kind(ref.type)} ${ref.vmid}${name} on ${ref.node}`;
}

/** Current state of a guest for a plan, e.g. `running` or `stopped, template, locked (backup)`. */
export function guestState(ref: GuestRef): string {
  return [ref.status, ...(ref.template ? ["template"] : [])].join(", ");
}

/**
 * The guest with this vmid, or undefined when PVE confirms the cluster has none. A guest this token cannot see throws
 * a {@linkcode PveError} of kind `not_visible` (see `GuestResolver.resolve`); other errors propagate too.
 */
export async function findGuest(ctx: ToolContext, vmid: number): Promise<GuestRef | undefined> {
  try {
    return await ctx.resolveGuest(vmid);
  } catch (e) {
    if (e instanceof PveError && e.kind === "not_found") return undefined;
    throw e;
  }
}

/** True for the error of a guest that exists but that this token cannot see. */
export function isNotVisible(e: unknown): boolean {
  return e instanceof PveError && e.kind === "not_visible";
}

/** Asks PVE for the next free vmid (`GET /cluster/nextid`). */
export async function nextFreeVmid(ctx: ToolContext): Promise<number> {
  const { data } = await ctx.pve.request<number | string>({
    method: "GET",
    path: "/cluster/nextid",
    signal: ctx.signal,
  });
  const id = Number(data);
  if (!Number.isInteger(id) || id < 100) {
    throw new PveError("protocol", `GET /cluster/nextid answered ${JSON.stringify(data)}, not a vmid`);
  }
  return id;
}

/**
 * Fails with a clear message when `vmid` is taken, so a create or clone does not half-start. PVE decides
 * (`GET /cluster/nextid?vmid=N`): it also knows the guests this token cannot see, which `/cluster/resources` leaves out.
 */
export async function ensureVmidFree(ctx: ToolContext, vmid: number): Promise<void> {
  if (!await vmidTaken(ctx.pve, vmid, ctx.signal)) return;
  let owner = "a guest that is not visible to this token";
  try {
    const ref = await findGuest(ctx, vmid);
    if (ref) owner = guestLabel(ref);
  } catch (e) {
    if (!isNotVisible(e)) throw e;
  }
  throw new TypeError(`vmid ${vmid} is already used by ${owner}: omit the id to take the next free one`);
}

/** The node to run a node-scoped call on: the given one, else the only online node, else a clear error. */
export async function pickNode(ctx: ToolContext, node: string | undefined, what: string): Promise<string> {
  if (node !== undefined) return node;
  const { data } = await ctx.pve.request<{ node: string; status?: string }[]>({
    method: "GET",
    path: "/nodes",
    signal: ctx.signal,
  });
  const online = (data ?? []).filter((n) => n.status === undefined || n.status === "online").map((n) => n.node).sort();
  if (online.length === 1) return online[0] as string;
  throw new TypeError(`${what} needs a node: pass node (online nodes: ${online.join(", ") || "none"})`);
}

/** A guest's current configuration (`GET .../config`). */
export async function readConfig(ctx: ToolContext, ref: GuestLoc): Promise<Record<string, unknown>> {
  const { data } = await ctx.pve.request<Record<string, unknown>>({
    method: "GET",
    path: guestPath(ref, "config"),
    signal: ctx.signal,
  });
  return data ?? {};
}

/** An ordered key/value view of a PVE property string (`virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1`). */
export type PropertyList = [key: string, value: string][];

/**
 * Splits a property string. A bare item (no `=`) is stored under `defaultKey` (e.g. `file` for disks,
 * `model` for QEMU NICs); without one it is kept with an empty value.
 */
export function parseProperties(text: string, defaultKey?: string): PropertyList {
  const out: PropertyList = [];
  for (const item of text.split(",")) {
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq < 0) out.push([defaultKey ?? item, defaultKey === undefined ? "" : item]);
    else out.push([item.slice(0, eq), item.slice(eq + 1)]);
  }
  return out;
}

/** Joins a property list back into a property string. */
export function formatProperties(list: PropertyList): string {
  return list.map(([k, v]) => (v === "" ? k : `${k}=${v}`)).join(",");
}

/** Sets (or with `undefined`, removes) a key of a property list, keeping the order of the others. */
export function setProperty(list: PropertyList, key: string, value: string | undefined): PropertyList {
  const i = list.findIndex(([k]) => k === key);
  if (value === undefined) return i < 0 ? list : list.filter(([k]) => k !== key);
  if (i < 0) return [...list, [key, value]];
  const copy = list.slice();
  copy[i] = [key, value];
  return copy;
}

/** Value of a key of a property list. */
export function getProperty(list: PropertyList, key: string): string | undefined {
  return list.find(([k]) => k === key)?.[1];
}

/**
 * A string checked against a pattern at validation time, without the pattern in the listed JSON schema (tools/list
 * size is a budget; the message says what is expected).
 */
export function matching(re: RegExp, message: string, max = 255): z.ZodString {
  return z.string().max(max).refine((s) => re.test(s), message);
}

/** Disk keys PVE knows for QEMU (`scsi0`, `virtio3`, …) and LXC (`rootfs`, `mp0`, …). */
export const DiskKey = matching(
  /^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|efidisk0|tpmstate0|rootfs|mp([0-9]|[1-9][0-9]|2[0-4][0-9]|25[0-5]))$/,
  "must be a disk key like scsi0, virtio1, rootfs or mp0",
  9,
).describe("e.g. scsi0, rootfs");

/** DNS name (`dns-name`): guest name / hostname. */
export const DnsName = matching(
  /^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/,
  "must be a DNS name like web-01",
  63,
);

/** An IPv4 address. */
export const Ipv4 = matching(/^(\d{1,3}\.){3}\d{1,3}$/, "must be an IPv4 address like 10.0.0.1", 15);

/** A network bridge name. */
export const Bridge = matching(/^[-_.\w]{1,15}$/, "must be a bridge name like vmbr0", 15);

/** True for disk keys that belong to containers. */
export function isContainerDisk(key: string): boolean {
  return key === "rootfs" || /^mp\d+$/.test(key);
}

/** Parses a PVE size (`32G`, `512M`, `1.5T`, bare = bytes) into bytes. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(text.trim());
  if (!m) return undefined;
  const mult = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2] as "" | "K" | "M" | "G" | "T"];
  return Number(m[1]) * mult;
}

/** A guest tag list as PVE stores it (`;`-separated). */
export function joinTags(tags: readonly string[]): string {
  return tags.join(";");
}

/** A tool argument's value to send to PVE, and how messages may name it (never by its value). */
export interface ArgValue {
  value: string;
  /** `the value of secret://NAME` for a resolved reference, `the value` otherwise. */
  label: string;
}

/**
 * Turns a tool argument that may carry a secret into the value to send to PVE: `secret://NAME` is resolved through
 * the call pipeline (`ctx.resolveSecret`, which checks the secret's use policy and registers the value so it is
 * scrubbed from everything the call returns; the model only ever sees the name); any other value is returned as
 * given. Messages name secrets, never values.
 */
export async function resolveSecretRef(value: string, ctx: ToolContext, field: string): Promise<ArgValue> {
  if (!value.startsWith("secret://")) return { value, label: "the value" };
  const name = secretRefName(value);
  if (name === undefined) {
    throw new TypeError(`${field}: this is not a valid secret reference: use secret://NAME (letters, digits, . _ -)`);
  }
  if (!ctx.resolveSecret) {
    throw new TypeError(
      `${field}: cannot resolve secret://${name}: no secret store is configured; set PROXMOX_MCP_SECRETS_FILE and ` +
        `add the secret with: pve-mcp secrets set ${name}`,
    );
  }
  try {
    return { value: await ctx.resolveSecret(field, value), label: `the value of secret://${name}` };
  } catch (e) {
    if (e instanceof SecretStoreError) throw new TypeError(`${field}: ${e.message}`);
    throw e;
  }
}

/** A tool argument that is a secret value or a `secret://NAME` reference (preferred: the model never sees it). */
export const SecretArg = (what: string) => z.string().min(1).max(8192).describe(`${what}; prefer secret://NAME`);

/** SSH public keys as PVE's `urlencoded` format wants them (for QEMU `sshkeys`). */
export function encodeSshKeys(keys: string): string {
  return encodeURIComponent(keys.replace(/\r\n/g, "\n").trim());
}

/**
 * Checks SSH public keys enough to catch a pasted private key or garbage. Messages name the argument and the line
 * number, and quote nothing: the text may be a resolved secret.
 */
export function checkSshKeys(keys: ArgValue, field: string): void {
  if (/PRIVATE KEY/.test(keys.value)) {
    throw new TypeError(
      `${field}: ${keys.label} looks like a private key; pass public keys only (ssh-ed25519 AAAA… comment)`,
    );
  }
  const lines = keys.value.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  lines.forEach((line, i) => {
    if (
      !/^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp\d+|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+\/=]+( .*)?$/
        .test(line)
    ) {
      const where = lines.length > 1 ? ` (line ${i + 1})` : "";
      throw new TypeError(
        `${field}: ${keys.label}${where} is not an SSH public key line (expected: ssh-ed25519 AAAA… comment)`,
      );
    }
  });
}
