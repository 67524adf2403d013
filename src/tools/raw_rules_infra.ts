/**
 * The reviewed raw API rows for node- and cluster-wide guest actions, pools, storage, credentials kept by the cluster,
 * and cluster and node infrastructure (after the guest rows of raw_rules.ts).
 * @module
 */
import { truthy } from "./raw_refs.ts";
import { allGuests, guest, type RawRule } from "./raw_rules.ts";

/** Rows after {@linkcode GUEST_RULES} (order matters: the first match decides). */
export const INFRA_RULES: readonly RawRule[] = [
  // Node-wide and cluster-wide guest actions.
  {
    methods: ["POST"],
    paths: ["/nodes/{node}/startall", "/cluster/bulk-action/guest/start"],
    cls: "write",
    why: "starts many guests",
    mass: allGuests,
  },
  {
    methods: ["POST"],
    paths: [
      "/nodes/{node}/stopall",
      "/nodes/{node}/suspendall",
      "/nodes/{node}/migrateall",
      "/cluster/bulk-action/guest/shutdown",
      "/cluster/bulk-action/guest/suspend",
      "/cluster/bulk-action/guest/migrate",
    ],
    cls: "destructive",
    why: "stops, suspends or moves many guests at once",
    mass: allGuests,
  },
  {
    methods: ["POST"],
    paths: ["/nodes/{node}/status"],
    cls: "destructive",
    why: "reboots or shuts down the node and all its guests",
    mass: () => "every guest of the node",
  },
  {
    methods: ["POST"],
    paths: ["/cluster/ha/status/arm-ha", "/cluster/ha/status/disarm-ha"],
    cls: "destructive",
    why: "changes HA fencing for the whole cluster",
    mass: () => "every HA-managed guest",
  },
  {
    methods: ["POST", "PUT"],
    paths: ["/cluster/ha/**"],
    cls: "write",
    why: "HA resources, groups and rules (HA starts, stops and moves its guests)",
  },
  // Pools.
  {
    methods: ["POST", "PUT"],
    paths: ["/pools", "/pools/{poolid}"],
    cls: "write",
    why: "pool membership (guests moved in or out are members)",
    escalate: [{
      if: "`delete=1`",
      when: (p) => truthy(p.delete),
      cls: "destructive",
      why: "removes members from a pool",
    }],
  },
  // Storage.
  {
    methods: ["POST", "PUT"],
    paths: ["/storage", "/storage/{storage}"],
    cls: "destructive",
    why: "storage definitions (a new storage can receive every backup; changes can cut guests off their disks)",
    fetches: ["server", "portal"],
  },
  {
    methods: ["POST", "PUT"],
    paths: ["/nodes/{node}/storage/{storage}/content", "/nodes/{node}/storage/{storage}/content/{volume}"],
    cls: "write",
    why: "allocates, copies or annotates a volume",
    escalate: [{
      if: "`protected=0`",
      when: (p) => p.protected !== undefined && !truthy(p.protected),
      cls: "destructive",
      why: "unprotecting a backup lets pruning delete it",
    }],
  },
  {
    methods: ["POST"],
    paths: ["/nodes/{node}/storage/{storage}/upload"],
    cls: "write",
    why: "uploads a file to a storage",
  },
  // Credentials kept by the cluster.
  {
    methods: ["POST", "PUT"],
    paths: ["/cluster/acme/**", "/cluster/metrics/server/**", "/cluster/notifications/endpoints/**"],
    cls: "destructive",
    why: "carries credentials (DNS API keys, tokens, SMTP passwords) and sends data out of the cluster",
    fetches: ["url", "server", "directory"],
  },
  {
    methods: ["POST", "PUT"],
    paths: ["/cluster/notifications/**"],
    cls: "write",
    why: "notification matchers and test messages",
  },
  {
    methods: ["POST", "PUT"],
    paths: ["/access/**", "/cluster/jobs/realm-sync/**"],
    cls: "destructive",
    why: "users, tokens, permissions and realms decide who controls the cluster",
  },
  // Cluster and node infrastructure.
  {
    methods: ["PUT", "POST"],
    paths: ["/cluster/firewall/options", "/nodes/{node}/firewall/options", ...guest("/firewall/options")],
    cls: "destructive",
    why: "firewall options (enable, default policy) can lock everyone out",
  },
  {
    methods: ["POST", "PUT"],
    paths: ["/cluster/firewall/**", "/nodes/{node}/firewall/**", ...guest("/firewall/**")],
    cls: "write",
    why: "firewall rules, groups, aliases and IP sets",
  },
  {
    methods: ["PUT", "POST"],
    paths: ["/cluster/sdn", "/cluster/sdn/rollback"],
    cls: "destructive",
    why: "applies or rolls back the cluster's SDN configuration",
  },
  { methods: ["POST", "PUT"], paths: ["/cluster/sdn/**"], cls: "write", why: "pending SDN changes (applied later)" },
  { methods: ["POST", "PUT"], paths: ["/cluster/mapping/**"], cls: "write", why: "resource mappings" },
  { methods: ["PUT"], paths: ["/cluster/options"], cls: "write", why: "datacenter options" },
  {
    methods: ["POST", "PUT"],
    paths: ["/cluster/config/**", "/cluster/ceph/**", "/nodes/{node}/ceph/**"],
    cls: "destructive",
    why: "cluster membership and Ceph changes can take the cluster or its storage offline",
  },
  {
    methods: ["POST", "PUT"],
    paths: ["/nodes/{node}/disks/**"],
    cls: "destructive",
    why: "disk initialisation and wiping destroy data",
  },
  {
    methods: ["POST", "PUT"],
    paths: [
      "/nodes/{node}/certificates/**",
      "/nodes/{node}/dns",
      "/nodes/{node}/hosts",
      "/nodes/{node}/apt/repositories",
      "/nodes/{node}/subscription",
    ],
    cls: "destructive",
    why: "certificates, name resolution, package sources and subscription keys of the node",
  },
  {
    methods: ["PUT"],
    paths: ["/nodes/{node}/network"],
    cls: "destructive",
    why: "applying network changes can cut the node off",
  },
  {
    methods: ["POST", "PUT"],
    paths: ["/nodes/{node}/network/**"],
    cls: "write",
    why: "pending network changes (applied later)",
  },
  {
    methods: ["POST"],
    paths: ["/nodes/{node}/services/{service}/stop", "/nodes/{node}/services/{service}/restart"],
    cls: "destructive",
    why: "stopping a node service can cut off the API or guests",
  },
  {
    methods: ["POST", "PUT"],
    paths: [
      "/nodes/{node}/services/{service}/start",
      "/nodes/{node}/services/{service}/reload",
      "/nodes/{node}/config",
      "/nodes/{node}/time",
      "/nodes/{node}/wakeonlan",
      "/nodes/{node}/aplinfo",
      "/nodes/{node}/apt/update",
    ],
    cls: "write",
    why: "node settings, service start, wake-on-LAN, template and package index downloads",
  },
  {
    methods: ["DELETE"],
    paths: ["/**"],
    cls: "destructive",
    why: "DELETE removes or stops something",
  },
];
