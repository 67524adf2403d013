import { poolChange, poolInfo } from "../../src/tools/pools.ts";
import { effectOf } from "../../src/tools/registry.ts";
import { assert, assertEquals, callTool, errorOf, fakeInfra, type Sent } from "./infra_fake.ts";

const pool = {
  poolid: "web",
  comment: "web tier",
  members: [
    { id: "qemu/101", type: "qemu", vmid: 101, node: "pve1", name: "web1", status: "running" },
    { id: "storage/pve1/local", type: "storage", node: "pve1", storage: "local" },
  ],
};

Deno.test("pool_info: pools with member counts, or one pool's members", async () => {
  const { ctx, sent } = fakeInfra({
    "GET /pools": (
      s: Sent,
    ) => (s.params.poolid === "web" ? [pool] : s.params.poolid ? [] : [{ poolid: "web", comment: "web tier" }]),
  });
  assertEquals((await callTool(poolInfo, {}, ctx)).rows, [["web", 0, 0, "web tier"]]);
  const one = await callTool(poolInfo, { poolid: "web" }, ctx);
  assertEquals(one.rows, [["qemu/101", "qemu", 101, "web1", "pve1", null, "running"], [
    "storage/pve1/local",
    "storage",
    null,
    null,
    "pve1",
    "local",
    null,
  ]]);
  assertEquals(sent.at(-1)?.params, { poolid: "web" });
  assert((await errorOf(() => callTool(poolInfo, { poolid: "nope" }, ctx))).includes("does not exist"), "missing pool");
});

Deno.test("pool_change: create, update membership (one guest, the policy target), delete", async () => {
  const { ctx, sent } = fakeInfra({
    "POST /pools": null,
    "PUT /pools": null,
    "DELETE /pools": null,
    "GET /pools": [pool],
  });
  await callTool(poolChange, { action: "create", poolid: "db", comment: "databases" }, ctx);
  await callTool(poolChange, { action: "update", poolid: "db", vmid: 105 }, ctx);
  await callTool(poolChange, { action: "update", poolid: "db", vmid: 105, remove: true }, ctx);
  await callTool(poolChange, { action: "update", poolid: "db", storage: "local" }, ctx);
  await callTool(poolChange, { action: "delete", poolid: "db" }, ctx);
  assertEquals(sent.map((s) => [s.method, s.params]), [
    ["POST", { poolid: "db", comment: "databases" }],
    ["PUT", { poolid: "db", vms: "105", "allow-move": "1" }],
    ["PUT", { poolid: "db", vms: "105", delete: "1" }],
    ["PUT", { poolid: "db", storage: "local" }],
    ["DELETE", { poolid: "db" }],
  ]);
  const upd = poolChange.input.parse({ action: "update", poolid: "db", vmid: 105 });
  assertEquals(effectOf(poolChange as never, upd).guests, [{ vmid: 105, role: "member" }]);
  assertEquals(effectOf(poolChange as never, upd).pools, ["db"]);
  assertEquals(effectOf(poolChange as never, upd).cls, "write");
  const del = poolChange.input.parse({ action: "delete", poolid: "web" });
  assertEquals(effectOf(poolChange as never, del).cls, "destructive");
  const plan = await poolChange.plan!(del, ctx);
  assertEquals(plan.current, "exists, 2 members");
  assert(
    (await errorOf(() => callTool(poolChange, { action: "update", poolid: "db" }, ctx))).includes("pass comment"),
    "empty update",
  );
});
