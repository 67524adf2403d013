/**
 * `serve --simulator` started in a terminal (stdin is a TTY, made with util-linux `script`): stderr says how to connect
 * a client instead of leaving the person at a silent prompt; Ctrl-D ends the session.
 */
import { ok } from "node:assert/strict";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

async function hasScript(): Promise<boolean> {
  try {
    return (await new Deno.Command("script", { args: ["--version"], stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "serve --simulator in a terminal: says how to connect a client",
  ignore: Deno.build.os !== "linux" || !(await hasScript()),
  fn: async () => {
    const child = new Deno.Command("script", {
      args: ["-qec", `${Deno.execPath()} run -A --quiet ${MAIN} serve --simulator`, "/dev/null"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", PROXMOX_MCP_LOG_LEVEL: "error" },
    }).spawn();
    const reader = child.stdout.getReader();
    let seen = "";
    const dec = new TextDecoder();
    const writer = child.stdin.getWriter();
    const timer = setTimeout(() => child.kill(), 30_000); // no hint: fail instead of waiting on the prompt forever
    try {
      while (!seen.includes("Press Ctrl+D")) {
        const { done, value } = await reader.read();
        if (done) break;
        seen += dec.decode(value);
      }
      await writer.write(new Uint8Array([4])); // Ctrl-D: end of input
    } finally {
      clearTimeout(timer);
      await writer.close().catch(() => {});
      reader.releaseLock();
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
      await child.status;
    }
    ok(seen.includes("an MCP client starts it"), seen);
    ok(seen.includes("claude mcp add pve --") && seen.includes("serve --simulator"), seen);
    ok(seen.includes("serve --http --simulator"), seen);
  },
});
