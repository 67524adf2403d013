/**
 * The policy decides on effects alone: each rule of the fence (selectors, protection, fail-closed) on hand-made
 * effects, with a guest lookup that knows some guests, hides one and fails for another.
 */
import { type Effect, effect, type GuestRef, type PolicyContext } from "../../src/core/mod.ts";
import { createPolicy } from "../../src/policy/policy.ts";
import { type GuestSelector } from "../../src/policy/guest_selector.ts";
import { PveError } from "../../src/pve/types.ts";
import { assert, assertEquals } from "../assert.ts";

const EMPTY: GuestSelector = { vmids: [], pools: [], tags: [], nodes: [] };
const GUESTS: GuestRef[] = [
  { vmid: 100, type: "qemu", node: "pve1", name: "a", status: "running", template: false, pool: "prod", tags: [] },
  { vmid: 101, type: "qemu", node: "pve2", name: "b", status: "running", template: false, tags: ["lab"] },
];
const HIDDEN = 104;
const BROKEN = 105;

const ctx: PolicyContext = {
  principal: { id: "t", transport: "stdio" },
  signal: new AbortController().signal,
  cluster: {
    name: "default",
    guests: {
      resolve(vmid) {
        const g = GUESTS.find((x) => x.vmid === vmid);
        if (g) return Promise.resolve(g);
        if (vmid === HIDDEN) return Promise.reject(new PveError("not_visible", "hidden"));
        if (vmid === BROKEN) return Promise.reject(new PveError("connection", "connection reset"));
        return Promise.reject(new PveError("not_found", "absent"));
      },
    },
  },
};

function check(fence: { guests?: Partial<GuestSelector>; protected?: Partial<GuestSelector> }, eff: Effect) {
  return createPolicy({
    mode: "admin",
    guests: { ...EMPTY, ...fence.guests },
    protected: { ...EMPTY, ...fence.protected },
  }).check("probe", eff, ctx);
}

/** Asserts that a check refuses with a reason containing `text`. */
async function has(reason: Promise<string | undefined>, text: string): Promise<void> {
  const r = await reason;
  assert(r?.includes(text), `expected a refusal with "${text}", got ${r}`);
}

const write = (spec: Omit<Parameters<typeof effect>[0], "cls">) => effect({ cls: "write", ...spec });
const PROTECT_PROD = { protected: { pools: ["prod"] } };

Deno.test("effect policy: without a fence only the mode and refusals decide", async () => {
  assertEquals(
    await check({}, write({ guests: [{ vmid: HIDDEN, role: "target" }], mass: "all", undetermined: "x" })),
    undefined,
  );
  await has(check({}, write({ refuse: "never" })), "never");
  const readOnly = createPolicy({ mode: "read-only", guests: EMPTY, protected: EMPTY });
  await has(readOnly.check("probe", write({}), ctx), "needs mode operator");
});

Deno.test("effect policy: fenced, mass and undetermined changes are refused; reads are not", async () => {
  await has(check(PROTECT_PROD, write({ mass: "every guest of pve1" })), "many guests at once");
  await has(check(PROTECT_PROD, write({ undetermined: "no vmid" })), "cannot all be determined");
  assertEquals(await check(PROTECT_PROD, effect({ cls: "read", mass: "all", undetermined: "x" })), undefined);
});

Deno.test("effect policy: a guest the token cannot see, or cannot look up, counts as protected", async () => {
  for (const role of ["target", "source", "volume", "member", "new"] as const) {
    const hidden = await check(PROTECT_PROD, write({ guests: [{ vmid: HIDDEN, role }] }));
    assert(hidden?.includes("read token cannot see it") && hidden.includes("treated as protected"), String(hidden));
  }
  await has(check(PROTECT_PROD, write({ guests: [{ vmid: BROKEN, role: "target" }] })), "could not be looked up");
});

Deno.test("effect policy: every role of a protected or unselected guest is refused", async () => {
  for (const role of ["target", "source", "volume", "member"] as const) {
    await has(check(PROTECT_PROD, write({ guests: [{ vmid: 100, role }] })), "guest 100 is protected");
    const out = await check({ guests: { tags: ["lab"] } }, write({ guests: [{ vmid: 100, role }] }));
    assert(out?.includes("guest 100 is outside"), String(out));
    assertEquals(await check({ guests: { tags: ["lab"] } }, write({ guests: [{ vmid: 101, role }] })), undefined);
  }
});

Deno.test("effect policy: new vmids, target nodes and pools are fenced", async () => {
  const create = (vmid: number, node: string, pools: string[] = []) =>
    write({ guests: [{ vmid, role: "new" }], nodes: [node], pools });
  await has(check({ protected: { vmids: ["900-999"] } }, create(950, "pve1")), "guest 950 is protected");
  assertEquals(await check({ protected: { vmids: ["900-999"] } }, create(500, "pve1")), undefined);
  // A new guest is matched by vmid, node and pool; a selector's node list bounds every node a call names.
  const sel = { guests: { vmids: ["100-199"], nodes: ["pve1"] } };
  await has(check(sel, create(150, "pve2")), 'node "pve2" is outside');
  assertEquals(await check(sel, create(150, "pve1")), undefined);
  assertEquals(await check(sel, create(250, "pve1")), undefined, "selected by its node");
  await has(check({ guests: { pools: ["lab"] } }, create(250, "pve1")), "guest 250 is outside");
  assertEquals(await check({ guests: { pools: ["lab"] } }, create(250, "pve1", ["lab"])), undefined);
  // Migration to a node outside the selector, and any move into or out of a protected pool.
  const migrate = write({ guests: [{ vmid: 101, role: "target" }], nodes: ["pve3"] });
  await has(check({ guests: { vmids: ["100-199"], nodes: ["pve1", "pve2"] } }, migrate), "pve3");
  const into = write({ guests: [{ vmid: 101, role: "member" }], pools: ["prod"] });
  await has(check(PROTECT_PROD, into), 'pool "prod" is protected');
  const outOf = write({ guests: [{ vmid: 100, role: "member" }], pools: ["dev"] });
  await has(check(PROTECT_PROD, outOf), "guest 100 is protected");
});
