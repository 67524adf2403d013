import assert from "node:assert/strict";
import { renderSecretFile, type SecretSlot } from "../../src/secrets/sealed_file.ts";
import { parseSecretFile } from "../../src/config/secret_file.ts";

Deno.test(".env files: quotes, export, comments and aliases; other lines kept byte for byte", () => {
  const text = [
    "# header",
    "PROXMOX_HOST=pve",
    'PROXMOX_TOKEN_SECRET="quoted value" # comment',
    "export PROXMOX_PASSWORD='single'",
    "PROXMOX_TOKEN_VALUE=alias",
    "PROXMOX_MCP_MASTER_KEY=abc",
    "PROXMOX_MCP_ADMIN_TOKEN=secret://admin",
    "PROXMOX_WRITE_PASSWORD=",
    "",
  ].join("\n");
  const file = parseSecretFile("x.env", text);
  assert.deepEqual(
    file.slots.map((s) => [s.field, s.state, s.value, s.label]),
    [
      ["PROXMOX_TOKEN_SECRET", "plain", "quoted value", "PROXMOX_TOKEN_SECRET (line 3)"],
      ["PROXMOX_PASSWORD", "plain", "single", "PROXMOX_PASSWORD (line 4)"],
      ["PROXMOX_TOKEN_SECRET", "plain", "alias", "PROXMOX_TOKEN_VALUE (line 5)"],
      ["PROXMOX_MCP_MASTER_KEY", "key", "abc", "PROXMOX_MCP_MASTER_KEY (line 6)"],
      ["PROXMOX_MCP_ADMIN_TOKEN", "ref", "secret://admin", "PROXMOX_MCP_ADMIN_TOKEN (line 7)"],
      ["PROXMOX_WRITE_PASSWORD", "empty", "", "PROXMOX_WRITE_PASSWORD (line 8)"],
    ],
  );
  const replace = new Map<SecretSlot, string>([[file.slots[1]!, "enc:v1:x"], [file.slots[2]!, "enc:v1:y"]]);
  assert.equal(
    renderSecretFile(file, replace),
    text.replace("export PROXMOX_PASSWORD='single'", "export PROXMOX_PASSWORD=enc:v1:x")
      .replace("PROXMOX_TOKEN_VALUE=alias", "PROXMOX_TOKEN_VALUE=enc:v1:y"),
  );
});

Deno.test("JSON files: our layout by cluster, the Python layout, the store; master keys flagged", () => {
  const ours = parseSecretFile(
    "c.json",
    JSON.stringify({
      clusters: { b: { host: "b", password: "p" }, a: { tokenSecret: "enc:v1:zz", write: { tokenSecret: "w" } } },
      audit: { key: "k" },
      secrets: { masterKey: "m" },
    }),
  );
  assert.deepEqual(ours.slots.map((s) => [s.field, s.state]), [
    ["clusters.b.password", "plain"],
    ["clusters.a.tokenSecret", "sealed"],
    ["clusters.a.write.tokenSecret", "plain"],
    ["audit.key", "plain"],
    ["secrets.masterKey", "key"],
  ]);
  const py = parseSecretFile(
    "p.json",
    JSON.stringify({ proxmox: { host: "h" }, auth: { token_value: "enc:abc:def" } }),
  );
  assert.deepEqual(py.slots.map((s) => [s.field, s.state]), [["auth.token_value", "legacy"]]);
  const store = parseSecretFile(
    "s.json",
    JSON.stringify({ kind: "pve-mcp secret store", version: 1, entries: { x: { value: "enc:v1:q" } } }),
  );
  assert.equal(store.format, "store");
  assert.deepEqual(store.slots.map((s) => s.field), ["secret://x"]);
  assert.throws(() => parseSecretFile("bad.json", "{"), /not valid JSON/);
});
