/**
 * Where start-up goes: loads what `pve-mcp serve` loads, one layer at a time, and prints (JSON on stdout) the time,
 * RSS and V8 heap after each step. Each step's figure includes the modules it imports that earlier steps did not
 * load. Run by scripts/bench/startup.ts in a fresh process.
 * @module
 */
const steps: { step: string; ms: number; rssMiB: number; heapUsedMiB: number }[] = [];
const MiB = 1024 * 1024;
let t = 0; // performance.now() counts from process start
function mark(step: string) {
  const now = performance.now();
  const m = Deno.memoryUsage();
  steps.push({ step, ms: now - t, rssMiB: m.rss / MiB, heapUsedMiB: m.heapUsed / MiB });
  t = performance.now();
}
mark("Deno runtime (process start → first line)");
await import("zod");
mark("zod");
await import("@logtape/logtape");
mark("LogTape");
await import("@modelcontextprotocol/server");
await import("@modelcontextprotocol/server/stdio");
mark("MCP server SDK");
await import("../../src/config/load.ts");
mark("configuration (schema, loader)");
await import("../../src/pve/client.ts");
mark("PVE client");
await import("../../src/tools/all.ts");
mark("tools (every definition and its zod schemas)");
await import("../../src/cli/serve_cmd.ts");
mark("the rest of serve (app, pipeline, policy, audit)");
console.log(JSON.stringify(steps));
