import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  notStrictEqual as assertNotEquals,
  ok as assert,
  rejects as assertRejects,
} from "node:assert/strict";
import { fingerprintOf, generateCertificate, pemToDer } from "../../src/sim/cert.ts";
import { int, oid, seq, time, uint } from "../../src/sim/der.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("der: known encodings", () => {
  assertEquals(hex(oid("1.2.840.10045.4.3.2")), "06082a8648ce3d040302");
  assertEquals(hex(oid("2.5.29.17")), "0603551d11");
  assertEquals(hex(int(2)), "020102");
  assertEquals(hex(uint(Uint8Array.of(0x80, 1))), "0203008001"); // sign byte added
  assertEquals(hex(uint(Uint8Array.of(0, 0, 5))), "020105"); // leading zeros stripped
  assertEquals(hex(seq(new Uint8Array(200))).slice(0, 6), "3081c8"); // long-form length
  assertEquals(new TextDecoder().decode(time(new Date("2030-01-02T03:04:05Z")).subarray(2)), "300102030405Z");
  assertEquals(new TextDecoder().decode(time(new Date("2051-01-02T03:04:05Z")).subarray(2)), "20510102030405Z");
});

Deno.test("cert: Deno.serve accepts it and a client trusting the CA verifies it", async () => {
  const cert = await generateCertificate();
  assertMatch(cert.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assertEquals(fingerprintOf(cert.certPem), cert.fingerprint);
  assertEquals(fingerprintOf(cert.caCertPem), cert.caFingerprint);
  assertNotEquals(cert.fingerprint, cert.caFingerprint);
  assert(cert.keyPem.startsWith("-----BEGIN PRIVATE KEY-----\n"));

  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", cert: cert.certPem, key: cert.keyPem, onListen() {} },
    () => new Response("ok"),
  );
  const client = Deno.createHttpClient({ caCerts: [cert.caCertPem] });
  const stranger = Deno.createHttpClient({ caCerts: [(await generateCertificate()).caCertPem] });
  try {
    for (const host of ["127.0.0.1", "localhost"]) {
      const res = await fetch(`https://${host}:${server.addr.port}/`, { client });
      assertEquals(await res.text(), "ok");
    }
    // A client trusting another CA must refuse the connection.
    await assertRejects(() => fetch(`https://127.0.0.1:${server.addr.port}/`, { client: stranger }));
  } finally {
    client.close();
    stranger.close();
    await server.shutdown();
  }
});

Deno.test("cert: each call makes new keys; DER round-trips from PEM", async () => {
  const a = await generateCertificate({ dnsNames: ["pve1.example"], ipAddresses: ["10.0.0.5"] });
  const b = await generateCertificate();
  assertNotEquals(a.fingerprint, b.fingerprint);
  const der = pemToDer(a.certPem);
  assertEquals(der[0], 0x30);
  // The extra names land in the subjectAltName.
  const text = new TextDecoder("latin1").decode(der);
  assert(text.includes("pve1.example"));
  assert(hex(der).includes("87040a000005")); // [7] IP 10.0.0.5
});
