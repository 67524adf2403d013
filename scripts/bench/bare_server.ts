/**
 * The reference point of the HTTP benchmark: a bare `Deno.serve` that answers every POST with a fixed JSON-RPC
 * result of about the size of a tool result (no parsing, no auth, no upstream). Prints its port on stdout.
 * @module
 */
const body = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  result: {
    content: [{ type: "text", text: 'qemu 100 "web-01" on pve1\nstatus: running\nuptime: 1234\ncpu: 0.02' }],
    structuredContent: { vmid: 100, type: "qemu", node: "pve1", name: "web-01", status: { status: "running" } },
  },
});
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
  await req.arrayBuffer();
  return new Response(body, { headers: { "content-type": "application/json" } });
});
console.log(JSON.stringify({ port: server.addr.port }));
await server.finished;
