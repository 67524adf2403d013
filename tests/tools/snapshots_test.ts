import { classifySnapshot, orderSnapshots, snapshot } from "../../src/tools/snapshots.ts";
import { cleanDeep } from "../../src/guard/untrusted.ts";
import { assert, assertEquals, errorOf, fakeContext, guest } from "./guest_fake.ts";

const SNAPS = [
  { name: "current", parent: "after", running: 1 },
  { name: "after", parent: "before", snaptime: 1700000100, vmstate: 1, description: "post\u202Eupgrade" },
  { name: "before", snaptime: 1700000000, description: "clean" },
];

function setup() {
  return fakeContext({
    guests: [guest(100, "qemu", { status: "running" }), guest(200, "lxc")],
    route: (s) => (s.method === "GET" && s.path.endsWith("/snapshot") ? SNAPS : undefined),
  });
}
const parse = (a: Record<string, unknown>) => snapshot.input.parse({ vmid: 100, ...a });

Deno.test("snapshot: list follows the parent chain, marks RAM, leaves notes out unless asked (then cleaned)", async () => {
  const { ctx } = setup();
  const out = await snapshot.handler(parse({}), ctx);
  assertEquals(out.snapshots?.map((s) => s.name), ["before", "after"]);
  assertEquals(out.current_parent, "after");
  assertEquals(out.snapshots?.[1]?.ram, true);
  assert(out.snapshots?.every((s) => s.description === undefined), "notes listed without include_notes");
  const withNotes = cleanDeep(await snapshot.handler(parse({ include_notes: true }), ctx)); // as the pipeline does
  assertEquals(withNotes.snapshots?.[1]?.description, { untrusted: true, text: "postupgrade" });
  assertEquals(orderSnapshots([{ name: "b", parent: "a" }, { name: "a" }]).map((s) => s.name), ["a", "b"]);
});

Deno.test("snapshot: create (with RAM for VMs), rollback and delete hit the right endpoints", async () => {
  const { ctx, sent } = setup();
  await snapshot.handler(parse({ action: "create", name: "pre_patch", vmstate: true, description: "x" }), ctx);
  let w = sent.filter((s) => s.method !== "GET");
  assertEquals(w[0], {
    method: "POST",
    path: "/nodes/pve1/qemu/100/snapshot",
    params: { snapname: "pre_patch", description: "x", vmstate: "1" },
  });
  sent.length = 0;
  await snapshot.handler(parse({ action: "rollback", name: "before", start: true }), ctx);
  w = sent.filter((s) => s.method !== "GET");
  assertEquals(w[0], { method: "POST", path: "/nodes/pve1/qemu/100/snapshot/before/rollback", params: { start: "1" } });
  sent.length = 0;
  await snapshot.handler(parse({ action: "delete", name: "after" }), ctx);
  w = sent.filter((s) => s.method !== "GET");
  assertEquals(w[0], { method: "DELETE", path: "/nodes/pve1/qemu/100/snapshot/after", params: {} });
  const ram = await errorOf(() =>
    snapshot.handler(snapshot.input.parse({ vmid: 200, action: "create", name: "x", vmstate: true }), ctx)
  );
  assert(ram.includes("VMs only"), ram);
  const missing = await errorOf(() => snapshot.handler(parse({ action: "rollback", name: "nope" }), ctx));
  assert(missing.includes('no snapshot "nope" (has: after, before)'), missing);
});

Deno.test("snapshot: classes and the rollback plan", async () => {
  assertEquals(classifySnapshot({ action: "list" }), "read");
  assertEquals(classifySnapshot({ action: "create" }), "write");
  assertEquals(classifySnapshot({ action: "rollback" }), "destructive");
  assertEquals(classifySnapshot({ action: "delete" }), "destructive");
  assert(!snapshot.input.safeParse({ vmid: 100, action: "create", name: "current" }).success, "current is reserved");
  const { ctx } = setup();
  const plan = await snapshot.plan!(parse({ action: "rollback", name: "before" }), ctx);
  assertEquals(plan.current, "running, 2 snapshots");
  assert(
    plan.effect.includes("every change since is lost") && plan.effect.includes("2023-11-14T22:13:20Z"),
    plan.effect,
  );
});

Deno.test("snapshot: the plan of a create (dry run) does not need the snapshot to exist", async () => {
  const { ctx } = setup();
  const plan = await snapshot.plan!(parse({ action: "create", name: "new_one", vmstate: true }), ctx);
  assert(plan.effect.includes("and RAM") && plan.action.includes("new_one"), JSON.stringify(plan));
});
