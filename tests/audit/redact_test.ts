import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { isSecretKey, redactArguments, REDACTED, scrubText } from "../../src/audit/redact.ts";

Deno.test("isSecretKey: PVE and common secret parameter names are secret", () => {
  for (
    const k of [
      "password",
      "cipassword",
      "sshkeys",
      "tokenSecret",
      "token_secret",
      "token",
      "key",
      "apiKey",
      "secret",
      "PROXMOX_PASSWORD",
      "privateKey",
      "pass",
      "authorization",
    ]
  ) assert(isSecretKey(k), k);
});

Deno.test("isSecretKey: identifiers and ordinary parameters are not secret", () => {
  for (const k of ["tokenid", "tokenId", "token_name", "key_id", "keyboard", "vmid", "node", "name", "description"]) {
    assert(!isSecretKey(k), k);
  }
});

Deno.test("redactArguments: removes secret values, keeps secret:// references and ordinary values", () => {
  const out = redactArguments({
    vmid: 105,
    cipassword: "hunter2hunter2",
    sshkeys: ["ssh-ed25519 AAAA"],
    password: "secret://vm105-root",
    nested: { tokenSecret: "abc", keep: "ok", deeper: [{ password: "x" }] },
    bool: true,
  });
  assertEquals(out, {
    vmid: 105,
    cipassword: REDACTED,
    sshkeys: [REDACTED],
    password: "secret://vm105-root",
    nested: { tokenSecret: REDACTED, keep: "ok", deeper: [{ password: REDACTED }] },
    bool: true,
  });
});

Deno.test("redactArguments: agent file-write content is removed, other tools keep a content field", () => {
  assertEquals(redactArguments({ path: "/etc/x", content: "data" }, { tool: "guest_agent" }).content, REDACTED);
  assertEquals(redactArguments({ content: "images" }, { tool: "storage_content" }).content, "images");
});

Deno.test("redactArguments: secret-looking substrings in free text are scrubbed", () => {
  const out = redactArguments({
    note: "use PVEAPIToken=root@pam!ci=1234-5678 please",
    header: "Bearer abcdefghijklmnop",
    dev: "token pvemcp_AAAAAAAAAAAAAAAAAAAAAAAAAAAA end",
    pem: "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
  });
  assertEquals(out.note, `use PVEAPIToken=${REDACTED} please`);
  assertEquals(out.header, `Bearer ${REDACTED}`);
  assertEquals(out.dev, `token ${REDACTED} end`);
  assertEquals(out.pem, REDACTED);
});

Deno.test("scrubText: caps long text", () => {
  const s = scrubText("a".repeat(5000));
  assert(s.length < 1100);
  assert(s.includes("more chars"));
});
