import { classifyManage, guestManage } from "../../src/tools/guest_lifecycle.ts";
import { assert, assertEquals, errorOf, fakeContext, guest } from "./guest_fake.ts";

const guests = () => [
  guest(100, "qemu", { status: "running" }),
  guest(101, "qemu"),
  guest(200, "lxc", { status: "running" }),
  guest(201, "lxc"),
  guest(9000, "qemu", { template: true }),
];

Deno.test("guest_manage: template and delete need a stopped guest and are destructive", async () => {
  const { ctx, sent } = fakeContext({ guests: guests() });
  assertEquals(classifyManage({ action: "template" }), "destructive");
  assertEquals(classifyManage({ action: "delete" }), "destructive");
  assertEquals(classifyManage({ action: "migrate" }), "write");
  assertEquals(classifyManage({ action: "nextid" }), "read");
  const running = await errorOf(() =>
    guestManage.handler(guestManage.input.parse({ action: "delete", vmid: 100 }), ctx)
  );
  assert(running.includes("is running: stop it first"), running);
  await guestManage.handler(guestManage.input.parse({ action: "delete", vmid: 101, purge: true }), ctx);
  assertEquals(sent.at(0), { method: "DELETE", path: "/nodes/pve1/qemu/101", params: { purge: "1" } });
  sent.length = 0;
  await guestManage.handler(guestManage.input.parse({ action: "template", vmid: 201 }), ctx);
  assertEquals(sent.at(0)?.path, "/nodes/pve1/lxc/201/template");
  const plan = await guestManage.plan!(guestManage.input.parse({ action: "delete", vmid: 101 }), ctx);
  assert(plan.effect.includes("irreversible") && plan.current === "stopped", JSON.stringify(plan));
});

Deno.test("guest_manage: migrate is online for running VMs, restart for running containers", async () => {
  const { ctx, sent } = fakeContext({ guests: guests() });
  await guestManage.handler(
    guestManage.input.parse({ action: "migrate", vmid: 100, target_node: "pve2", with_local_disks: true }),
    ctx,
  );
  assertEquals(sent[0]?.params, { target: "pve2", online: "1", "with-local-disks": "1" });
  sent.length = 0;
  await guestManage.handler(
    guestManage.input.parse({ action: "migrate", vmid: 200, target_node: "pve2", online: true }),
    ctx,
  );
  assertEquals(sent[0]?.path, "/nodes/pve1/lxc/200/migrate");
  assertEquals(sent[0]?.params, { target: "pve2", restart: "1" });
  const ct = await errorOf(() =>
    guestManage.handler(
      guestManage.input.parse({ action: "migrate", vmid: 200, target_node: "pve2", online: false }),
      ctx,
    )
  );
  assert(ct.includes("is running"), ct);
  const same = await errorOf(() =>
    guestManage.handler(guestManage.input.parse({ action: "migrate", vmid: 101, target_node: "pve1" }), ctx)
  );
  assert(same.includes("already on pve1"), same);
});

Deno.test("guest_manage: nextid answers the next free vmid or checks one", async () => {
  const { ctx, sent } = fakeContext({ guests: guests() });
  assertEquals(await guestManage.handler(guestManage.input.parse({ action: "nextid" }), ctx), { vmid: 900 });
  assertEquals(sent[0]?.path, "/cluster/nextid");
  assertEquals(await guestManage.handler(guestManage.input.parse({ action: "nextid", vmid: 555 }), ctx), { vmid: 555 });
  const used = await errorOf(() => guestManage.handler(guestManage.input.parse({ action: "nextid", vmid: 100 }), ctx));
  assert(used.includes("already used"), used);
  assertEquals(sent.at(-1)?.params, { vmid: "100" }, "PVE was asked about the vmid");
  assertEquals(guestManage.effect!(guestManage.input.parse({ action: "nextid", vmid: 100 })).guests, []);
  const migrate = guestManage.effect!(
    guestManage.input.parse({ action: "migrate", vmid: 100, target_node: "pve3", target_storage: "fast" }),
  );
  assertEquals([migrate.guests, migrate.nodes, migrate.storages], [[{ vmid: 100, role: "target" }], ["pve3"], [
    "fast",
  ]]);
});

Deno.test("guest_manage: nextid vmid=N trusts PVE about guests the token cannot see", async () => {
  const { ctx, sent } = fakeContext({ guests: guests(), hidden: [777] });
  const used = await errorOf(() => guestManage.handler(guestManage.input.parse({ action: "nextid", vmid: 777 }), ctx));
  assert(used.includes("already used by a guest that is not visible to this token"), used);
  assertEquals(sent.map((s) => s.path), ["/cluster/nextid"]);
});
