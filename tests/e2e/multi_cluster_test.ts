/**
 * Several clusters from one JSON config file: every tool gains a `cluster` argument, calls reach the named cluster
 * (default: `defaultCluster`), and each cluster keeps its own credential (token on one, password login on the other).
 * With one cluster there is no `cluster` argument.
 */
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { startSimulator } from "../../src/sim/mod.ts";
import { assert, assertEquals, baseEnv, call, ROOT, startStack } from "./harness.ts";

Deno.test("e2e multi-cluster: a cluster argument routes calls to the configured clusters", async (t) => {
  const a = await startSimulator({ nodes: 2, guests: 12, seed: 1 });
  const b = await startSimulator({ nodes: 1, guests: 5, seed: 2 });
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-e2e-multi-" });
  let client: Client | undefined;
  try {
    await Deno.writeTextFile(`${dir}/a.pem`, a.caCertPem);
    await Deno.writeTextFile(`${dir}/b.pem`, b.caCertPem);
    const config = {
      clusters: {
        a: {
          host: "127.0.0.1",
          port: a.port,
          caFile: `${dir}/a.pem`,
          tokenId: a.tokens.admin!.tokenId,
          tokenSecret: a.tokens.admin!.secret,
        },
        b: {
          host: "127.0.0.1",
          port: b.port,
          caFile: `${dir}/b.pem`,
          user: b.user.username,
          password: b.user.password,
        },
      },
      defaultCluster: "a",
      policy: { mode: "admin", toolsets: ["guests", "raw"] },
    };
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
    await Deno.chmod(`${dir}/config.json`, 0o600);
    const transport = new StdioClientTransport({
      command: Deno.execPath(),
      args: ["run", "-A", "--quiet", `${ROOT}src/main.ts`, "serve"],
      env: { ...baseEnv(), PROXMOX_MCP_CONFIG: `${dir}/config.json` },
      cwd: dir,
      stderr: "pipe",
    });
    client = new Client({ name: "e2e-multi", version: "1.0.0" });
    await client.connect(transport);

    await t.step("every tool offers the configured clusters", async () => {
      const { tools } = await client!.listTools();
      assert(tools.length > 0, "no tools");
      for (const tool of tools) {
        const prop = (tool.inputSchema.properties ?? {})["cluster"] as { enum?: string[] } | undefined;
        assertEquals(prop?.enum, ["a", "b"], `${tool.name}: cluster argument`);
        assert(!(tool.inputSchema.required ?? []).includes("cluster"), `${tool.name}: cluster is required`);
      }
    });

    await t.step("calls go to the default cluster or the named one", async () => {
      a.clearRequests();
      b.clearRequests();
      let res = await call(client!, "guest_list", {});
      assertEquals(res.structuredContent?.total, a.state.guests.size, "default cluster guests");
      assert(a.requests.length > 0 && b.requests.length === 0, "the default call reached cluster b");
      a.clearRequests();
      res = await call(client!, "guest_list", { cluster: "b" });
      assertEquals(res.structuredContent?.total, b.state.guests.size, "cluster b guests");
      assert(b.requests.length > 0 && a.requests.length === 0, "the call for b reached cluster a");
      const api = b.requests.filter((r) => r.path !== "/access/ticket");
      assert(api.length > 0 && api.every((r) => r.authKind === "ticket"), "cluster b did not use its password login");
      const bad = await client!.callTool({ name: "guest_list", arguments: { cluster: "c" } })
        .then((r) => r as { isError?: boolean }, () => ({ isError: true }));
      assert(bad.isError, "an unknown cluster was accepted");
    });

    await t.step("each cluster's own credential decides token-only refusals", async () => {
      const args = {
        method: "PUT",
        path: "/access/password",
        params: { userid: "auditor@pve", password: "correct horse battery" },
        dry_run: true,
      };
      const onA = await call(client!, "pve_api", args);
      assert(onA.isError && onA.content[0]!.text.includes("refuses API tokens"), onA.content[0]?.text ?? "");
      const onB = await call(client!, "pve_api", { ...args, cluster: "b" });
      assert(!onB.isError, onB.content[0]?.text ?? "");
      const plan = JSON.stringify(onB.structuredContent?.dry_run);
      assert(plan.includes("password=(hidden)") && !plan.includes("correct horse"), plan);
    });

    await t.step("with one cluster there is no cluster argument", async () => {
      const single = await startStack({ sim: b, mode: "read-only" });
      try {
        const { tools } = await single.client.listTools();
        assert(tools.length > 0, "no tools");
        for (const tool of tools) {
          assert(!("cluster" in (tool.inputSchema.properties ?? {})), `${tool.name} has a cluster argument`);
        }
      } finally {
        await single.close();
      }
    });
  } finally {
    await client?.close();
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
