import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { Buffer } from "node:buffer";
import { PassThrough } from "node:stream";
import { guardStdin, type OversizedMessage } from "../../src/server/stdio_guard.ts";

Deno.test("guardStdin: lines up to the limit pass, longer ones are dropped across chunks, the id is found", async () => {
  const input = new PassThrough();
  const dropped: OversizedMessage[] = [];
  const out = guardStdin(input, (m) => dropped.push(m), 64);
  const passed: string[] = [];
  out.on("data", (c: Buffer) => passed.push(c.toString()));
  const ended = new Promise((r) => out.on("end", r));
  const lines = [
    `{"id":1}`,
    `{"jsonrpc":"2.0","id":"a\\"b","method":"x","params":{"p":"${"z".repeat(200)}"}}`,
    `{"method":"m","params":{"q":"${"y".repeat(100)}","id":9},"jsonrpc":"2.0","id":42}`,
    `{"method":"m","params":{"x":{"id":7}},"pad":"${"w".repeat(100)}"}`,
    `{"method":"m","params":{"pad":"${"v".repeat(100)}","x":{"id":7}}}`,
    `{"id":2}`,
  ];
  const all = lines.join("\n") + "\n";
  for (let i = 0; i < all.length; i += 7) input.write(all.slice(i, i + 7));
  input.end();
  await ended;
  assertEquals(passed.join(""), `{"id":1}\n{"id":2}\n`);
  assertEquals(dropped.map((m) => m.id), ['a"b', 42, null, null]);
  assertEquals(dropped[0]!.bytes, lines[1]!.length);
});
