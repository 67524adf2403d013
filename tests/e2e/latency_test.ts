/**
 * The latency budget through a real MCP client: a tool call to a PVE host that never answers, or whose connect is
 * blackholed, ends with a clear tool error naming the host, what failed and how many attempts were made (small
 * configured timeouts here; the defaults are 5 s connect, 20 s per attempt, 25 s in all).
 */
import { assert, call, startStack } from "./harness.ts";
import { silentListener } from "../pve/fake_pve.ts";

/**
 * A blackholed port: a listener that never accepts, its accept queue filled, so the kernel drops further SYNs and a
 * new connect hangs (Linux). Returns undefined when the queue does not fill within a few thousand connections.
 */
async function blackholedPort(): Promise<{ port: number; close: () => void } | undefined> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const conns: Deno.Conn[] = [];
  const close = () => {
    for (const c of conns) c.close();
    listener.close();
  };
  for (let i = 0; i < 4096; i++) {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 300);
    try {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port, signal: ac.signal }));
    } catch {
      return { port, close };
    } finally {
      clearTimeout(timer);
    }
  }
  close();
  return undefined;
}

const SMALL = {
  PROXMOX_MCP_PVE_CONNECT_TIMEOUT_MS: "300",
  PROXMOX_MCP_PVE_TIMEOUT_MS: "400",
  PROXMOX_MCP_PVE_DEADLINE_MS: "5000",
  PROXMOX_MCP_PVE_RETRIES: "1",
};

Deno.test("latency: a host that accepts and never answers gives a clear error after 2 attempts", async () => {
  const silent = silentListener();
  const s = await startStack({ env: { ...SMALL, PROXMOX_PORT: String(silent.port) } });
  try {
    const r = await call(s.client, "guest_list", {});
    const text = r.content.map((c) => c.text).join("\n");
    assert(r.isError === true, text);
    assert(text.includes(`127.0.0.1:${silent.port}`), `names the host: ${text}`);
    assert(text.includes("timed out after 400 ms"), `says what failed: ${text}`);
    assert(text.includes("(2 attempts in "), `counts the attempts: ${text}`);
  } finally {
    await s.close();
    silent.close();
  }
});

Deno.test({
  name: "latency: a blackholed connect gives 'could not connect … within', 2 attempts",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const hole = await blackholedPort();
    assert(hole !== undefined, "could not fill the accept queue to simulate a blackholed connect");
    const s = await startStack({ env: { ...SMALL, PROXMOX_PORT: String(hole.port) } });
    try {
      const r = await call(s.client, "guest_list", {});
      const text = r.content.map((c) => c.text).join("\n");
      assert(r.isError === true, text);
      assert(text.includes(`could not connect to 127.0.0.1:${hole.port} within 300 ms`), text);
      assert(text.includes("(2 attempts in "), `counts the attempts: ${text}`);
    } finally {
      await s.close();
      hole.close();
    }
  },
});
