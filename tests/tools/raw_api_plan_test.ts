import { ok as assert } from "node:assert/strict";
import { pveApi } from "../../src/tools/raw_api.ts";
import type { ToolContext } from "../../src/tools/registry.ts";
import { redactArguments } from "../../src/audit/redact.ts";

// No guest is named, so the plan looks nothing up; it only checks the credential kind.
const api = { authKind: "token" };
const ctx = { pve: api, pveWrite: api } as unknown as ToolContext;

Deno.test("pve_api plan: the fields the audit log redacts are hidden in the plan, and only those", async () => {
  const keyring = "AQBmK9FkAAAAABAAcDEuKmUvVb8JvHg0Qz1h5w==";
  const acme = "Q0ZfVG9rZW49c2VjcmV0c2VjcmV0";
  const cases = [
    { method: "POST", path: "/storage", params: { storage: "ceph1", type: "rbd", pool: "rbd", keyring } },
    { method: "PUT", path: "/cluster/acme/plugins/cf", params: { data: acme, api: "cf" } },
  ];
  for (const args of cases) {
    const plan = await pveApi.plan!(args as never, ctx);
    const audit = JSON.stringify(redactArguments(args, { tool: "pve_api" }));
    for (const value of [keyring, acme]) {
      for (let i = 0; i + 6 <= value.length; i++) {
        const piece = value.slice(i, i + 6);
        assert(!plan.effect.includes(piece), `plan shows ${piece}: ${plan.effect}`);
        assert(!audit.includes(piece), `audit shows ${piece}: ${audit}`);
      }
    }
    for (const [k, v] of Object.entries(args.params)) {
      const hiddenInPlan = plan.effect.includes(`${k}=(hidden)`);
      const hiddenInAudit = !audit.includes(JSON.stringify(v));
      assert(hiddenInPlan === hiddenInAudit, `${k}: plan ${hiddenInPlan}, audit ${hiddenInAudit}`);
    }
  }
});
