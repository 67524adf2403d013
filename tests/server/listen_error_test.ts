import { serveOn } from "../../src/server/listen_error.ts";
import { assert } from "../assert.ts";

Deno.test("serveOn: a busy port is one message naming the address and the setting that moves it", async () => {
  const first = await serveOn(
    "MCP endpoint",
    "--http-port",
    { hostname: "127.0.0.1", port: 0 },
    () => new Response(null, { status: 500 }),
    () => new Response("ok"),
  );
  try {
    let message = "";
    try {
      await serveOn(
        "MCP endpoint",
        "--http-host / --http-port",
        { hostname: "127.0.0.1", port: first.addr.port },
        () => new Response(null, { status: 500 }),
        () => new Response("ok"),
      );
    } catch (e) {
      message = (e as Error).message;
    }
    assert(message.includes(`127.0.0.1:${first.addr.port}`), message);
    assert(message.includes("already in use") && message.includes("--http-host / --http-port"), message);
  } finally {
    await first.server.shutdown();
  }
});
