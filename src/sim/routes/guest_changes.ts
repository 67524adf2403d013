/**
 * Every simulator route of the guest-changing tools (create/restore, lifecycle, config and disks, snapshots,
 * backups), listed once so src/sim/routes/index.ts registers them with one line.
 * @module
 */
import type { SimRoute } from "../router.ts";
import { backupRoutes } from "./backups.ts";
import { guestConfigRoutes } from "./guests_config.ts";
import { guestLifecycleRoutes } from "./guests_lifecycle.ts";
import { guestCreateRoutes } from "./guests_write.ts";
import { snapshotRoutes } from "./snapshots.ts";

/** The routes, in registration order. */
export const guestChangeRoutes: readonly SimRoute[] = [
  ...guestCreateRoutes,
  ...guestLifecycleRoutes,
  ...guestConfigRoutes,
  ...snapshotRoutes,
  ...backupRoutes,
];
