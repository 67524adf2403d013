/**
 * One stdio message over the size limit is answered with a JSON-RPC error and the session carries on (the SDK alone
 * would close it). A real server process, raw lines on its stdin.
 */
import { startSimulator } from "../../src/sim/mod.ts";
import { STDIO_MAX_MESSAGE_BYTES } from "../../src/server/stdio_guard.ts";
import { assert, assertEquals, ROOT, simServerEnv } from "./harness.ts";

Deno.test("e2e: an oversized stdio message gets an error answer, and the next request is served", async () => {
  const sim = await startSimulator({ nodes: 1, guests: 3 });
  const dir = await Deno.makeTempDir();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", `${ROOT}src/main.ts`, "serve"],
      env: { ...await simServerEnv(sim, dir), PROXMOX_MCP_LOG_LEVEL: "warning" },
      clearEnv: true,
      cwd: dir,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    const enc = new TextEncoder();
    const send = (msg: unknown) => writer.write(enc.encode(JSON.stringify(msg) + "\n"));
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    const answer = async (): Promise<Record<string, unknown>> => {
      for (;;) {
        const nl = buffered.indexOf("\n");
        if (nl >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          return JSON.parse(line);
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("the server closed stdout");
        buffered += value;
      }
    };

    await send({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
    });
    assertEquals((await answer()).id, 1);
    await send({ jsonrpc: "2.0", method: "notifications/initialized" });

    sim.clearRequests();
    // Larger than the SDK's own 10 MiB buffer, sent in pieces; the id is the last key, as the SDK client writes it.
    const filler = "x".repeat(11 * 1024 * 1024);
    assert(filler.length > STDIO_MAX_MESSAGE_BYTES, "the filler is over the limit");
    await send({
      method: "tools/call",
      params: { name: "guest_list", arguments: { filler } },
      jsonrpc: "2.0",
      id: 2,
    });
    const refused = await answer() as { id: unknown; error?: { code: number; message: string } };
    assertEquals(refused.id, 2);
    assertEquals(refused.error?.code, -32600);
    assert(String(refused.error?.message).includes("Message too large"), String(refused.error?.message));

    // An oversized line whose id cannot be found is answered with id null; the session still carries on.
    await writer.write(enc.encode(`{"junk":"${"y".repeat(STDIO_MAX_MESSAGE_BYTES)}"\n`));
    const unknown = await answer() as { id: unknown; error?: { code: number } };
    assertEquals(unknown.id, null);
    assertEquals(unknown.error?.code, -32600);

    assertEquals(sim.requests.length, 0, "an oversized call reached PVE");
    await send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "guest_list", arguments: {} } });
    const listed = await answer() as { id: unknown; result?: { isError?: boolean } };
    assertEquals(listed.id, 3);
    assert(listed.result && !listed.result.isError, JSON.stringify(listed).slice(0, 300));

    await writer.close();
    await reader.cancel();
    assertEquals((await child.status).code, 0);
    await child.stderr.cancel();
  } finally {
    await sim.close();
    await Deno.remove(dir, { recursive: true });
  }
});
