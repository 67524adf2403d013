import { ok as assert } from "node:assert/strict";
import { HIDDEN, hideSecretValues, isSecretKey } from "../../src/guard/secret_keys.ts";
import { assertEquals } from "../assert.ts";

const SHARED = new URL("../../../shared/pve-api/", import.meta.url);
let present = false;
try {
  present = Deno.statSync(new URL("apidata.json", SHARED)).isFile;
} catch {
  present = false;
}
if (!present) console.warn("SKIPPED: ../shared/pve-api is absent, so the secret classifier is not checked against it.");

/** A parameter of the official schema. */
interface Param {
  method: string;
  path: string;
  name: string;
  type: string;
  format: string;
  description: string;
}

interface SchemaNode {
  path: string;
  info?: Record<string, { parameters?: { properties?: Record<string, Record<string, unknown>> } }>;
  children?: SchemaNode[];
}

function allParams(nodes: SchemaNode[], out: Param[] = []): Param[] {
  for (const node of nodes) {
    for (const [method, info] of Object.entries(node.info ?? {})) {
      for (const [name, p] of Object.entries(info.parameters?.properties ?? {})) {
        out.push({
          method,
          path: node.path,
          name,
          type: String(p.type ?? "string"),
          format: typeof p.format === "string" ? p.format : "",
          description: `${p.description ?? ""} ${p.verbose_description ?? ""}`,
        });
      }
    }
    if (node.children) allParams(node.children, out);
  }
  return out;
}

/** A name or description that marks a parameter as (possibly) secret. */
const NAME_MARK = /pass|secret|token|key|ticket|\botp|totp|cred|cookie|hmac|header/i;
const DESC_MARK = /password|passphrase|secret|token|private key|keyring|credential|one-time|hmac|api key|header/i;

/**
 * Marked parameters that hold no secret, and why. Kept short: anything else that is marked must be classified secret.
 * - booleans and integers are flags, counts and timeouts (`crypted`, `privsep`, `token-coefficient`, `expire`, …);
 * - identifiers name a user or token, they do not authenticate (`userid`, `tokenid`, `authid`, `ciuser`, …);
 * - public keys and certificates grant nothing (`sshkeys`, `ssh-public-keys`, `master-pubkey`);
 * - layouts, lists of setting names and file paths (`keyboard`, `config-keys`, `certkey` is a path);
 * - `http_proxy` is a URL: credentials in it are removed by the value scrubber (tested in tests/audit/redact_test.ts);
 */
const EXEMPT_NAMES = new Set([
  "authid",
  "userid",
  "username",
  "tokenid",
  "tokens",
  "ciuser",
  "eab-kid",
  "sshkeys",
  "ssh-public-keys",
  "master-pubkey",
  "keyboard",
  "config-keys",
  "certkey",
  "http_proxy",
]);

function exempt(p: Param): boolean {
  return p.type === "boolean" || p.type === "integer" || p.type === "number" || EXEMPT_NAMES.has(p.name);
}

Deno.test({
  name: "secret keys: every schema parameter marked secret by name or description is classified secret",
  ignore: !present,
  fn: async () => {
    const params = allParams(JSON.parse(await Deno.readTextFile(new URL("apidata.json", SHARED))));
    assert(params.length > 2500, `walked ${params.length} parameters`);
    const marked = params.filter((p) => NAME_MARK.test(p.name) || DESC_MARK.test(p.description));
    assert(marked.length > 100, `${marked.length} marked`);
    const missed = marked.filter((p) => !exempt(p) && !isSecretKey(p.name, { path: p.path }))
      .map((p) => `${p.method} ${p.path} ${p.name}: ${p.description.trim().slice(0, 80)}`);
    assert(missed.length === 0, `not classified secret:\n${missed.join("\n")}`);
    // The exemption list names only parameters that exist.
    for (const name of EXEMPT_NAMES) assert(params.some((p) => p.name === name), `${name} is in the schema`);
  },
});

Deno.test({
  name: "secret keys: parameters secret by context (ACME plugin data, webhook headers, TFA value) are secret",
  ignore: !present,
  fn: async () => {
    const params = allParams(JSON.parse(await Deno.readTextFile(new URL("apidata.json", SHARED))));
    const at = (path: RegExp, name: string) => params.filter((p) => path.test(p.path) && p.name === name);
    const cases = [
      ...at(/^\/cluster\/acme\/plugins/, "data"),
      ...at(/^\/cluster\/notifications\/endpoints\/webhook/, "header"),
      ...at(/^\/cluster\/notifications\/endpoints\/webhook/, "secret"),
      ...at(/^\/access\/tfa/, "value"),
      ...at(/\/agent\/exec$/, "input-data"),
      ...at(/\/agent\/file-write$/, "content"),
      ...at(/^\/storage/, "keyring"),
      ...at(/^\/cluster\/metrics\/server/, "otel-headers"),
    ];
    assert(cases.length >= 10, `${cases.length} cases`);
    for (const p of cases) assert(isSecretKey(p.name, { path: p.path }), `${p.method} ${p.path} ${p.name}`);
    // Out of context the same names are ordinary (the /etc/hosts text, a Ceph flag's value).
    assert(!isSecretKey("data", { path: "/nodes/{node}/hosts" }));
    assert(!isSecretKey("value", { path: "/cluster/ceph/flags/{flag}" }));
  },
});

Deno.test("secret keys: names of our tools and settings", () => {
  for (
    const k of [
      "password",
      "cipassword",
      "tokenSecret",
      "token_secret",
      "token",
      "key",
      "keyring",
      "apiKey",
      "secret",
      "PROXMOX_PASSWORD",
      "privateKey",
      "pass",
      "authorization",
      "encryption-key",
      "eab-hmac-key",
      "client-key",
      "header",
      "otel-headers",
      "totp",
      "otp",
      "tfa-challenge",
    ]
  ) assert(isSecretKey(k), k);
  for (const k of ["input", "content", "data"]) assert(isSecretKey(k, { tool: "guest_agent" }), `guest_agent.${k}`);
  for (
    const k of [
      "tokenid",
      "tokenId",
      "token_name",
      "key_id",
      "keyboard",
      "vmid",
      "node",
      "name",
      "description",
      "sshkeys",
      "ssh_keys",
      "public_key",
      "master-pubkey",
      "token-coefficient",
      "input",
      "content",
      "data",
    ]
  ) assert(!isSecretKey(k), k);
});

Deno.test("hideSecretValues: stored credentials in an API answer are hidden at any depth; the rest is kept", () => {
  const answer = [
    { plugin: "cf", type: "dns", api: "cf", data: "CF_Token=canary-value-123" },
    { id: "influx", server: "10.0.0.5", port: 8086, token: "canary-token", nested: { password: "canary-pw" } },
    { digest: "abc", sshkeys: "ssh-ed25519 AAAA key", keyring: "" },
  ];
  const hidden = hideSecretValues(answer, { tool: "pve_api", path: "/cluster/acme/plugins" });
  const text = JSON.stringify(hidden);
  for (const canary of ["canary-value-123", "canary-token", "canary-pw"]) {
    assertEquals(text.includes(canary), false, `${canary} leaked: ${text}`);
  }
  assertEquals((hidden as { server: string }[])[1]!.server, "10.0.0.5");
  assertEquals((hidden as { sshkeys: string }[])[2]!.sshkeys, "ssh-ed25519 AAAA key");
  assertEquals((hidden as { data: string }[])[0]!.data, HIDDEN);
});
