/**
 * `audit_recent` over HTTP is not a side channel: a device sees its own records, a device with the admin cap sees
 * everyone's, a PVE-token client is its own principal. Real serveHttp, real SDK clients, the simulator over HTTPS.
 */
import { ok as assert } from "node:assert/strict";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { loadConfig } from "../../../src/config/load.ts";
import { serveHttp } from "../../../src/server/http/serve_http.ts";
import { DeviceTokenStore } from "../../../src/auth/device_tokens.ts";
import { startSimulator } from "../../../src/sim/mod.ts";

interface Row {
  principal: string;
  tool?: string;
}

async function connect(url: string, authorization: string): Promise<Client> {
  const c = new Client({ name: "scope", version: "1" });
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization } } }));
  return c;
}

async function recent(c: Client, args: Record<string, unknown> = {}): Promise<{ rows: Row[]; scope: string }> {
  const r = await c.callTool({ name: "audit_recent", arguments: { limit: 200, ...args } }) as {
    isError?: boolean;
    content: { text: string }[];
    structuredContent?: { records: Row[]; scope: string };
  };
  assert(!r.isError && r.structuredContent, r.content[0]?.text);
  return { rows: r.structuredContent.records, scope: r.structuredContent.scope };
}

Deno.test("audit_recent over HTTP: device B cannot see device A's records; an admin-capped device can", async () => {
  const sim = await startSimulator({ nodes: 1, guests: 4 });
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-audit-scope-" });
  const stop = new AbortController();
  let served: Promise<void> | undefined;
  try {
    await Deno.writeTextFile(`${dir}/ca.pem`, sim.caCertPem);
    const config = await loadConfig({
      env: {
        PROXMOX_HOST: "127.0.0.1",
        PROXMOX_PORT: String(sim.port),
        PROXMOX_TOKEN_ID: sim.tokens.admin.tokenId,
        PROXMOX_TOKEN_SECRET: sim.tokens.admin.secret,
        PROXMOX_CA_FILE: `${dir}/ca.pem`,
        PROXMOX_MCP_MODE: "admin",
        PROXMOX_MCP_TOOLSETS: "guests,audit",
        PROXMOX_MCP_HTTP_PORT: "0",
        PROXMOX_MCP_ADMIN_PORT: "0",
        PROXMOX_MCP_HTTP_TOKENS_FILE: `${dir}/tokens.json`,
        PROXMOX_MCP_HTTP_PVE_TOKEN_MODE: "true",
        PROXMOX_MCP_AUDIT_PATH: `${dir}/audit`,
        PROXMOX_MCP_LOG_LEVEL: "error",
        HOME: dir,
      },
      cwd: dir,
      scrubEnv: false,
    });
    const devices = new DeviceTokenStore({ path: `${dir}/tokens.json` });
    const a = await devices.add({ name: "alice" });
    const b = await devices.add({ name: "bob", mode: "operator" });
    const admin = await devices.add({ name: "root", mode: "admin" });
    const ready = Promise.withResolvers<{ mcp: string; admin: string }>();
    served = serveHttp(config, { signal: stop.signal, onReady: ready.resolve, keepLogging: true });
    const urls = await Promise.race([ready.promise, served.then(() => Promise.reject(new Error("server stopped")))]);

    const alice = await connect(urls.mcp, `Bearer ${a.token}`);
    assert(!((await alice.callTool({ name: "guest_list", arguments: {} })) as { isError?: boolean }).isError);
    await alice.close();

    const bob = await connect(urls.mcp, `Bearer ${b.token}`);
    await bob.callTool({ name: "guest_list", arguments: {} });
    const own = await recent(bob);
    assert(own.scope === "own", own.scope);
    assert(own.rows.some((r) => r.tool === "guest_list"), "B sees its own call");
    assert(own.rows.every((r) => r.principal === "device:bob"), `B saw: ${JSON.stringify(own.rows)}`);
    const asked = await recent(bob, { principal: "device:alice" });
    assert(asked.rows.length === 0, `B read A's records by asking: ${JSON.stringify(asked.rows)}`);
    await bob.close();

    // A PVE-token client is its own principal and has no admin capability here either.
    const auditor = sim.tokens.auditor;
    const pve = await connect(urls.mcp, `PVEAPIToken=${auditor.tokenId}=${auditor.secret}`);
    const pveRows = await recent(pve);
    assert(pveRows.scope === "own");
    assert(pveRows.rows.every((r) => r.principal === `pve:${auditor.tokenId}`), JSON.stringify(pveRows.rows));
    await pve.close();

    // The records are there: a device issued with the admin cap sees both.
    const root = await connect(urls.mcp, `Bearer ${admin.token}`);
    const everything = await recent(root);
    assert(everything.scope === "all");
    const principals = new Set(everything.rows.map((r) => r.principal));
    assert(principals.has("device:alice") && principals.has("device:bob"), [...principals].join(", "));
    await root.close();
  } finally {
    stop.abort();
    await served?.catch(() => {});
    await sim.close();
    await Deno.remove(dir, { recursive: true });
  }
});
