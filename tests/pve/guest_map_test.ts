/**
 * Finding guests when calls come seconds apart: the vmid → node map answers reads with one request per call, is
 * corrected when PVE contradicts it, paging reuses one listing snapshot, and changes are checked on fresh data.
 * Real stack (config → buildApp → McpServer → MCP client) against the simulator, with a fake clock in the resolver;
 * assertions count the simulator's requests and read its state, never timings.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { GuestResolver } from "../../src/pve/guests.ts";
import { startSimulator } from "../../src/sim/mod.ts";
import type { App } from "../../src/server/app.ts";
import { parseCursor } from "../../src/tools/paging.ts";
import { startInProcessStack } from "../fuzz/stack.ts";

interface Result {
  isError?: boolean;
  content: { text: string }[];
  structuredContent?: Record<string, unknown>;
}

/** Gives the default cluster a resolver on a fake clock; returns the clock's hand. */
function fakeClock(app: App): { advance(ms: number): void } {
  let t = 1_000_000;
  const c = app.clusters.get(app.defaultCluster)!;
  app.clusters.set(app.defaultCluster, { ...c, guests: new GuestResolver(c.read, 3000, () => t) });
  return { advance: (ms) => void (t += ms) };
}

async function stack(env: Record<string, string> = {}) {
  const sim = await startSimulator({ nodes: 3, guests: 120, seed: 7 });
  let clock!: { advance(ms: number): void };
  const s = await startInProcessStack({ sim, env, tweak: (app) => void (clock = fakeClock(app)) });
  const call = async (name: string, args: Record<string, unknown>) => {
    sim.clearRequests();
    const r = await s.client.callTool({ name, arguments: args }) as Result;
    return { r, requests: sim.requests.map((q) => `${q.method} ${q.path}`) };
  };
  const close = async () => {
    await s.close();
    await sim.close();
  };
  return { sim, clock, call, close };
}

const LISTING = "GET /cluster/resources";

Deno.test("guest_info seconds apart costs one request per call once the map knows the guest", async () => {
  const s = await stack();
  try {
    const [a, b] = [...s.sim.state.guests.values()].filter((g) => !g.template);
    const first = await s.call("guest_info", { vmid: a!.vmid });
    deepStrictEqual(first.requests, [LISTING, `GET /nodes/${a!.node}/${a!.type}/${a!.vmid}/status/current`]);
    for (const g of [a!, b!, a!]) {
      s.clock.advance(4_000); // past the listing's 3 s freshness: the old code fetched the whole listing again
      const { r, requests } = await s.call("guest_info", { vmid: g.vmid });
      ok(!r.isError, r.content[0]?.text);
      deepStrictEqual(requests, [`GET /nodes/${g.node}/${g.type}/${g.vmid}/status/current`]);
    }
  } finally {
    await s.close();
  }
});

Deno.test("a guest moved behind the map's back is found again (one listing), then costs one request again", async () => {
  const s = await stack();
  try {
    const g = [...s.sim.state.guests.values()].find((x) => !x.template)!;
    await s.call("guest_list", {});
    const from = g.node;
    const to = [...s.sim.state.nodes.keys()].find((n) => n !== from)!;
    g.node = to; // migrated by someone else
    s.sim.state.touch();
    s.clock.advance(10_000);
    const moved = await s.call("guest_info", { vmid: g.vmid });
    ok(!moved.r.isError, moved.r.content[0]?.text);
    equal(moved.r.structuredContent?.node, to);
    deepStrictEqual(moved.requests, [
      `GET /nodes/${from}/${g.type}/${g.vmid}/status/current`,
      LISTING,
      `GET /nodes/${to}/${g.type}/${g.vmid}/status/current`,
    ]);
    s.clock.advance(10_000);
    deepStrictEqual((await s.call("guest_info", { vmid: g.vmid })).requests, [
      `GET /nodes/${to}/${g.type}/${g.vmid}/status/current`,
    ]);
  } finally {
    await s.close();
  }
});

Deno.test("a guest deleted behind the map's back is reported missing, not answered from the map", async () => {
  const s = await stack();
  try {
    const g = [...s.sim.state.guests.values()].find((x) => !x.template)!;
    await s.call("guest_list", {});
    s.sim.state.deleteGuest(g.vmid);
    s.clock.advance(10_000);
    const { r, requests } = await s.call("guest_info", { vmid: g.vmid });
    ok(r.isError);
    match(r.content[0]!.text, new RegExp(`Guest ${g.vmid} does not exist`));
    deepStrictEqual(requests, [
      `GET /nodes/${g.node}/${g.type}/${g.vmid}/status/current`,
      LISTING,
      "GET /cluster/nextid",
    ]);
  } finally {
    await s.close();
  }
});

Deno.test("paging guest_list fetches the listing once per cursor chain; a change starts a new one", async () => {
  const s = await stack({ PROXMOX_MCP_MODE: "operator" });
  try {
    const seen: number[] = [];
    let cursor: string | undefined;
    let listings = 0;
    do {
      s.clock.advance(20_000);
      const { r, requests } = await s.call("guest_list", { limit: 25, ...(cursor ? { cursor } : {}) });
      ok(!r.isError, r.content[0]?.text);
      listings += requests.filter((q) => q === LISTING).length;
      for (const row of r.structuredContent!.rows as [number][]) seen.push(row[0]);
      cursor = r.structuredContent!.next_cursor as string | undefined;
    } while (cursor);
    equal(listings, 1);
    equal(seen.length, s.sim.state.guests.size);
    deepStrictEqual(seen, [...s.sim.state.guests.keys()].sort((a, b) => a - b));

    const first = await s.call("guest_list", { limit: 25 });
    const next = first.r.structuredContent!.next_cursor as string;
    ok(parseCursor(next).snapshot, next);
    const g = [...s.sim.state.guests.values()].find((x) => !x.template && x.status === "stopped")!;
    const start = await s.call("guest_power", { vmid: g.vmid, action: "start" });
    ok(!start.r.isError, start.r.content[0]?.text);
    const after = await s.call("guest_list", { limit: 25, cursor: next });
    ok(!after.r.isError, after.r.content[0]?.text);
    deepStrictEqual(after.requests, [LISTING]); // the change dropped the snapshot
  } finally {
    await s.close();
  }
});

Deno.test("a change is checked against a fresh listing, never the map: a tag protected since is refused", async () => {
  const s = await stack({ PROXMOX_MCP_MODE: "operator", PROXMOX_MCP_PROTECTED_TAGS: "prod" });
  try {
    const g = [...s.sim.state.guests.values()].find((x) => !x.template && x.status === "stopped" && !x.tags.length)!;
    const before = await s.call("guest_info", { vmid: g.vmid }); // fills the map without the tag
    ok(!before.r.isError);
    g.tags.push("prod"); // tagged by a human since
    s.sim.state.touch();
    s.clock.advance(4_000);
    const { r, requests } = await s.call("guest_power", { vmid: g.vmid, action: "start" });
    ok(r.isError);
    match(r.content[0]!.text, /protected/);
    deepStrictEqual(requests, [LISTING]);
    equal(s.sim.state.guests.get(g.vmid)!.status, "stopped");
  } finally {
    await s.close();
  }
});

Deno.test("cursors: a bad snapshot or offset is a clear input error; an unknown snapshot refetches", async () => {
  const s = await stack();
  try {
    for (const bad of ["o25.XYZ", "o25.", "25", "o-1"]) {
      const { r, requests } = await s.call("guest_list", { cursor: bad });
      ok(r.isError, bad);
      match(r.content[0]!.text, /Invalid cursor/);
      deepStrictEqual(requests, []);
    }
    const { r, requests } = await s.call("guest_list", { limit: 25, cursor: "o25.0123abcd" });
    ok(!r.isError, r.content[0]?.text);
    deepStrictEqual(requests, [LISTING]);
    equal((r.structuredContent!.rows as [number][])[0]![0], [...s.sim.state.guests.keys()].sort((a, b) => a - b)[25]);
  } finally {
    await s.close();
  }
});
