import { configParams, guestConfig } from "../../src/tools/guest_config.ts";
import { assert, assertEquals, errorOf, fakeContext, guest } from "./guest_fake.ts";

const parse = (a: Record<string, unknown>) => guestConfig.input.parse({ vmid: 100, ...a });

Deno.test("guest_config: allowlisted keys map to PVE names per guest type", () => {
  const q = configParams(
    "qemu",
    parse({ name: "db-01", notes: "hi", tags: ["prod", "db"], memory: 4096, agent: true }),
    {},
  );
  assertEquals(q.params, { name: "db-01", description: "hi", tags: "prod;db", memory: "4096", agent: "1" });
  assertEquals(q.set, ["name", "description", "tags", "memory", "agent"]);
  const l = configParams("lxc", parse({ name: "ct-01", memory: 1024, swap: 256, delete: ["notes", "onboot"] }), {});
  assertEquals(l.params, { hostname: "ct-01", memory: 1024, swap: 256, delete: "description,onboot" });
  assertEquals(l.deleted, ["description", "onboot"]);
});

Deno.test("guest_config: type-specific keys, set+delete of one key, and empty updates are refused", async () => {
  assert((await errorOf(() => configParams("lxc", parse({ ciuser: "x" }), {}))).includes("VMs only"), "lxc ciuser");
  assert((await errorOf(() => configParams("qemu", parse({ swap: 1 }), {}))).includes("containers only"), "qemu swap");
  assert(
    (await errorOf(() => configParams("qemu", parse({ tags: [], delete: ["tags"] }), {}))).includes("both set"),
    "",
  );
  assert((await errorOf(() => configParams("qemu", parse({}), {}))).includes("nothing to change"), "empty");
  // Keys outside the allowlist do not pass the input schema at all.
  assert(!guestConfig.input.safeParse({ vmid: 100, args: "-no-reboot" }).success, "raw args must be refused");
  assert(!guestConfig.input.safeParse({ vmid: 100, hookscript: "local:snippets/x.sh" }).success, "hookscript");
});

Deno.test("guest_config: cloud-init secrets resolve from secret://, keys are URL-encoded, output names only", async () => {
  const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0yqWv0yPxQnZ0d5cX5u8pQm6x7g8h9i0j1k2l3m4n5 me@host";
  const { ctx, sent } = fakeContext({
    guests: [guest(100, "qemu", { status: "running" })],
    secrets: { pw: "Very$ecret1", keys: key },
    route: (s) => (s.path.endsWith("/pending") ? [{ key: "memory", value: "2048", pending: "4096" }] : undefined),
  });
  const out = await guestConfig.handler(
    parse({
      cipassword: "secret://pw",
      sshkeys: "secret://keys",
      ipconfig: ["ip=dhcp"],
      memory: 4096,
      digest: "abc123",
    }),
    ctx,
  );
  const put = sent.find((s) => s.method === "PUT")!;
  assertEquals(put.params.cipassword, "Very$ecret1");
  assertEquals(decodeURIComponent(put.params.sshkeys ?? ""), key);
  assertEquals(put.params.digest, "abc123");
  assertEquals(out.pending, ["memory"]);
  assert(!JSON.stringify(out).includes("Very$ecret1"), "a secret leaked into the result");
  assertEquals(
    guestConfig.text(out),
    "guest 100: set memory, cipassword, sshkeys, ipconfig0; reset nothing; pending until reboot: memory",
  );
});

Deno.test("guest_config: a locked guest is refused before the write", async () => {
  const { ctx, sent } = fakeContext({ guests: [guest(100, "qemu")], configs: { 100: { lock: "backup" } } });
  const msg = await errorOf(() => guestConfig.handler(parse({ cores: 2 }), ctx));
  assert(msg.includes("is locked (backup)"), msg);
  assert(!sent.some((s) => s.method === "PUT"), "wrote to a locked guest");
});
