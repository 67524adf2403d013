import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { redactArguments, REDACTED, scrubText } from "../../src/audit/redact.ts";

Deno.test("redactArguments: removes secret values, keeps secret:// references and ordinary values", () => {
  const out = redactArguments({
    vmid: 105,
    cipassword: "hunter2hunter2",
    sshkeys: ["ssh-ed25519 AAAA"],
    tokens: ["t1", "t2"],
    password: "secret://vm105-root",
    nested: { tokenSecret: "abc", keep: "ok", deeper: [{ password: "x" }] },
    bool: true,
  });
  assertEquals(out, {
    vmid: 105,
    cipassword: REDACTED,
    sshkeys: ["ssh-ed25519 AAAA"],
    tokens: ["t1", "t2"],
    password: "secret://vm105-root",
    nested: { tokenSecret: REDACTED, keep: "ok", deeper: [{ password: REDACTED }] },
    bool: true,
  });
});

Deno.test("redactArguments: a Ceph keyring, webhook headers and ACME plugin data of pve_api keep no fragment", () => {
  const keyring = "[client.admin]\n\tkey = AQBmK9FkAAAAABAAcDEuKmUvVb8JvHg0Qz1h5w==";
  const header = "name=Authorization,value=QmVhcmVyIHNlY3JldHZhbHVlMTIz";
  const acme = "Q0ZfVG9rZW49c2VjcmV0c2VjcmV0c2VjcmV0";
  const args = [
    { method: "POST", path: "/storage", params: { storage: "ceph1", type: "rbd", keyring } },
    { method: "POST", path: "/cluster/notifications/endpoints/webhook", params: { name: "w", header: [header] } },
    { method: "PUT", path: "/cluster/acme/plugins/cf", params: { data: acme, api: "cf" } },
  ];
  const text = JSON.stringify(args.map((a) => redactArguments(a, { tool: "pve_api" })));
  for (const value of [keyring, header, acme]) {
    for (let i = 0; i + 6 <= value.length; i++) {
      assert(!text.includes(value.slice(i, i + 6)), `fragment ${value.slice(i, i + 6)} of a secret in ${text}`);
    }
  }
  assert(text.includes('"storage":"ceph1"') && text.includes('"api":"cf"'), text);
});

Deno.test("redactArguments: credentials in a URL are removed, the rest is kept", () => {
  const out = redactArguments({ http_proxy: "http://proxyuser:Pr0xyPa55@proxy.example:3128/" });
  assertEquals(out.http_proxy, `http://${REDACTED}@proxy.example:3128/`);
});

Deno.test("redactArguments: agent file-write content and exec input are removed, other tools keep a content field", () => {
  assertEquals(redactArguments({ path: "/etc/x", content: "data" }, { tool: "guest_agent" }).content, REDACTED);
  assertEquals(redactArguments({ argv: ["cat"], input: "stdin text" }, { tool: "guest_agent" }).input, REDACTED);
  assertEquals(redactArguments({ content: "images" }, { tool: "storage_content" }).content, "images");
});

Deno.test("redactArguments: secret-looking substrings in free text are scrubbed", () => {
  const out = redactArguments({
    note: "use PVEAPIToken=root@pam!ci=1234-5678 please",
    comment: "Bearer abcdefghijklmnop",
    dev: "token pvemcp_AAAAAAAAAAAAAAAAAAAAAAAAAAAA end",
    pem: "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
  });
  assertEquals(out.note, `use PVEAPIToken=${REDACTED} please`);
  assertEquals(out.comment, `Bearer ${REDACTED}`);
  assertEquals(out.dev, `token ${REDACTED} end`);
  assertEquals(out.pem, REDACTED);
});

Deno.test("scrubText: caps long text", () => {
  const s = scrubText("a".repeat(5000));
  assert(s.length < 1100);
  assert(s.includes("more chars"));
});
