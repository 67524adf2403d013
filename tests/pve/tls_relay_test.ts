/**
 * The fingerprint-pinning relay serves this process only: a request without its per-start secret (another local
 * process) is refused before any connection to PVE is opened; the secret never reaches PVE.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { createPveClient } from "../../src/pve/client.ts";
import { RELAY_AUTH_HEADER, TlsRelay } from "../../src/pve/tls_relay.ts";
import { rawResponse, startRawTlsServer } from "./fake_pve.ts";

/** Sends raw bytes to the relay as another local process would; returns everything it answers. */
async function exchange(port: number, request: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  // Only a broken relay keeps the connection open this long; then the test fails on what reached PVE, not by hanging.
  const stuck = setTimeout(() => conn.close(), 15_000);
  await conn.write(new TextEncoder().encode(request));
  let out = "";
  const buf = new Uint8Array(4096);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      out += new TextDecoder().decode(buf.subarray(0, n));
    }
  } catch {
    // reset by the relay: what was read so far is the answer
  } finally {
    clearTimeout(stuck);
    try {
      conn.close();
    } catch { /* already closed */ }
  }
  return out;
}

Deno.test("TLS relay: requests without the per-start secret get nothing forwarded, not even a connection", async () => {
  const raw = await startRawTlsServer(() => rawResponse("200 OK", '{"data":"forwarded"}'));
  const relay = new TlsRelay({ host: raw.host, port: raw.port, check: () => undefined, connectTimeoutMs: 5000 });
  try {
    const port = await relay.start();
    const [name, secret] = relay.authHeader;
    assertEquals(name, RELAY_AUTH_HEADER);
    const target = `http://${raw.host}:${raw.port}/api2/json/access/users`;
    const auth = "authorization: PVEAPIToken=root@pam!stolen=00000000-0000-0000-0000-000000000000";
    for (
      const extra of ["", `${RELAY_AUTH_HEADER}: guess\r\n`, `${RELAY_AUTH_HEADER}: ${secret.slice(0, -1)}x\r\n`]
    ) {
      const answer = await exchange(port, `GET ${target} HTTP/1.1\r\nhost: pve\r\n${extra}${auth}\r\n\r\n`);
      assert(answer.startsWith("HTTP/1.1 403 "), answer);
    }
    assertEquals(raw.received.length, 0, "the relay opened a connection to PVE for a foreign request");
    assertEquals(raw.requests.length, 0);

    // With the secret the request is forwarded, without the secret header.
    const ok = await exchange(port, `GET ${target} HTTP/1.1\r\nhost: pve\r\n${name}: ${secret}\r\n\r\n`);
    assert(ok.startsWith("HTTP/1.1 200 "), ok);
    assertEquals(raw.requests.length, 1);
    assert(!raw.requests[0]!.toLowerCase().includes(RELAY_AUTH_HEADER) && !raw.requests[0]!.includes(secret));
  } finally {
    relay.close();
    await raw.close();
  }
});

Deno.test("TLS relay: an unauthenticated request on an authenticated connection is not forwarded", async () => {
  // This server keeps reading after the first request, so anything forwarded later shows up in `requests`.
  const raw = await startRawTlsServer(() => ({ hang: true }));
  const relay = new TlsRelay({ host: raw.host, port: raw.port, check: () => undefined, connectTimeoutMs: 5000 });
  try {
    const port = await relay.start();
    const [name, secret] = relay.authHeader;
    const target = `http://${raw.host}:${raw.port}/api2/json/version`;
    await exchange(
      port,
      `GET ${target} HTTP/1.1\r\nhost: pve\r\n${name}: ${secret}\r\n\r\nGET ${target}?again HTTP/1.1\r\nhost: pve\r\n\r\n`,
    );
  } finally {
    relay.close();
    await raw.close();
  }
  assert(raw.requests.length >= 1, "the authenticated request was forwarded");
  assert(!raw.requests.some((r) => r.includes("again")), "the unauthenticated request was forwarded");
});

Deno.test("TLS relay: the PVE client sends the secret, PVE never sees it", async () => {
  const raw = await startRawTlsServer(() => rawResponse("200 OK", '{"data":"ok"}'));
  const c = createPveClient({
    host: raw.host,
    port: raw.port,
    tls: { fingerprint: raw.cert.fingerprint },
    auth: { tokenId: "monitor@pve!mcp", tokenSecret: "11111111-2222-3333-4444-555555555555" },
    retries: 0,
  });
  try {
    assertEquals((await c.request({ method: "GET", path: "/version" })).data, "ok");
    assertEquals(raw.requests.length, 1);
    assert(!raw.requests[0]!.toLowerCase().includes(RELAY_AUTH_HEADER), raw.requests[0]);
  } finally {
    c.close();
    await raw.close();
  }
});
