/**
 * stdout is the protocol: every byte the server writes there is a JSON-RPC message; logs go to stderr.
 * The process ends promptly when stdin closes, even with upstream connections open.
 */
import { startSimulator } from "../../src/sim/mod.ts";
import { assert, assertEquals, ROOT, simServerEnv } from "./harness.ts";

Deno.test("e2e: stdout carries only JSON-RPC; the server exits within 1 s of stdin closing", async () => {
  const sim = await startSimulator({ nodes: 2, guests: 6 });
  const dir = await Deno.makeTempDir();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", `${ROOT}src/main.ts`, "serve"],
      env: await simServerEnv(sim, dir),
      clearEnv: true,
      cwd: dir,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    const enc = new TextEncoder();
    const send = (msg: unknown) => writer.write(enc.encode(JSON.stringify(msg) + "\n"));
    await send({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
    });
    await send({ jsonrpc: "2.0", method: "notifications/initialized" });
    await send({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    await send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "guest_list", arguments: {} } });
    await send({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "guest_info", arguments: { vmid: 1 } } });

    // Read stdout until all four answers are in.
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    const ids = new Set<number>();
    while (ids.size < 4) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
      for (const line of out.split("\n").slice(0, -1)) {
        const msg = JSON.parse(line);
        if (typeof msg.id === "number") ids.add(msg.id);
      }
    }
    assertEquals([...ids].sort(), [1, 2, 3, 4], "answers");
    const closedAt = performance.now();
    await writer.close();
    const rest = async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        out += value;
      }
    };
    const [status] = await Promise.all([child.status, rest()]);
    const exitMs = performance.now() - closedAt;
    const stderr = await new Response(child.stderr).text();

    for (const line of out.split("\n").filter((l) => l.length > 0)) {
      const msg = JSON.parse(line); // throws on any non-JSON byte
      assertEquals(msg.jsonrpc, "2.0", `not JSON-RPC: ${line.slice(0, 80)}`);
    }
    assert(stderr.includes('"level"'), "logs are JSON lines on stderr");
    for (const line of stderr.split("\n").filter((l) => l.startsWith("{"))) JSON.parse(line);
    assert(!out.includes(sim.tokens.admin.secret) && !stderr.includes(sim.tokens.admin.secret), "token secret leaked");
    assertEquals(status.code, 0, "exit code");
    // A hang detector, not a benchmark (the exit time is measured in deno task bench): generous under parallel load.
    assert(exitMs < 3000, `server took ${Math.round(exitMs)} ms to exit after stdin closed`);
  } finally {
    await sim.close();
    await Deno.remove(dir, { recursive: true });
  }
});
