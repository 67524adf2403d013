import { checkGrow, freeNicIndex, guestDisk, guestNic, nicValue } from "../../src/tools/guest_devices.ts";
import { assert, assertEquals, errorOf, fakeContext, guest } from "./guest_fake.ts";

const QCFG = {
  scsi0: "local-lvm:vm-100-disk-0,iothread=1,size=32G",
  ide2: "none,media=cdrom",
  net0: "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=1",
};
const LCFG = {
  rootfs: "local-lvm:vm-200-disk-0,size=8G",
  net0: "name=eth0,bridge=vmbr0,firewall=1,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth",
};

function setup() {
  return fakeContext({
    guests: [guest(100, "qemu", { status: "running" }), guest(200, "lxc")],
    configs: { 100: QCFG, 200: LCFG },
  });
}

Deno.test("guest_disk: grow only — absolute sizes must exceed the current one, +N always grows", async () => {
  assertEquals(checkGrow("scsi0", QCFG.scsi0, "+10G"), "+10G");
  assertEquals(checkGrow("scsi0", QCFG.scsi0, "64G"), "64G");
  assert((await errorOf(() => checkGrow("scsi0", QCFG.scsi0, "16G"))).includes("can only grow"), "shrink");
  assert((await errorOf(() => checkGrow("scsi0", QCFG.scsi0, "32G"))).includes("is 32G"), "same size");
  assert((await errorOf(() => checkGrow("scsi0", QCFG.scsi0, "+0"))).includes("does not grow"), "+0");
  const { ctx, sent } = setup();
  await guestDisk.handler(guestDisk.input.parse({ vmid: 100, action: "resize", disk: "scsi0", size: "+8G" }), ctx);
  const put = sent.find((s) => s.method === "PUT")!;
  assertEquals(put.path, "/nodes/pve1/qemu/100/resize");
  assertEquals(put.params, { disk: "scsi0", size: "+8G", digest: "abc123" });
});

Deno.test("guest_disk: move uses move_disk for VMs and move_volume for containers; wrong disks are refused", async () => {
  const { ctx, sent } = setup();
  await guestDisk.handler(
    guestDisk.input.parse({
      vmid: 100,
      action: "move",
      disk: "scsi0",
      storage: "nas",
      delete_source: true,
    }),
    ctx,
  );
  let post = sent.find((s) => s.method === "POST")!;
  assertEquals(post.path, "/nodes/pve1/qemu/100/move_disk");
  assertEquals(post.params, { disk: "scsi0", storage: "nas", delete: "1" });
  sent.length = 0;
  await guestDisk.handler(guestDisk.input.parse({ vmid: 200, action: "move", disk: "rootfs", storage: "nas" }), ctx);
  post = sent.find((s) => s.method === "POST")!;
  assertEquals(post.path, "/nodes/pve1/lxc/200/move_volume");
  assertEquals(post.params, { volume: "rootfs", storage: "nas" });
  const cd = await errorOf(() =>
    guestDisk.handler(guestDisk.input.parse({ vmid: 100, action: "move", disk: "ide2", storage: "nas" }), ctx)
  );
  assert(cd.includes("CD-ROM"), cd);
  const missing = await errorOf(() =>
    guestDisk.handler(guestDisk.input.parse({ vmid: 100, action: "resize", disk: "scsi1", size: "+1G" }), ctx)
  );
  assert(missing.includes("has no disk scsi1"), missing);
  const wrongType = await errorOf(() =>
    guestDisk.handler(guestDisk.input.parse({ vmid: 200, action: "resize", disk: "scsi0", size: "+1G" }), ctx)
  );
  assert(wrongType.includes("not a container volume"), wrongType);
});

Deno.test("guest_nic: update keeps the MAC and untouched keys; vlan 0 removes the tag", () => {
  const args = (a: Record<string, unknown>) => guestNic.input.parse({ vmid: 100, action: "update", ...a });
  assertEquals(
    nicValue("qemu", 0, QCFG.net0, args({ vlan: 30, bridge: "vmbr1" })),
    "virtio=BC:24:11:AA:BB:CC,bridge=vmbr1,firewall=1,tag=30",
  );
  assertEquals(
    nicValue("qemu", 0, "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,tag=30", args({ vlan: 0, model: "e1000" })),
    "e1000=BC:24:11:AA:BB:CC,bridge=vmbr0",
  );
  assertEquals(nicValue("qemu", 1, undefined, args({})), "virtio,bridge=vmbr0");
  assertEquals(
    nicValue("lxc", 0, LCFG.net0, args({ ip: "10.1.2.3/24", gw: "10.1.2.1" })),
    "name=eth0,bridge=vmbr0,firewall=1,hwaddr=BC:24:11:00:00:01,ip=10.1.2.3/24,type=veth,gw=10.1.2.1",
  );
  assertEquals(nicValue("lxc", 2, undefined, args({ bridge: "vmbr2" })), "name=eth2,ip=dhcp,bridge=vmbr2");
  assertEquals(freeNicIndex({ net0: "x", net1: "y", net3: "z" }), 2);
});

Deno.test("guest_nic: add picks the first free index, remove deletes netN, wrong keys are refused", async () => {
  const { ctx, sent } = setup();
  const added = await guestNic.handler(guestNic.input.parse({ vmid: 100, action: "add", vlan: 10 }), ctx);
  assertEquals(added.nic, "net1");
  const put = sent.find((s) => s.method === "PUT")!;
  assertEquals(put.params, { net1: "virtio,bridge=vmbr0,tag=10", digest: "abc123" });
  sent.length = 0;
  await guestNic.handler(guestNic.input.parse({ vmid: 100, action: "remove", index: 0 }), ctx);
  assertEquals(sent.find((s) => s.method === "PUT")!.params, { delete: "net0", digest: "abc123" });
  const dup = await errorOf(() => guestNic.handler(guestNic.input.parse({ vmid: 100, action: "add", index: 0 }), ctx));
  assert(dup.includes("already exists"), dup);
  const ip = await errorOf(() =>
    guestNic.handler(guestNic.input.parse({ vmid: 100, action: "update", index: 0, ip: "dhcp" }), ctx)
  );
  assert(ip.includes("cloud-init"), ip);
  const none = await errorOf(() =>
    guestNic.handler(guestNic.input.parse({ vmid: 200, action: "update", index: 5 }), ctx)
  );
  assert(none.includes("has no net5"), none);
});
