import assert from "node:assert/strict";
import { encodingsOf, MASK, PROCESS_SECRETS, SecretScope } from "../../src/guard/scrub.ts";
import { formatLogLine } from "../../src/log.ts";

const VALUE = 'Sup3r/Secret+Value with spaces & "quotes"\nline2';

function b64(s: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(s)));
}

Deno.test("scrub: the value, its parts and every obvious encoding are masked; other text is kept", () => {
  const scope = new SecretScope({ parent: null });
  assert.equal(scope.scrubText(`x ${VALUE} y`), `x ${VALUE} y`, "an empty scope changes nothing");
  scope.add(VALUE);
  const encoded = [
    VALUE,
    VALUE.slice(5, 14), // any 8+ characters
    JSON.stringify(VALUE),
    JSON.stringify(JSON.stringify(VALUE)),
    encodeURIComponent(VALUE),
    encodeURIComponent(VALUE).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()), // lower-case hex escapes
    encodeURIComponent(VALUE).replace(/%20/g, "+"),
    b64(VALUE),
    b64(VALUE).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
    b64(`a${VALUE}`), // inside a longer base64 text, at each byte alignment
    b64(`ab${VALUE}`),
    b64(`abc${VALUE}zz`),
    [...new TextEncoder().encode(VALUE)].map((b) => b.toString(16).padStart(2, "0")).join(""),
  ];
  for (const form of encoded) {
    const out = scope.scrubText(`before ${form} after`);
    assert.ok(out.startsWith("before ") && out.endsWith(" after") && out.includes(MASK), out);
    for (let i = 0; i + 8 <= VALUE.length; i++) {
      assert.ok(!out.includes(VALUE.slice(i, i + 8)), `a part survived in ${out}`);
    }
    assert.ok(!out.includes(b64(VALUE).slice(4, 12)), `base64 survived in ${out}`);
  }
  assert.equal(scope.scrubText("nothing secret here at all"), "nothing secret here at all");
  const deep = scope.scrubDeep({ a: [VALUE, 1, { [VALUE]: null }], b: true });
  assert.deepEqual(deep, { a: [MASK, 1, { [MASK]: null }], b: true });
});

Deno.test("scrub: short values are matched whole; values under 4 characters are ignored", () => {
  const scope = new SecretScope({ parent: null });
  scope.add("abc");
  scope.add("pw123");
  assert.equal(scope.size, 1);
  assert.equal(scope.scrubText("abc pw123 x"), `abc ${MASK} x`);
  assert.ok(encodingsOf("pw123").includes(encodeURIComponent("pw123")));
});

Deno.test("scrub: every scope feeds the process scope, which the log sink applies to every line", () => {
  const value = `log-canary-${crypto.randomUUID()}`;
  new SecretScope().add(value);
  assert.ok(PROCESS_SECRETS.size > 0);
  const line = formatLogLine({
    category: ["pve-mcp", "test"],
    level: "error",
    message: ["failed: ", `${value} / ${encodeURIComponent(value)} / ${b64(value)}`],
    rawMessage: "failed: {error}",
    timestamp: 0,
    properties: { error: value },
  });
  assert.ok(!line.includes(value.slice(12, 20)), line);
  assert.ok(line.includes(MASK), line);
});

Deno.test("scrub: the oldest values are forgotten beyond the cap", () => {
  const scope = new SecretScope({ parent: null, max: 2 });
  for (const v of ["alpha-0123456789", "bravo-abcdefghij", "charlie-klmnopqrst"]) scope.add(v);
  assert.equal(scope.size, 2);
  assert.equal(scope.scrubText("alpha-0123456789"), "alpha-0123456789");
  assert.equal(scope.scrubText("charlie-klmnopqrst"), MASK);
});
