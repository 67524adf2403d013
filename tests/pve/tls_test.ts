import { deepStrictEqual as assertEquals, ok as assert, throws as assertThrows } from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { createPveClient, type PveTlsOptions } from "../../src/pve/client.ts";
import {
  certificateFingerprint,
  normalizeFingerprint,
  parseFingerprints,
  probeCertificate,
  tlsModeOf,
} from "../../src/pve/tls.ts";
import { RELAY_AUTH_HEADER, rewriteRequestHead } from "../../src/pve/tls_relay.ts";
import { PveError } from "../../src/pve/types.ts";
import { pemToDer } from "../../src/sim/cert.ts";
import {
  caught,
  closedPort,
  fakeSleep,
  ok,
  otherTestCert,
  rawResponse,
  startFakePve,
  startRawTlsServer,
  testCert,
} from "./fake_pve.ts";

const SECRET = "aaaaaaaa-tls-canary-secret-dddddddddddd";
const TOKEN = { tokenId: "monitor@pve!mcp", tokenSecret: SECRET };

function client(target: { host: string; port: number }, tls: PveTlsOptions) {
  return createPveClient({ host: target.host, port: target.port, tls, auth: TOKEN, retries: 0 });
}

Deno.test("verify mode: the cluster CA (PEM text or file) is trusted", async () => {
  const pve = await startFakePve(() => ok("v"));
  const dir = await Deno.makeTempDir({ prefix: "pve_tls_" });
  const caFile = `${dir}/pve-root-ca.pem`;
  await Deno.writeTextFile(caFile, pve.cert.caCertPem);
  const a = client(pve, { caCertPem: pve.cert.caCertPem });
  const b = client(pve, { caFile });
  try {
    assertEquals(a.tlsMode, "verify");
    assertEquals((await a.request({ method: "GET", path: "/version" })).data, "v");
    assertEquals((await b.request({ method: "GET", path: "/version" })).data, "v");
  } finally {
    a.close();
    b.close();
    await pve.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verify mode without the CA: kind tls with advice, and the server never sees a request", async () => {
  const raw = await startRawTlsServer(() => rawResponse("200 OK", '{"data":1}'));
  const c = client(raw, {});
  try {
    const e = await caught(c.request({ method: "GET", path: "/version" }));
    assertEquals(e.kind, "tls");
    assert(e.message.includes(`GET /version on 127.0.0.1:${raw.port}`), e.message);
    assert(e.message.includes("CA file") && e.message.includes("fingerprint"), e.message);
    assertEquals(raw.requests.length, 0);
    assertEquals(raw.received.reduce((a, b) => a + b, 0), 0);
  } finally {
    c.close();
    await raw.close();
  }
});

Deno.test("verify mode with the wrong CA fails as tls", async () => {
  const pve = await startFakePve(() => ok(1));
  const other = await otherTestCert();
  const c = client(pve, { caCertPem: other.caCertPem });
  try {
    assertEquals((await caught(c.request({ method: "GET", path: "/version" }))).kind, "tls");
    assertEquals(pve.seen.length, 0);
  } finally {
    c.close();
    await pve.close();
  }
});

Deno.test("pinned mode: a matching leaf fingerprint works (any accepted spelling), connections are reused", async () => {
  const pve = await startFakePve(() => ok("pinned"));
  const fp = pve.cert.fingerprint;
  const spellings = [fp, fp.toLowerCase(), fp.replaceAll(":", ""), `${(await otherTestCert()).fingerprint}, ${fp}`];
  try {
    for (const fingerprint of spellings) {
      const c = client(pve, { fingerprint });
      try {
        assertEquals(c.tlsMode, "pinned");
        for (let i = 0; i < 3; i++) assertEquals((await c.request({ method: "GET", path: "/version" })).data, "pinned");
      } finally {
        c.close();
      }
    }
    // Three requests per client went over one upstream connection each.
    const ports = pve.seen.map((s) => s.remotePort);
    for (let i = 0; i < ports.length; i += 3) assertEquals(new Set(ports.slice(i, i + 3)).size, 1);
    assertEquals(pve.seen[0]!.headers.get("authorization"), `PVEAPIToken=${TOKEN.tokenId}=${SECRET}`);
  } finally {
    await pve.close();
  }
});

Deno.test("pinned mode: a mismatching certificate never receives a byte (no Authorization header)", async () => {
  const raw = await startRawTlsServer(() => rawResponse("200 OK", '{"data":1}'));
  const other = await otherTestCert();
  const { sleep, delays } = fakeSleep();
  const c = createPveClient({
    host: raw.host,
    port: raw.port,
    tls: { fingerprint: other.fingerprint, caCertPem: raw.cert.caCertPem }, // the pin wins over a CA that would pass
    auth: TOKEN,
    sleep,
  });
  try {
    for (const method of ["GET", "POST"] as const) {
      const e = await caught(c.request({ method, path: "/nodes/pve1/qemu/100/status/start" }));
      assertEquals(e.kind, "tls");
      assert(e.message.includes("does not match the pinned fingerprint"), e.message);
      assert(e.message.includes(raw.cert.fingerprint), "names the presented fingerprint");
      assert(e.message.includes(`${method} /nodes/pve1/qemu/100/status/start on 127.0.0.1:${raw.port}`), e.message);
      assert(!e.message.includes(SECRET));
    }
    assertEquals(delays, [], "a TLS failure is not retried");
    assert(raw.received.length >= 2, "the handshakes happened");
    assertEquals(raw.received.reduce((a, b) => a + b, 0), 0, "not one byte after the handshake");
    assertEquals(raw.requests, []);
  } finally {
    c.close();
    await raw.close();
  }
});

Deno.test({
  name: "pinned mode skips host name checks (like Proxmox's client); verify mode refuses the same server",
  ignore: Deno.build.os !== "linux", // 127.0.0.2 is a loopback address on Linux only
  async fn() {
    const pve = await startFakePve(() => ok("by pin"), { hostname: "127.0.0.2" });
    const pinned = client(pve, { fingerprint: pve.cert.fingerprint });
    const verified = client(pve, { caCertPem: pve.cert.caCertPem });
    try {
      assertEquals((await pinned.request({ method: "GET", path: "/version" })).data, "by pin");
      const e = await caught(verified.request({ method: "GET", path: "/version" }));
      assertEquals(e.kind, "tls");
      assert(e.message.includes("host name"), e.message);
    } finally {
      pinned.close();
      verified.close();
      await pve.close();
    }
  },
});

Deno.test("the relay sends origin-form request lines (pveproxy forwards the raw URI to other nodes)", async () => {
  const raw = await startRawTlsServer(() => rawResponse("200 OK", '{"data":"ok"}'));
  const c = client(raw, { fingerprint: raw.cert.fingerprint });
  try {
    await c.request({ method: "GET", path: "/nodes/pve2/status", params: { x: 1 } });
    await c.request({ method: "POST", path: "/nodes/pve2/qemu/100/status/start", params: { skiplock: true } });
    const [get, post] = raw.requests;
    assert(get!.startsWith("GET /api2/json/nodes/pve2/status?x=1 HTTP/1.1\r\n"), get);
    assert(post!.startsWith("POST /api2/json/nodes/pve2/qemu/100/status/start HTTP/1.1\r\n"), post);
    assert(post!.endsWith("\r\n\r\nskiplock=1"), post);
    assert(/\r\nhost: 127\.0\.0\.1:\d+\r\n/i.test(get!), "Host header kept");
  } finally {
    c.close();
    await raw.close();
  }
});

Deno.test("rewriteRequestHead: absolute → origin form, proxy headers and the relay secret dropped, chunked refused", () => {
  const yes = (v: string | undefined) => v === "s3cret";
  const auth = `\r\n${RELAY_AUTH_HEADER}: s3cret`;
  const r = rewriteRequestHead(
    `POST http://pve1:8006/api2/json/x?a=1 HTTP/1.1\r\nproxy-connection: keep-alive${auth}\r\ncontent-length: 12\r\nhost: pve1:8006`,
    yes,
  );
  assertEquals(r, { head: "POST /api2/json/x?a=1 HTTP/1.1\r\ncontent-length: 12\r\nhost: pve1:8006", bodyLength: 12 });
  assertEquals(rewriteRequestHead(`GET http://pve1:8006 HTTP/1.1${auth}`, yes).head, "GET / HTTP/1.1");
  assertEquals(rewriteRequestHead(`GET /already HTTP/1.1${auth}`, yes).head, "GET /already HTTP/1.1");
  assertThrows(() => rewriteRequestHead(`POST /x HTTP/1.1${auth}\r\ntransfer-encoding: chunked`, yes), /chunked/);
  assertThrows(() => rewriteRequestHead("garbage", yes), /malformed/);
  assertThrows(() => rewriteRequestHead(`GET / HTTP/1.1${auth}\r\ncontent-length: -1`, yes), /content-length/);
  // The secret: missing, wrong, or given twice.
  assertThrows(() => rewriteRequestHead("GET / HTTP/1.1", yes), /relay secret/);
  assertThrows(() => rewriteRequestHead(`GET / HTTP/1.1\r\n${RELAY_AUTH_HEADER}: guess`, yes), /relay secret/);
  assertThrows(() => rewriteRequestHead(`GET / HTTP/1.1${auth}\r\n${RELAY_AUTH_HEADER}: other`, yes), /relay secret/);
});

Deno.test("pinned mode: connection refused and timeouts upstream map to clear kinds", async () => {
  const port = closedPort();
  const c = client({ host: "127.0.0.1", port }, { fingerprint: (await testCert()).fingerprint });
  try {
    const e = await caught(c.request({ method: "GET", path: "/version" }));
    assertEquals(e.kind, "connection");
    assert(e.message.includes(`GET /version on 127.0.0.1:${port}`), e.message);
    assert(/refused/i.test(e.message), e.message);
  } finally {
    c.close();
  }
});

Deno.test("insecure mode works against an unknown CA and logs a warning when the client is created", async () => {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { mem: (r: LogRecord) => records.push(r) },
    loggers: [
      { category: ["pve-mcp"], lowestLevel: "debug", sinks: ["mem"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  const pve = await startFakePve(() => ok("insecure"));
  const c = client(pve, { insecure: true });
  try {
    assertEquals(c.tlsMode, "insecure");
    const warnings = records.filter((r) => r.level === "warning");
    assertEquals(warnings.length, 1);
    assert(warnings[0]!.message.join("").includes("TLS verification is OFF"));
    assertEquals((await c.request({ method: "GET", path: "/version" })).data, "insecure");
    assert(!JSON.stringify(records.map((r) => [r.message, r.properties])).includes(SECRET));
  } finally {
    c.close();
    await pve.close();
    await reset();
  }
});

Deno.test("tls mode selection and fingerprint parsing", async () => {
  assertEquals(tlsModeOf({}), "verify");
  assertEquals(tlsModeOf({ caFile: "x" }), "verify");
  assertEquals(tlsModeOf({ insecure: true }), "insecure");
  assertEquals(tlsModeOf({ insecure: true, fingerprint: "AA" }), "pinned");
  const fp = (await testCert()).fingerprint;
  assertEquals(normalizeFingerprint(fp.toLowerCase()), fp);
  assertEquals(normalizeFingerprint(`sha256:${fp.replaceAll(":", "")}`), fp);
  assertEquals(parseFingerprints(` ${fp} ;${fp.toLowerCase()}`), [fp, fp]);
  for (const bad of ["", "AA:BB", "ZZ".repeat(32), fp + ":00"]) {
    assertThrows(() => parseFingerprints(bad), (e: unknown) => e instanceof PveError && e.kind === "tls");
  }
  // The fingerprint is SHA-256 over the leaf's DER, as the simulator (and PVE's ssl_fingerprint) reports it.
  const leafPem = (await testCert()).certPem.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----";
  assertEquals(certificateFingerprint(pemToDer(leafPem)), fp);
});

Deno.test("bad TLS settings fail at creation: unreadable CA file, non-PEM CA, malformed fingerprint", () => {
  const cases: [PveTlsOptions, RegExp][] = [
    [{ caFile: "/nonexistent/pve-root-ca.pem" }, /Cannot read the CA file "\/nonexistent\/pve-root-ca.pem"/],
    [{ caCertPem: "not a pem" }, /holds no PEM certificate/],
    [{ fingerprint: "12:34" }, /Invalid TLS fingerprint/],
  ];
  for (const [tls, re] of cases) {
    assertThrows(
      () => createPveClient({ host: "pve1", tls, auth: TOKEN }),
      (e: unknown) => e instanceof PveError && e.kind === "tls" && re.test(e.message) && !e.message.includes(SECRET),
    );
  }
});

Deno.test("probeCertificate reports the fingerprint to pin without trusting it", async () => {
  const raw = await startRawTlsServer(() => ({ close: true }));
  try {
    const info = await probeCertificate(raw.host, raw.port, { timeoutMs: 5000 });
    assertEquals(info.fingerprint, raw.cert.fingerprint);
    assertEquals(info.trusted, false);
    assert(info.subjectAltNames.includes("127.0.0.1"), info.subjectAltNames);
    assertEquals(raw.requests, []);
  } finally {
    await raw.close();
  }
});

Deno.test("a process that never calls close() still exits promptly (relay and pool hold no event loop)", async () => {
  const pve = await startFakePve(() => ok("done"));
  const root = new URL("../../", import.meta.url);
  const code = (tls: PveTlsOptions) => `
    import { createPveClient } from "./src/pve/client.ts";
    const c = createPveClient({ host: "127.0.0.1", port: ${pve.port}, tls: ${JSON.stringify(tls)},
      auth: { tokenId: "monitor@pve!mcp", tokenSecret: "x-secret" } });
    await Promise.all([1, 2].map(() => c.request({ method: "GET", path: "/version" })));
    console.log((await c.request({ method: "GET", path: "/version" })).data);`;
  try {
    for (const tls of [{ fingerprint: pve.cert.fingerprint }, { insecure: true }] as PveTlsOptions[]) {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["eval", "--quiet", code(tls)],
        cwd: root,
        stdout: "piped",
        stderr: "piped",
        env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
      }).spawn();
      const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const out = await child.output();
      clearTimeout(killer);
      assertEquals(
        [out.code, new TextDecoder().decode(out.stdout).trim()],
        [0, "done"],
        new TextDecoder().decode(out.stderr),
      );
    }
  } finally {
    await pve.close();
  }
});

Deno.test("without net permission for 127.0.0.1 the pinned client fails at creation with the fix (no crash)", async () => {
  const root = new URL("../../", import.meta.url);
  const dir = await Deno.makeTempDir({ prefix: "pve_perm_" });
  const script = `${dir}/probe.ts`;
  await Deno.writeTextFile(
    script,
    `import { createPveClient } from ${JSON.stringify(new URL("src/pve/client.ts", root).href)};
    try {
      createPveClient({ host: "pve1.example.com", tls: { fingerprint: ${
      JSON.stringify((await testCert()).fingerprint)
    } },
        auth: { tokenId: "monitor@pve!mcp", tokenSecret: "x-secret" } });
      console.log("created");
    } catch (e) { console.log(e.kind + ": " + e.message); }`,
  );
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        "--config",
        new URL("deno.json", root).pathname,
        "--allow-read",
        "--allow-env",
        "--allow-net=pve1.example.com:8006",
        script,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    assert(text.startsWith("connection: Cannot use fingerprint pinning for pve1.example.com:8006"), text);
    assert(text.includes("--allow-net=127.0.0.1"), text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
