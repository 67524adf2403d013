import { classifyPower, guestPower, POWER_ACTIONS } from "../../src/tools/guest_power.ts";
import { assert, assertEquals, errorOf, fakeContext, guest } from "./guest_fake.ts";

const run = (args: Record<string, unknown>, g = guest(100, "qemu", { status: "running" })) => {
  const { ctx, sent } = fakeContext({ guests: [g, guest(200, "lxc", { status: "running" })] });
  return { promise: guestPower.handler(guestPower.input.parse(args), ctx), sent, ctx };
};

Deno.test("guest_power: every action of a VM emits a schema-valid POST to status/<action> and waits", async () => {
  for (const action of POWER_ACTIONS) {
    const { promise, sent } = run({ vmid: 100, action });
    const out = await promise;
    assertEquals(sent[0]?.method, "POST", action);
    assertEquals(sent[0]?.path, `/nodes/pve1/qemu/100/status/${action}`, action);
    assert(out.ok === true && out.status === "stopped", `${action}: not waited for`);
    assert(sent.some((s) => s.path.endsWith("/status") && s.method === "GET"), `${action}: task not polled`);
  }
});

Deno.test("guest_power: container actions map to lxc paths; reset is refused for containers", async () => {
  for (const action of POWER_ACTIONS.filter((a) => a !== "reset")) {
    const { promise, sent } = run({ vmid: 200, action, wait: false }, guest(200, "lxc", { status: "running" }));
    const out = await promise;
    assertEquals(sent.length, 1, action);
    assertEquals(sent[0]?.path, `/nodes/pve1/lxc/200/status/${action}`);
    assertEquals(out.status, "running", "wait=false returns at once");
  }
  const msg = await errorOf(() => run({ vmid: 200, action: "reset" }, guest(200, "lxc")).promise);
  assert(msg.includes("reset is not available for containers"), msg);
});

Deno.test("guest_power: options reach PVE under its own names (forceStop, timeout, todisk)", async () => {
  let r = run({ vmid: 100, action: "shutdown", force: true, timeout: 60 });
  await r.promise;
  assertEquals(r.sent[0]?.params, { timeout: "60", forceStop: "1" });
  r = run({ vmid: 100, action: "suspend", to_disk: true });
  await r.promise;
  assertEquals(r.sent[0]?.params, { todisk: "1" });
  const bad = await errorOf(() => run({ vmid: 100, action: "start", force: true }).promise);
  assert(bad.includes("force applies to action=shutdown"), bad);
  const lxcTimeout = await errorOf(() => run({ vmid: 200, action: "stop", timeout: 5 }, guest(200, "lxc")).promise);
  assert(lxcTimeout.includes("not available for stopping containers"), lxcTimeout);
});

Deno.test("guest_power: stop, reset and forced shutdown are destructive; the rest are writes", () => {
  assertEquals(classifyPower({ action: "stop", force: false }), "destructive");
  assertEquals(classifyPower({ action: "reset", force: false }), "destructive");
  assertEquals(classifyPower({ action: "shutdown", force: true }), "destructive");
  for (const a of ["start", "shutdown", "reboot", "suspend", "resume"] as const) {
    assertEquals(classifyPower({ action: a, force: false }), "write", a);
  }
});

Deno.test("guest_power: templates cannot be powered on; the plan names target, state and effect", async () => {
  const msg = await errorOf(() => run({ vmid: 100, action: "start" }, guest(100, "qemu", { template: true })).promise);
  assert(msg.includes("is a template"), msg);
  const { ctx } = fakeContext({ guests: [guest(100, "qemu", { status: "running", name: "db1" })] });
  const plan = await guestPower.plan!(guestPower.input.parse({ vmid: 100, action: "stop" }), ctx);
  assertEquals(plan.target, 'VM 100 "db1" on pve1');
  assertEquals(plan.current, "running");
  assert(plan.effect.includes("unsaved data"), plan.effect);
});
