/**
 * The interactive latency budget of the PVE client: a connect timeout enforced beside `fetch`, a deadline over all
 * attempts of one request, and the attempt count in the final message.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { createPveClient, type PveClientOptions } from "../../src/pve/client.ts";
import type { PveCallRecord } from "../../src/pve/types.ts";
import { caught, fakeSleep, ok, silentListener, startFakePve, testCert } from "./fake_pve.ts";

const TOKEN = { tokenId: "monitor@pve!mcp", tokenSecret: "11111111-2222-3333-4444-555555555555" };

async function clientFor(port: number, extra: Partial<PveClientOptions>) {
  const cert = await testCert();
  return createPveClient({ host: "127.0.0.1", port, tls: { caCertPem: cert.caCertPem }, auth: TOKEN, ...extra });
}

Deno.test("deadline: a host that accepts and never answers stops retries at the deadline; attempts counted", async () => {
  const silent = silentListener();
  const calls: PveCallRecord[] = [];
  const { sleep } = fakeSleep();
  const client = await clientFor(silent.port, {
    sleep,
    timeoutMs: 100,
    deadlineMs: 2_000,
    retries: 100,
    backoff: { baseMs: 1, maxMs: 1 },
    onCall: (r) => calls.push(r),
  });
  try {
    const e = await caught(client.request({ method: "GET", path: "/cluster/resources" }));
    assertEquals(e.kind, "timeout");
    assert(calls.length >= 2 && calls.length < 101, `the deadline should end the retries: ${calls.length} attempts`);
    assert(e.message.includes(`GET /cluster/resources on 127.0.0.1:${silent.port}`), e.message);
    assert(e.message.includes(`(${calls.length} attempts in `), e.message);
    // The last attempt ends at its own timeout or, cut short, at the request's deadline: the message says which.
    assert(/timed out after 100 ms|no answer within the request's deadline of 2 s/.test(e.message), e.message);
  } finally {
    client.close();
    silent.close();
  }
});

Deno.test("connect timeout: no TCP connection in time aborts the attempt with 'could not connect', GET retried once", async () => {
  const silent = silentListener();
  const checks: { host: string; port: number; signal: AbortSignal }[] = [];
  // A blackholed connect: never completes until aborted.
  const connect = (host: string, port: number, signal: AbortSignal) => {
    checks.push({ host, port, signal });
    return new Promise<void>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
  };
  const { sleep } = fakeSleep();
  const client = await clientFor(silent.port, { sleep, connect, connectTimeoutMs: 100, timeoutMs: 60_000 });
  try {
    const e = await caught(client.request({ method: "GET", path: "/version" }));
    assertEquals(e.kind, "timeout");
    assert(e.message.includes(`could not connect to 127.0.0.1:${silent.port} within 100 ms`), e.message);
    assert(e.message.includes("(2 attempts in "), e.message);
    assertEquals(checks.map((c) => [c.host, c.port]), [["127.0.0.1", silent.port], ["127.0.0.1", silent.port]]);
    assert(checks.every((c) => c.signal.aborted), "every connect check is stopped");
    // A write is never retried.
    const w = await caught(client.request({ method: "POST", path: "/nodes/pve1/qemu/100/status/start" }));
    assert(w.message.includes("could not connect") && !w.message.includes("attempts"), w.message);
  } finally {
    client.close();
    silent.close();
  }
});

Deno.test("connect check: only while no answer came recently; a failed check is left to the request", async () => {
  const pve = await startFakePve(() => ok("fine"));
  let checks = 0;
  const connect = () => {
    checks++;
    return Promise.reject(new Error("refused"));
  };
  const client = await clientFor(pve.port, { connect, connectTimeoutMs: 100 });
  try {
    for (let i = 0; i < 3; i++) assertEquals((await client.request({ method: "GET", path: "/version" })).data, "fine");
    assertEquals(checks, 1);
  } finally {
    client.close();
    await pve.close();
  }
});
