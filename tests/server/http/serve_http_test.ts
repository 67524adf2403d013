/**
 * The whole HTTP stack in-process: configuration → serveHttp (audit log, rate limits, device tokens, PVE-token
 * mode, admin port) → the real tools → the simulator over HTTPS, driven by a real SDK client.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects as assertRejects } from "node:assert/strict";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { loadConfig } from "../../../src/config/load.ts";
import { serveHttp } from "../../../src/server/http/serve_http.ts";
import { DeviceTokenStore } from "../../../src/auth/device_tokens.ts";
import { resolveAuditKey } from "../../../src/audit/key.ts";
import { verifyAudit } from "../../../src/audit/verify.ts";
import { startSimulator } from "../../../src/sim/mod.ts";

type Result = {
  isError?: boolean;
  content: { type: string; text: string }[];
  structuredContent?: Record<string, unknown>;
};

async function connect(url: string, authorization: string): Promise<Client> {
  const c = new Client({ name: "stack", version: "1" });
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization } } }));
  return c;
}

Deno.test("serve --http: device caps, PVE-token mode, principal rate limit, audit and admin, end to end", async () => {
  const sim = await startSimulator({ nodes: 2, guests: 30 });
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-serve-http-" });
  const stop = new AbortController();
  let served: Promise<void> | undefined;
  try {
    await Deno.writeTextFile(`${dir}/ca.pem`, sim.caCertPem);
    const adminToken = "admin-secret-0123456789abcdef";
    const config = await loadConfig({
      env: {
        PROXMOX_HOST: "127.0.0.1",
        PROXMOX_PORT: String(sim.port),
        PROXMOX_TOKEN_ID: sim.tokens.admin.tokenId,
        PROXMOX_TOKEN_SECRET: sim.tokens.admin.secret,
        PROXMOX_CA_FILE: `${dir}/ca.pem`,
        PROXMOX_MCP_MODE: "admin",
        PROXMOX_MCP_HTTP_PORT: "0",
        PROXMOX_MCP_ADMIN_PORT: "0",
        PROXMOX_MCP_HTTP_TOKENS_FILE: `${dir}/tokens.json`,
        PROXMOX_MCP_HTTP_PVE_TOKEN_MODE: "true",
        PROXMOX_MCP_ADMIN_TOKEN: adminToken,
        PROXMOX_MCP_AUDIT_PATH: `${dir}/audit`,
        PROXMOX_MCP_RATE_LIMIT_WRITES_PER_MINUTE: "2",
        PROXMOX_MCP_LOG_LEVEL: "error",
        HOME: dir,
      },
      cwd: dir,
      scrubEnv: false,
    });
    const devices = new DeviceTokenStore({ path: `${dir}/tokens.json` });
    const ro = await devices.add({ name: "viewer", mode: "read-only" });
    const ops = await devices.add({ name: "ops" });
    const ready = Promise.withResolvers<{ mcp: string; admin: string }>();
    served = serveHttp(config, { signal: stop.signal, onReady: ready.resolve, keepLogging: true });
    const urls = await Promise.race([ready.promise, served.then(() => Promise.reject(new Error("server stopped")))]);

    const stopped = [...sim.state.guests.values()].filter((g) =>
      g.type === "qemu" && !g.template && g.status === "stopped"
    )
      .map((g) => g.vmid);
    assert(stopped.length >= 3, "the simulator needs three stopped VMs");

    // A read-only device sees no write tool, even though the server runs in admin mode.
    const viewer = await connect(urls.mcp, `Bearer ${ro.token}`);
    const viewerTools = (await viewer.listTools()).tools;
    assert(viewerTools.length > 0);
    assert(viewerTools.every((t) => t.annotations?.readOnlyHint === true), "only read-only tools are listed");
    assert(!viewerTools.some((t) => t.name === "guest_power"));
    const refused = await viewer.callTool({ name: "guest_power", arguments: { vmid: stopped[0], action: "start" } })
      .then((r) => r as Result, (e: Error) => ({ isError: true, content: [{ type: "text", text: e.message }] }));
    assert(refused.isError === true, "a read-only device called a write tool");
    const list = await viewer.callTool({ name: "guest_list", arguments: {} }) as Result;
    assert(!list.isError, list.content[0]?.text);
    await viewer.close();

    // A device without a cap gets the server's mode; the third write in a minute is answered 429 + Retry-After.
    const operator = await connect(urls.mcp, `Bearer ${ops.token}`);
    for (const vmid of stopped.slice(0, 2)) {
      const r = await operator.callTool({
        name: "guest_power",
        arguments: { vmid, action: "start", wait: false },
      }) as Result;
      assert(!r.isError, r.content[0]?.text);
    }
    await assertRejects(
      operator.callTool({ name: "guest_power", arguments: { vmid: stopped[2], action: "start", wait: false } }),
    );
    await operator.close();
    const raw = await fetch(urls.mcp, {
      method: "POST",
      headers: {
        authorization: `Bearer ${ops.token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: { name: "guest_power", arguments: { vmid: stopped[2], action: "start", wait: false } },
      }),
    });
    assertEquals(raw.status, 429);
    assert(Number(raw.headers.get("retry-after")) >= 1);
    const body = await raw.json();
    assertEquals(body.id, 7);
    assert(body.error.message.startsWith("Rate limit reached for device:ops: retry in"), body.error.message);
    // Reads have their own, larger allowance: still fine.
    const reader = await connect(urls.mcp, `Bearer ${ops.token}`);
    assert(!((await reader.callTool({ name: "guest_list", arguments: {} })) as Result).isError);
    await reader.close();

    // PVE-token mode: the client's own (read-only) PVE token; PVE's permissions apply to writes.
    const auditor = sim.tokens.auditor;
    const pveClient = await connect(urls.mcp, `PVEAPIToken=${auditor.tokenId}=${auditor.secret}`);
    const r = await pveClient.callTool({ name: "guest_list", arguments: {} }) as Result;
    assert(!r.isError, r.content[0]?.text);
    const w = await pveClient.callTool({
      name: "guest_power",
      arguments: { vmid: stopped[2], action: "start", wait: false },
    }) as Result;
    assert(w.isError === true, "an auditor token started a guest");
    await pveClient.close();
    const wrongPve = await fetch(urls.mcp, {
      method: "POST",
      headers: { authorization: `PVEAPIToken=${auditor.tokenId}=wrong`, "content-type": "application/json" },
      body: "{}",
    });
    assertEquals(wrongPve.status, 401);
    await wrongPve.body?.cancel();

    // Admin port: ready, metrics with tool calls and the rate-limit hit.
    assertEquals(await (await fetch(`${urls.admin}/readyz`)).json(), { ready: true });
    const metrics = await (await fetch(`${urls.admin}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } }))
      .text();
    assert(metrics.includes('pve_mcp_tool_calls_total{tool="guest_power",outcome="ok"} 2'), metrics);
    assert(metrics.includes('pve_mcp_rate_limited_total{scope="principal"} 2'), metrics);
    assert(metrics.includes('pve_mcp_tool_calls_total{tool="guest_power",outcome="rate_limited"} 2'));

    stop.abort();
    await served;
    served = undefined;

    // The audit log verifies, names principals, and holds no credential.
    const { key } = await resolveAuditKey({ path: `${dir}/audit`, create: false });
    const v = await verifyAudit(`${dir}/audit`, key);
    assert(v.ok, JSON.stringify(v.error));
    const text = await Deno.readTextFile(`${dir}/audit/audit.jsonl`);
    for (const secret of [ro.token, ops.token, auditor.secret, adminToken, sim.tokens.admin.secret]) {
      assert(!text.includes(secret), "a credential reached the audit log");
    }
    const records = text.trim().split("\n").map((l) => JSON.parse(l));
    assert(records.some((x) => x.principal === "device:ops" && x.tool === "guest_power" && x.phase === "intent"));
    assert(records.some((x) => x.principal === "device:ops" && x.decision === "rate_limited"));
    assert(records.some((x) => x.principal === `pve:${auditor.tokenId}` && x.phase === "auth"));
    assert(
      records.some((x) => x.phase === "auth" && x.decision === "denied" && x.principal === `pve:${auditor.tokenId}`),
    );
    assert(records.some((x) => x.client?.name === "stack"), "client name recorded");
  } finally {
    stop.abort();
    await served?.catch(() => {});
    await sim.close();
    await Deno.remove(dir, { recursive: true });
  }
});
