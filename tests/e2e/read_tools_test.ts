/**
 * The first tools end to end: real MCP client ↔ server (stdio subprocess) ↔ simulator (HTTPS, token auth).
 */
import { assert, assertEquals, call, startStack } from "./harness.ts";

Deno.test("e2e: read-only tools through a real MCP client against the simulator", async (t) => {
  const stack = await startStack({ mode: "read-only", simOptions: { nodes: 3, guests: 30, seed: 7 } });
  const { client, sim } = stack;
  try {
    await t.step("tools/list offers only read-only tools in read-only mode", async () => {
      const { tools } = await client.listTools();
      assert(tools.length >= 6, `expected at least 6 tools, got ${tools.length}`);
      for (const tool of tools) {
        assert(
          tool.annotations?.readOnlyHint === true,
          `${tool.name} is listed in read-only mode but is not read-only`,
        );
        assert(tool.annotations?.destructiveHint === false, `${tool.name}: destructiveHint must be explicit`);
      }
    });

    await t.step("cluster_overview reports nodes, quorum and guest counts", async () => {
      const res = await call(client, "cluster_overview");
      assert(!res.isError, res.content[0]?.text ?? "");
      const out = res.structuredContent as { nodes: { name: string }[]; guests: { qemu: number; lxc: number } };
      assertEquals(out.nodes.length, 3, "node count");
      assertEquals(out.guests.qemu + out.guests.lxc, 30, "guest count");
    });

    let running = 0;
    await t.step("guest_list: one upstream request, filters and pagination", async () => {
      const before = sim.requests.length;
      const all = await call(client, "guest_list", { limit: 5000 });
      const out = all.structuredContent as { total: number; rows: unknown[][]; columns: string[] };
      assertEquals(out.total, 30, "total");
      assertEquals(out.rows.length, 30, "rows");
      const upstream = sim.requests.slice(before).filter((r) => r.path.startsWith("/cluster/resources"));
      assertEquals(upstream.length, 1, "one /cluster/resources request");
      const statusCol = out.columns.indexOf("status");
      running = out.rows.filter((r) => r[statusCol] === "running").length;
      const filtered = await call(client, "guest_list", { status: "running" });
      assertEquals((filtered.structuredContent as { total: number }).total, running, "status filter");
      const page1 = await call(client, "guest_list", { limit: 10 });
      const p1 = page1.structuredContent as { rows: unknown[][]; next_cursor?: string };
      assertEquals(p1.rows.length, 10, "page size");
      assert(p1.next_cursor, "first page has a cursor");
      const page2 = await call(client, "guest_list", { limit: 10, cursor: p1.next_cursor });
      const p2 = page2.structuredContent as { rows: unknown[][] };
      assert(p2.rows[0]?.[0] !== p1.rows[0]?.[0], "second page starts elsewhere");
    });

    await t.step("guest_info resolves the node from the vmid alone (status and config, qemu and lxc)", async () => {
      const list = (await call(client, "guest_list", { limit: 5000 })).structuredContent as { rows: unknown[][] };
      const qemu = list.rows.find((r) => r[2] === "qemu")!;
      const lxc = list.rows.find((r) => r[2] === "lxc")!;
      for (const row of [qemu, lxc]) {
        const status = await call(client, "guest_info", { vmid: row[0] });
        assert(!status.isError, status.content[0]?.text ?? "");
        const s = status.structuredContent as { node: string; status: { status: string } };
        assertEquals(s.node, row[3], "resolved node");
        const config = await call(client, "guest_info", { vmid: row[0], view: "config" });
        assert(!config.isError, config.content[0]?.text ?? "");
        assert((config.structuredContent as { config: Record<string, unknown> }).config, "config returned");
      }
    });

    await t.step("guest_info on a missing vmid is a clear tool error", async () => {
      const res = await call(client, "guest_info", { vmid: 999_999 });
      assert(res.isError, "expected a tool error");
      assert(/999999 does not exist/.test(res.content[0]!.text), res.content[0]!.text);
    });

    await t.step("invalid arguments are rejected before anything is sent", async () => {
      const before = sim.requests.length;
      const res = await call(client, "guest_info", { vmid: 5 });
      assert(res.isError, "vmid 5 must be rejected");
      assert(/vmid/.test(res.content[0]!.text), res.content[0]!.text);
      assertEquals(sim.requests.length, before, "no upstream request for invalid input");
    });

    // node_info, storage_info and task_info answer compact tables ({columns, rows}), info objects or log lines.
    const column = (out: unknown, name: string): unknown[] => {
      const t = out as { columns: string[]; rows: unknown[][] };
      return t.rows.map((r) => r[t.columns.indexOf(name)]);
    };

    await t.step("node_info lists nodes and shows one node", async () => {
      const list = await call(client, "node_info");
      const nodes = column(list.structuredContent, "node") as string[];
      assertEquals(nodes.length, 3, "nodes");
      const one = await call(client, "node_info", { node: nodes[0]! });
      assert(!one.isError && (one.structuredContent as { info: unknown }).info, one.content[0]?.text ?? "");
    });

    await t.step("storage_info lists storages and content", async () => {
      const node = (column((await call(client, "node_info")).structuredContent, "node") as string[])[0]!;
      const list = (await call(client, "storage_info", { node })).structuredContent;
      const ids = column(list, "storage") as string[];
      assert(ids.length > 0, "storages");
      const iso = ids[(column(list, "content") as string[]).findIndex((c) => c.includes("iso"))]!;
      const content = await call(client, "storage_info", { node, storage: iso, content: "iso" });
      assert(!content.isError, content.content[0]?.text ?? "");
      assert(column(content.structuredContent, "volid").length > 0, "iso volumes");
    });

    await t.step("task_info lists tasks and reads status and log of one", async () => {
      const node = (column((await call(client, "node_info")).structuredContent, "node") as string[])[0]!;
      const list = await call(client, "task_info", { action: "list", node });
      const upids = column(list.structuredContent, "upid") as string[];
      assert(upids.length > 0, "seeded tasks");
      const status = await call(client, "task_info", { action: "status", upid: upids[0]! });
      assert(!status.isError, status.content[0]?.text ?? "");
      const log = await call(client, "task_info", { action: "log", upid: upids[0]! });
      const l = (log.structuredContent as { log: { untrusted: boolean; lines: string[] } }).log;
      assert(l.untrusted === true && l.lines.length > 0, "log lines labelled untrusted");
    });

    await t.step("read-only tools only issue GET requests", () => {
      const nonGet = sim.requests.filter((r) => r.method !== "GET");
      assertEquals(nonGet.map((r) => `${r.method} ${r.path}`), [], "non-GET requests");
    });
  } finally {
    await stack.close();
  }
});

Deno.test("e2e: a wrong token gives a clear tool error, not a crash", async () => {
  const stack = await startStack({ env: { PROXMOX_TOKEN_SECRET: "00000000-0000-0000-0000-000000000000" } });
  try {
    const res = await call(stack.client, "cluster_overview");
    assert(res.isError, "expected a tool error");
    assert(/token|auth/i.test(res.content[0]!.text), res.content[0]!.text);
    assert(!res.content[0]!.text.includes("00000000-0000"), "secret echoed in the error");
    const again = await call(stack.client, "node_info");
    assert(again.isError, "server still answers after an auth failure");
  } finally {
    await stack.close();
  }
});
