/**
 * Every tool the server knows, in the order they are listed.
 * @module
 */
import type { ToolDef } from "./registry.ts";
import { clusterOverview } from "./cluster.ts";
import { guestInfo, guestList } from "./guests_read.ts";
import { nodeInfo } from "./nodes.ts";
import { storageInfo } from "./storage.ts";
import { taskInfo, taskStop } from "./tasks.ts";
import { storageVolume } from "./storage.ts";
import { metricsHistory } from "./metrics.ts";
import { firewallChange, firewallInfo } from "./firewall.ts";
import { accessInfo, accessToken } from "./access.ts";
import { poolChange, poolInfo } from "./pools.ts";
import { haInfo } from "./ha.ts";
import { cephStatus, clusterInfo, sdnInfo } from "./cluster_extra.ts";
import { pveApi } from "./raw_api.ts";
import { guestPower } from "./guest_power.ts";
import { guestCreate } from "./guest_create.ts";
import { guestManage } from "./guest_lifecycle.ts";
import { guestConfig } from "./guest_config.ts";
import { guestDisk, guestNic } from "./guest_devices.ts";
import { snapshot } from "./snapshots.ts";
import { backup } from "./backups.ts";
import { guestAgent } from "./agent.ts";
import { auditRecent } from "./audit.ts";

/** The registry: all tool definitions. */
export const ALL_TOOLS: readonly ToolDef[] = [
  clusterOverview,
  nodeInfo,
  guestList,
  guestInfo,
  storageInfo,
  taskInfo,
  // nodes, storage, tasks, metrics, firewall, access, pools, HA, Ceph, SDN, cluster (infra tools)
  clusterInfo,
  storageVolume,
  taskStop,
  metricsHistory,
  firewallInfo,
  firewallChange,
  accessInfo,
  accessToken,
  poolInfo,
  poolChange,
  haInfo,
  cephStatus,
  sdnInfo,
  pveApi,
  // guests (changes), snapshots, backups
  guestPower,
  guestCreate,
  guestManage,
  guestConfig,
  guestDisk,
  guestNic,
  snapshot,
  backup,
  // guest agent
  guestAgent,
  auditRecent,
] as unknown as readonly ToolDef[];
