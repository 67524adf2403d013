import { guestCreate } from "../../src/tools/guest_create.ts";
import { assert, assertEquals, errorOf, fakeContext, guest } from "./guest_fake.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0yqWv0yPxQnZ0d5cX5u8pQm6x7g8h9i0j1k2l3m4n5 me@laptop";

function setup(secrets?: Record<string, string>) {
  return fakeContext({
    guests: [
      guest(100, "qemu"),
      guest(201, "lxc"),
      guest(9000, "qemu", { template: true, name: "tpl-debian" }),
    ],
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

Deno.test("guest_create: from a template clones (linked), waits, then applies cloud-init and starts", async () => {
  const { ctx, sent } = setup();
  const out = await guestCreate.handler(
    guestCreate.input.parse({ source: 9000, name: "app-01", memory: 4096, ip: "dhcp", user: "ops", start: true }),
    ctx,
  );
  const writes = sent.filter((s) => s.method !== "GET").map((s) => `${s.method} ${s.path}`);
  assertEquals(writes, [
    "POST /nodes/pve1/qemu/9000/clone",
    "PUT /nodes/pve1/qemu/900/config",
    "POST /nodes/pve1/qemu/900/status/start",
  ]);
  assertEquals(sent.find((s) => s.method === "POST")!.params, { newid: "900", name: "app-01", full: "0" });
  const put = sent.find((s) => s.method === "PUT")!.params;
  assertEquals(put, { memory: "4096", ciuser: "ops", ipconfig0: "ip=dhcp" });
  assertEquals(out.vmid, 900);
  assertEquals(out.node, "pve1");
});

Deno.test("guest_create: clones of guests are full by default; other node, storage, hostname for containers", async () => {
  const { ctx, sent } = setup();
  const out = await guestCreate.handler(
    guestCreate.input.parse({ source: 201, vmid: 300, name: "ct-copy", node: "pve2", storage: "nas", wait: false }),
    ctx,
  );
  const post = sent.find((s) => s.method === "POST")!;
  assertEquals(post.path, "/nodes/pve1/lxc/201/clone");
  assertEquals(post.params, { newid: "300", hostname: "ct-copy", full: "1", target: "pve2", storage: "nas" });
  assertEquals(out.node, "pve2");
  assertEquals(out.status, "running", "without settings the clone honours wait=false");
  const linked = await errorOf(() => guestCreate.handler(guestCreate.input.parse({ source: 100, full: false }), ctx));
  assert(linked.includes("linked clone needs a template"), linked);
  const ctPass = await errorOf(() =>
    guestCreate.handler(guestCreate.input.parse({ source: 201, password: "secret1" }), ctx)
  );
  assert(ctPass.includes("cannot be set on a cloned container"), ctPass);
  const iso = await errorOf(() =>
    guestCreate.handler(guestCreate.input.parse({ source: 9000, iso: "local:iso/x.iso" }), ctx)
  );
  assert(iso.includes("does not apply to clones"), iso);
  const kind = await errorOf(() => guestCreate.handler(guestCreate.input.parse({ source: 201, type: "qemu" }), ctx));
  assert(kind.includes("is a lxc guest"), kind);
  const fresh = await errorOf(() => guestCreate.handler(guestCreate.input.parse({ name: "x" }), ctx));
  assert(fresh.includes("pass type and node"), fresh);
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
