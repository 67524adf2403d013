import assert from "node:assert/strict";
import { cleanDeep, cleanText, hasInvisible, UNTRUSTED_MAX } from "../../src/guard/untrusted.ts";

Deno.test("cleanText: strips controls, bidi, zero-width, variation selectors, separators, tags, lone surrogates", () => {
  const hostile = [
    "\u0007",
    "\u001b",
    "\u007f",
    "\u0085",
    "\u00AD",
    "\u061C",
    "\u180B",
    "\u180E",
    "\u180F",
    "\u200B",
    "\u200F",
    "\u2028",
    "\u2029",
    "\u202A",
    "\u202E",
    "\u2066",
    "\uFE00",
    "\uFE0F",
    "\uFEFF",
    "\u{E0001}",
    "\u{E0041}",
    "\u{E007F}",
    "\u{E0100}",
    "\u{E01EF}",
    "\uD800",
    "\uDC00",
  ];
  for (const h of hostile) {
    assert.equal(cleanText(`a${h}b`), "ab", `U+${h.codePointAt(0)!.toString(16)}`);
    assert.ok(hasInvisible(`a${h}b`));
  }
  assert.equal(cleanText("tab\tnew\nline 😀 é"), "tab\tnew\nline 😀 é", "text, emoji (a surrogate pair) stay");
  assert.ok(!hasInvisible("plain 😀"));
  assert.match(cleanText("x".repeat(UNTRUSTED_MAX + 5)), /…\[5 more characters cut\]$/);
});

Deno.test("cleanDeep: every string and key cleaned; capped by path or the default; already-cut strings kept", () => {
  const out = cleanDeep({
    a: ["x\u202E".repeat(3000)],
    exec: { stdout: "y".repeat(5000) },
    ["k\u200B"]: { n: 1, b: true, z: null },
  }, { "exec.stdout": 4000 });
  assert.equal(out.a[0]!.length, UNTRUSTED_MAX + "…[1000 more characters cut]".length);
  assert.ok(out.exec.stdout.startsWith("y".repeat(4000)) && out.exec.stdout.endsWith("cut]"));
  assert.deepEqual((out as Record<string, unknown>)["k"], { n: 1, b: true, z: null });
  const cut = cleanText("z".repeat(3000));
  assert.equal(cleanDeep({ s: cut }).s, cut, "not cut twice");
});
