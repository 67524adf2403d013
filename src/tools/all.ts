/**
 * Every tool the server knows, in the order they are listed.
 * @module
 */
import type { ToolDef } from "./registry.ts";
import { clusterOverview } from "./cluster.ts";
import { guestInfo, guestList } from "./guests_read.ts";
import { nodeInfo } from "./nodes.ts";
import { storageInfo } from "./storage.ts";
import { taskInfo } from "./tasks.ts";
import { pveApi } from "./raw_api.ts";
import { guestPower } from "./guest_power.ts";
import { guestCreate } from "./guest_create.ts";
import { guestClone, guestManage } from "./guest_lifecycle.ts";
import { guestConfig } from "./guest_config.ts";
import { guestDisk, guestNic } from "./guest_devices.ts";
import { snapshot } from "./snapshots.ts";
import { backup } from "./backups.ts";

/** The registry: all tool definitions. */
export const ALL_TOOLS: readonly ToolDef[] = [
  clusterOverview,
  nodeInfo,
  guestList,
  guestInfo,
  storageInfo,
  taskInfo,
  pveApi,
  // guests (changes), snapshots, backups
  guestPower,
  guestCreate,
  guestClone,
  guestManage,
  guestConfig,
  guestDisk,
  guestNic,
  snapshot,
  backup,
] as unknown as readonly ToolDef[];
