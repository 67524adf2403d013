import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/load.ts";
import { redactConfig, REDACTED, secretValues } from "../../src/config/redact.ts";
import { memFs } from "./helpers.ts";

Deno.test("redactConfig hides every secret setting and keeps the rest", async () => {
  const files = {
    "/c.json": JSON.stringify({
      clusters: {
        a: { host: "a", tokenId: "a@pam!t", tokenSecret: "S1", write: { user: "w@pve", password: "S2" } },
        b: { host: "b", user: "u@pve", password: "S3" },
      },
      audit: { key: "S4" },
      http: { adminToken: "S5" },
      secrets: { passphrase: "S6-long-passphrase" },
    }),
  };
  const cfg = await loadConfig({ env: { PROXMOX_MCP_CONFIG: "/c.json" }, cwd: "/", ...memFs(files) });
  assert.deepEqual(secretValues(cfg).sort(), ["S1", "S2", "S3", "S4", "S5", "S6-long-passphrase"]);
  const red = redactConfig(cfg);
  const text = JSON.stringify(red);
  for (const s of ["S1", "S2", "S3", "S4", "S5", "S6-long-passphrase"]) assert.ok(!text.includes(`"${s}"`), s);
  assert.equal(red.clusters.a!.tokenSecret, REDACTED);
  assert.equal(red.clusters.a!.tokenId, "a@pam!t");
  assert.equal(red.clusters.b!.host, "b");
  assert.equal(cfg.clusters.a!.tokenSecret, "S1", "the original is untouched");
});
