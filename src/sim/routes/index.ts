/**
 * Every route the simulator serves by default. To add endpoints: write `src/sim/routes/<area>.ts` exporting a
 * `SimRoute[]` (method + path template exactly as in the contract) and append it here.
 * @module
 */
import type { SimRoute } from "../router.ts";
import { accessRoutes } from "./access.ts";
import { agentRoutes } from "./agent.ts";
import { bulkRoutes } from "./bulk.ts";
import { clusterRoutes } from "./cluster.ts";
import { guestRoutes } from "./guests.ts";
import { guestChangeRoutes } from "./guest_changes.ts";
import { infraRoutes } from "./infra.ts";
import { nodeRoutes } from "./nodes.ts";
import { powerRoutes } from "./power.ts";
import { storageRoutes } from "./storage.ts";
import { taskRoutes } from "./tasks.ts";

/** The default route list. */
export const DEFAULT_ROUTES: readonly SimRoute[] = [
  ...accessRoutes,
  ...agentRoutes,
  ...clusterRoutes,
  ...nodeRoutes,
  ...guestRoutes,
  ...powerRoutes,
  ...guestChangeRoutes,
  ...storageRoutes,
  ...taskRoutes,
  ...infraRoutes,
  ...bulkRoutes,
];
