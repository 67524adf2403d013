import { ok as assert } from "node:assert/strict";
import { type Principal } from "../../src/core/mod.ts";
import { createAuditLog } from "../../src/audit/log.ts";
import { entry, KEY, tempLogDir } from "./helpers.ts";

const CANARY = "CANARY-7f3e9a1c-d2b4-4e8f-9a6b-5c1d0e2f3a4b";

Deno.test("audit canary: no secret value reaches any record", async () => {
  const t = await tempLogDir();
  try {
    const log = await createAuditLog({ path: t.dir, key: KEY });
    const principal: Principal = { id: "dev", transport: "http" };
    const secretArgs: Record<string, unknown>[] = [
      { password: CANARY },
      { cipassword: CANARY },
      // Public keys are kept (docs/audit.md); a private key pasted into the field is not.
      { sshkeys: `-----BEGIN OPENSSH PRIVATE KEY-----\n${CANARY}\n-----END OPENSSH PRIVATE KEY-----` },
      { method: "POST", path: "/storage", params: { keyring: `[client.admin]\nkey = ${CANARY}` } },
      { method: "PUT", path: "/cluster/acme/plugins/cf", params: { data: CANARY } },
      { method: "POST", path: "/cluster/notifications/endpoints/webhook", params: { header: [`value=${CANARY}`] } },
      { argv: ["sh"], input: CANARY },
      { tokenSecret: CANARY },
      { token: CANARY },
      { key: CANARY },
      { config: { nested: { password: CANARY } } },
      { list: [{ apiKey: CANARY }] },
      { note: `header PVEAPIToken=root@pam!ci=${CANARY}` },
      { note: `Authorization: Bearer ${CANARY}` },
      { note: `-----BEGIN RSA PRIVATE KEY-----\n${CANARY}\n-----END RSA PRIVATE KEY-----` },
      { content: CANARY, path: "/etc/shadow" },
      { value: `enc:v1:${CANARY}` },
      { dev: `pvemcp_${CANARY}` },
    ];
    for (const args of secretArgs) {
      await log.write(entry({ tool: "guest_agent_file_write", arguments: args }));
      await log.write({ principal, tool: "guest_agent", cluster: "c", class: "write", args, phase: "intent" });
    }
    await log.write(entry({ phase: "auth", decision: "denied", reason: `bad token Bearer ${CANARY}` }));
    await log.write(entry({ reason: `PVEAPIToken=a@b!c=${CANARY}`, arguments: { password: "secret://root-pw" } }));
    await log.close();
    const text = await Deno.readTextFile(log.activePath);
    assert(!text.includes(CANARY), "the canary leaked into the audit log");
    assert(!text.includes("7f3e9a1c"), "part of the canary leaked into the audit log");
    assert(text.includes("secret://root-pw"), "secret:// references are kept");
  } finally {
    await t.cleanup();
  }
});
