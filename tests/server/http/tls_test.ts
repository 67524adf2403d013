import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { generateCertificate } from "../../../src/sim/cert.ts";
import { INIT_BODY, mcpHeaders, startTestServer } from "./helpers.ts";

Deno.test("HTTPS listener: serves MCP over TLS with the configured certificate", async () => {
  const cert = await generateCertificate();
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-tls-" });
  await Deno.writeTextFile(`${dir}/cert.pem`, cert.certPem);
  await Deno.writeTextFile(`${dir}/key.pem`, cert.keyPem);
  const t = await startTestServer({ tlsCertFile: `${dir}/cert.pem`, tlsKeyFile: `${dir}/key.pem` });
  const httpClient = Deno.createHttpClient({ caCerts: [cert.caCertPem] });
  try {
    assert(t.server.url.startsWith("https://127.0.0.1:"), t.server.url);
    const { token } = await t.devices.add({ name: "tls" });
    const r = await fetch(t.server.url, {
      method: "POST",
      headers: mcpHeaders({ authorization: `Bearer ${token}` }),
      body: INIT_BODY,
      client: httpClient,
    });
    assertEquals(r.status, 200, await r.clone().text());
    await r.body?.cancel();
    const c = new Client({ name: "tls", version: "1" });
    await c.connect(
      new StreamableHTTPClientTransport(new URL(t.server.url), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
        fetch: (url, init) => fetch(url, { ...init, client: httpClient }),
      }),
    );
    assertEquals((await c.listTools()).tools.map((x) => x.name), ["whoami"]);
    await c.close();
  } finally {
    httpClient.close();
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});
