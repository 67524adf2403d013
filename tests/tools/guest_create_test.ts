import { guestCreate } from "../../src/tools/guest_create.ts";
import { assert, assertEquals, errorOf, fakeContext, guest } from "./guest_fake.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0yqWv0yPxQnZ0d5cX5u8pQm6x7g8h9i0j1k2l3m4n5 me@laptop";

function setup(secrets?: Record<string, string>) {
  return fakeContext({
    guests: [guest(100, "qemu"), guest(9000, "qemu", { template: true, name: "tpl-debian" })],
    ...(secrets ? { secrets } : {}),
  });
}

Deno.test("guest_create: qemu from ISO takes the next free vmid and sends a schema-valid create", async () => {
  const { ctx, sent } = setup();
  const out = await guestCreate.handler(
    guestCreate.input.parse({ type: "qemu", node: "pve1", name: "web-01", iso: "local:iso/debian.iso", cores: 2 }),
    ctx,
  );
  assertEquals(out.vmid, 900);
  const create = sent.find((s) => s.method === "POST")!;
  assertEquals(create.path, "/nodes/pve1/qemu");
  assertEquals(create.params.vmid, "900");
  assertEquals(create.params.ide2, "local:iso/debian.iso,media=cdrom");
  assertEquals(create.params.scsi0, "local-lvm:32,iothread=1,discard=on");
  assertEquals(create.params.net0, "virtio,bridge=vmbr0,firewall=1");
  assert(create.params.ciuser === undefined && create.params.ide0 === undefined, "no cloud-init drive unasked");
});

Deno.test("guest_create: cloud-init options add a cloud-init drive; secret:// passwords resolve in the server", async () => {
  const { ctx, sent } = setup({ "ci-pass": "s3cret-Value" });
  await guestCreate.handler(
    guestCreate.input.parse({
      type: "qemu",
      node: "pve1",
      vmid: 150,
      user: "admin",
      password: "secret://ci-pass",
      ssh_keys: KEY,
      ip: "10.0.0.5/24",
      gw: "10.0.0.1",
    }),
    ctx,
  );
  const p = sent.find((s) => s.method === "POST")!.params;
  assertEquals(p.ide2, "local-lvm:cloudinit");
  assertEquals(p.cipassword, "s3cret-Value");
  assertEquals(p.ipconfig0, "ip=10.0.0.5/24,gw=10.0.0.1");
  assertEquals(decodeURIComponent(p.sshkeys ?? ""), KEY);
  assert(!/[ @]/.test(p.sshkeys ?? ""), "sshkeys must be URL-encoded");
});

Deno.test("guest_create: a secret:// reference without a store, or an unknown name, fails before anything is sent", async () => {
  let { ctx, sent } = setup();
  let msg = await errorOf(() =>
    guestCreate.handler(guestCreate.input.parse({ type: "qemu", node: "pve1", password: "secret://x" }), ctx)
  );
  assert(msg.includes("no secret store is configured"), msg);
  assertEquals(sent.length, 0);
  ({ ctx, sent } = setup({ other: "v" }));
  msg = await errorOf(() =>
    guestCreate.handler(guestCreate.input.parse({ type: "qemu", node: "pve1", password: "secret://x" }), ctx)
  );
  assert(msg.includes('No secret named "x"'), msg);
  assert(!msg.includes('v"'), "message must not hold values");
});

Deno.test("guest_create: lxc from an OS template with root password and keys", async () => {
  const { ctx, sent } = setup();
  await guestCreate.handler(
    guestCreate.input.parse({
      type: "lxc",
      node: "pve1",
      name: "ct-01",
      ostemplate: "local:vztmpl/debian-12.tar.zst",
      password: "hunter22",
      ssh_keys: KEY,
      disk_gb: 4,
      vlan: 20,
    }),
    ctx,
  );
  const c = sent.find((s) => s.method === "POST")!;
  assertEquals(c.path, "/nodes/pve1/lxc");
  assertEquals(c.params.rootfs, "local-lvm:4");
  assertEquals(c.params.net0, "name=eth0,bridge=vmbr0,tag=20,firewall=1,ip=dhcp");
  assertEquals(c.params["ssh-public-keys"], KEY);
  assertEquals(c.params.unprivileged, "1");
  const noTpl = await errorOf(() => guestCreate.handler(guestCreate.input.parse({ type: "lxc", node: "pve1" }), ctx));
  assert(noTpl.includes("needs ostemplate"), noTpl);
});

Deno.test("guest_create: from a template clones, waits, then applies cloud-init and starts", async () => {
  const { ctx, sent } = setup();
  const out = await guestCreate.handler(
    guestCreate.input.parse({
      type: "qemu",
      node: "pve1",
      template: 9000,
      name: "app-01",
      memory: 4096,
      ip: "dhcp",
      user: "ops",
      start: true,
    }),
    ctx,
  );
  const writes = sent.filter((s) => s.method !== "GET").map((s) => `${s.method} ${s.path}`);
  assertEquals(writes, [
    "POST /nodes/pve1/qemu/9000/clone",
    "PUT /nodes/pve1/qemu/900/config",
    "POST /nodes/pve1/qemu/900/status/start",
  ]);
  const put = sent.find((s) => s.method === "PUT")!.params;
  assertEquals(put, { memory: "4096", ciuser: "ops", ipconfig0: "ip=dhcp" });
  assertEquals(out.vmid, 900);
  const notTpl = await errorOf(() =>
    guestCreate.handler(guestCreate.input.parse({ type: "qemu", node: "pve1", template: 100 }), ctx)
  );
  assert(notTpl.includes("is not a QEMU template"), notTpl);
});

Deno.test("guest_create: a used vmid, mixed-up options and private keys are refused", async () => {
  const { ctx } = setup();
  const used = await errorOf(() =>
    guestCreate.handler(guestCreate.input.parse({ type: "qemu", node: "pve1", vmid: 100 }), ctx)
  );
  assert(used.includes("already used"), used);
  const mixed = await errorOf(() =>
    guestCreate.handler(guestCreate.input.parse({ type: "qemu", node: "pve1", ostemplate: "local:vztmpl/x.tar" }), ctx)
  );
  assert(mixed.includes("ostemplate applies to type=lxc"), mixed);
  const priv = await errorOf(() =>
    guestCreate.handler(
      guestCreate.input.parse({ type: "qemu", node: "pve1", ssh_keys: "-----BEGIN OPENSSH PRIVATE KEY-----" }),
      ctx,
    )
  );
  assert(priv.includes("private key"), priv);
});
