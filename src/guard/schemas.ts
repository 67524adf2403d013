/**
 * Shared zod primitives that mirror PVE's own formats, so bad input is refused before anything is sent.
 * @module
 */
import { z } from "zod";

/** A guest id (`pve-vmid`: 100 to 999999999). */
export const VmId = z.number().int().min(100).max(999_999_999);

/** A node name (`pve-node`): a DNS label. */
export const NodeName = z.string().regex(
  /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/,
  "must be a node name like pve1",
);

/** A storage id (`pve-storage-id`). */
export const StorageId = z.string().regex(/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i, "must be a storage id like local-lvm")
  .max(100);

/** A volume id (`pve-volume-id`) such as `local:iso/debian-12.iso`. */
export const VolumeId = z.string().regex(
  /^[a-z][a-z0-9\-_.]*[a-z0-9]:[^\s,;=]{1,250}$/i,
  "must be a volume id like local:iso/x.iso",
).max(255);

/** A task id (UPID). */
export const Upid = z.string().regex(
  /^UPID:[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?:[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8,9}:[0-9A-Fa-f]{8}:[^:\s/]+:[^:\s/]*:[^:\s/]+:$/,
  "must be a task id like UPID:pve1:...",
).describe("Task id (UPID)");

/** A guest tag (`pve-tag`). */
export const Tag = z.string().regex(/^[a-z0-9_][a-z0-9_\-+.]*$/i, "must be a tag like web or prod-db").max(64);

/** A pool id. */
export const PoolId = z.string().regex(/^[A-Za-z0-9_\-.]+$/, "must be a pool name").max(64);

/** Guest type as PVE names it. */
export const GuestType = z.enum(["qemu", "lxc"]);

/** Opaque pagination cursor. */
export const Cursor = z.string().max(64).describe("next_cursor of the previous page");
