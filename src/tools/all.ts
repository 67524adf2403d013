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

/** The registry: all tool definitions. */
export const ALL_TOOLS: readonly ToolDef[] = [
  clusterOverview,
  nodeInfo,
  guestList,
  guestInfo,
  storageInfo,
  taskInfo,
  pveApi,
] as unknown as readonly ToolDef[];
