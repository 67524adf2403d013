/**
 * Resources and prompts through a real MCP client.
 */
import { assert, assertEquals, startStack } from "./harness.ts";

Deno.test("e2e: pve:// resources and prompts", async (t) => {
  const stack = await startStack({ simOptions: { nodes: 2, guests: 12, seed: 3 } });
  const { client, sim } = stack;
  try {
    await t.step("inventory resource lists every guest with one upstream request", async () => {
      const { resources } = await client.listResources();
      assert(resources.some((r) => r.uri === "pve://inventory"), "inventory listed");
      const before = sim.requests.length;
      const res = await client.readResource({ uri: "pve://inventory" });
      const body = JSON.parse((res.contents[0] as { text: string }).text) as { total: number; rows: unknown[][] };
      assertEquals(body.total, 12, "guests in inventory");
      assertEquals(sim.requests.slice(before).length, 1, "upstream requests");
    });

    await t.step("guest config resource by vmid, and a clear error for a missing guest", async () => {
      const { resourceTemplates } = await client.listResourceTemplates();
      assert(resourceTemplates.some((r) => r.uriTemplate === "pve://guests/{vmid}/config"), "template listed");
      const inv = JSON.parse(
        ((await client.readResource({ uri: "pve://inventory" })).contents[0] as { text: string }).text,
      ) as { rows: unknown[][] };
      const vmid = inv.rows[0]![0];
      const res = await client.readResource({ uri: `pve://guests/${vmid}/config` });
      const body = JSON.parse((res.contents[0] as { text: string }).text) as { vmid: number; config: object };
      assertEquals(body.vmid, vmid, "vmid");
      assert(Object.keys(body.config).length > 0, "config keys");
      let failed = "";
      try {
        await client.readResource({ uri: "pve://guests/999999/config" });
      } catch (e) {
        failed = (e as Error).message;
      }
      assert(/999999/.test(failed), `missing guest must fail clearly, got: ${failed}`);
    });

    await t.step("prompts: health check, capacity review, safe change plan", async () => {
      const { prompts } = await client.listPrompts();
      assertEquals(
        prompts.map((p) => p.name).sort(),
        ["capacity_review", "health_check", "safe_change_plan"],
        "prompts",
      );
      const plan = await client.getPrompt({ name: "safe_change_plan", arguments: { change: "grow disk of VM 101" } });
      const text = (plan.messages[0]!.content as { text: string }).text;
      assert(text.includes("grow disk of VM 101") && text.includes("dry_run"), text);
    });
  } finally {
    await stack.close();
  }
});
