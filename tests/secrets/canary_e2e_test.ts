/**
 * No secret value reaches stdout, stderr (logs) or any tool result: the real server as a stdio subprocess with
 * sealed credentials, driven by a real MCP client, against the simulator whose token secret is the canary.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { call, startStack } from "../e2e/harness.ts";
import { formatKeyFile, generateKeyBytes, MasterKey } from "../../src/crypto/keys.ts";
import { sealValue } from "../../src/crypto/sealed.ts";

const CANARY = "CANARY-e2e-5a1f-2b7c-9d3e-000000000001";
const ADMIN_CANARY = "CANARY-e2e-admin-token-6c2d";

Deno.test("canary: sealed secrets never appear in protocol output, logs or tool results", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-canary-" });
  const raw = generateKeyBytes();
  const keyFile = join(dir, "master.key");
  await Deno.writeTextFile(keyFile, await formatKeyFile(raw, new Date()), { mode: 0o600 });
  const key = await MasterKey.fromBytes(raw, { source: keyFile });
  const stack = await startStack({
    simOptions: {
      tokens: {
        auditor: {
          tokenId: "mcp@pve!auditor",
          secret: CANARY,
          privs: ["VM.Audit", "Sys.Audit", "Datastore.Audit", "Pool.Audit", "Sys.Syslog"],
        },
      },
    },
    token: "auditor",
    env: {
      PROXMOX_TOKEN_SECRET: await sealValue(key, CANARY, "PROXMOX_TOKEN_SECRET"),
      PROXMOX_MCP_ADMIN_TOKEN: await sealValue(key, ADMIN_CANARY, "PROXMOX_MCP_ADMIN_TOKEN"),
      PROXMOX_MCP_MASTER_KEY_FILE: keyFile,
    },
  });
  const seen: string[] = [];
  try {
    const { tools } = await stack.client.listTools();
    seen.push(JSON.stringify(tools));
    let ok = 0;
    for (const tool of tools) {
      const required = (tool.inputSchema as { required?: string[] }).required ?? [];
      if (required.length > 0 || tool.annotations?.readOnlyHint !== true) continue;
      const result = await call(stack.client, tool.name, {});
      seen.push(JSON.stringify(result));
      if (!result.isError) ok++;
    }
    assert.ok(ok > 0, "the sealed token opened: read tools succeeded");
    const bad = await call(stack.client, tools[0]!.name, { no_such_argument: CANARY.slice(0, 6) });
    seen.push(JSON.stringify(bad));
  } finally {
    await stack.close();
    await Deno.remove(dir, { recursive: true });
  }
  seen.push(stack.stderr());
  const all = seen.join("\n");
  for (const secret of [CANARY, ADMIN_CANARY]) assert.ok(!all.includes(secret), `leaked ${secret}`);
  assert.ok(stack.stderr().length > 0, "logs were captured");
});
