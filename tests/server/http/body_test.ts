import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { readBody } from "../../../src/server/http/body.ts";

Deno.test("readBody: reads within limits; 413 by Content-Length or by streamed size; 408 when too slow", async () => {
  const ok = await readBody(new Request("http://x/", { method: "POST", body: "hello" }), 10, 1000);
  assertEquals(ok.ok && new TextDecoder().decode(ok.bytes), "hello");
  const declared = await readBody(
    new Request("http://x/", { method: "POST", body: "x".repeat(20), headers: { "content-length": "20" } }),
    10,
    1000,
  );
  assertEquals(!declared.ok && declared.status, 413);
  const streamed = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array(4));
      c.close();
    },
  });
  const big = await readBody(new Request("http://x/", { method: "POST", body: streamed }), 10, 1000);
  assertEquals(!big.ok && big.status, 413);
  const never = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array(1));
    },
  });
  const slow = await readBody(new Request("http://x/", { method: "POST", body: never }), 10, 50);
  assertEquals(!slow.ok && slow.status, 408);
});
