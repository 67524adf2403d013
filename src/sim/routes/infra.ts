/**
 * The infrastructure routes (node extras, RRD, storage downloads, firewall, access administration, pools, HA, Ceph,
 * SDN, join information, replication), registered as one list in index.ts.
 * @module
 */
import type { SimRoute } from "../router.ts";
import { accessAdminRoutes } from "./access_admin.ts";
import { clusterExtraRoutes } from "./cluster_extra.ts";
import { firewallRoutes } from "./firewall.ts";
import { nodeExtraRoutes } from "./node_extras.ts";

/** Routes of the infrastructure tools. */
export const infraRoutes: readonly SimRoute[] = [
  ...nodeExtraRoutes,
  ...firewallRoutes,
  ...accessAdminRoutes,
  ...clusterExtraRoutes,
];
