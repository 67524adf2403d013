/**
 * The secret store end to end: a created PVE token's secret is stored (never returned), the model can list names
 * only, and `secret://NAME` references are resolved inside the server.
 */
import { toBase64 } from "../../src/crypto/encoding.ts";
import { assert, assertEquals, call, startStack } from "./harness.ts";

Deno.test("e2e: token secrets go to the secret store; secret:// references resolve in the server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-secrets-" });
  const stack = await startStack({
    mode: "admin",
    env: {
      PROXMOX_MCP_TOOLSETS: "guests,access",
      PROXMOX_MCP_SECRETS_FILE: `${dir}/secrets.json`,
      PROXMOX_MCP_MASTER_KEY: toBase64(crypto.getRandomValues(new Uint8Array(32))),
      PROXMOX_MCP_CONFIRM_WITHOUT_ELICITATION: "allow",
    },
    simOptions: { nodes: 1, guests: 4, seed: 2 },
  });
  try {
    const before = stack.sim.requests.length;
    const made = await call(stack.client, "access_token", { action: "create", userid: "root@pam", tokenid: "ci" });
    assert(!made.isError, made.content[0]!.text);
    const out = made.structuredContent as { secret_ref: string };
    assertEquals(out.secret_ref, "secret://pve-token.root.pam.ci", "reference returned instead of the secret");
    // The simulator answered with the real secret; it must appear nowhere the model can see.
    const created = stack.sim.requests.slice(before).find((r) => r.method === "POST" && r.path.endsWith("/token/ci"));
    assert(created, "token was created upstream");
    const listed = await call(stack.client, "access_info", { view: "secrets" });
    const rows = (listed.structuredContent as { rows: unknown[][] }).rows;
    assert(rows.some((r) => r[0] === "pve-token.root.pam.ci"), `store lists the name: ${JSON.stringify(rows)}`);
    for (const text of [JSON.stringify(made), JSON.stringify(listed)]) {
      assert(!/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.test(text), "a UUID-like secret leaked");
    }

    // A secret:// reference in a tool argument is resolved by the server: the guest gets the stored value.
    const vm = [...stack.sim.state.guests.values()].find((g) => g.type === "qemu")!;
    const res = await call(stack.client, "guest_config", {
      vmid: vm.vmid,
      cipassword: "secret://pve-token.root.pam.ci",
    });
    assert(!res.isError, res.content[0]!.text);
    const sent = stack.sim.requests.filter((r) => r.path.endsWith(`/qemu/${vm.vmid}/config`) && r.method !== "GET")
      .at(-1);
    const value = String(sent?.params.cipassword ?? "");
    assert(value.length > 0 && !value.startsWith("secret://"), "the server sent the resolved value upstream");
    assert(!JSON.stringify(res).includes(value), "the resolved value is not in the tool result");
    const missing = await call(stack.client, "guest_config", { vmid: vm.vmid, cipassword: "secret://nope" });
    assert(missing.isError && /nope/.test(missing.content[0]!.text), missing.content[0]!.text);
  } finally {
    await stack.close();
    await Deno.remove(dir, { recursive: true });
  }
});
