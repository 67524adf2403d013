/**
 * Self-signed TLS material for the simulator, made at start in TypeScript: `node:crypto` for the P-256 keys and
 * signatures (synchronous, ~2 ms; Web Crypto's first call costs ~60 ms of lazy start-up in Deno) and a tiny DER
 * encoder for the certificates.
 *
 * Like a Proxmox VE node it has two certificates: a CA (`pve-root-ca.pem`, basicConstraints CA) and a server
 * certificate signed by it (`pve-ssl.pem`, subjectAltName DNS:localhost + IP:127.0.0.1 + the extra names). Clients trust
 * `caCertPem` as their CA file, or pin `fingerprint` (SHA-256 of the server certificate, as `GET /nodes` reports it).
 * Using a CA plus a leaf, rather than one certificate that is both, keeps strict verifiers (rustls/webpki reject a CA
 * certificate used as the end entity) and OpenSSL-based clients happy alike.
 * @module
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { bitString, bool, explicit, implicit, int, octets, oid, pem, seq, set, time, uint, utf8 } from "./der.ts";

/** TLS material handed to `Deno.serve` and to clients. */
export interface SimCertificate {
  /** Server certificate followed by the CA certificate (PEM), for `Deno.serve({cert})`. */
  certPem: string;
  /** PKCS#8 private key of the server certificate (PEM), for `Deno.serve({key})`. */
  keyPem: string;
  /** The CA certificate (PEM): use as the client's CA file. */
  caCertPem: string;
  /** SHA-256 of the server certificate's DER, upper-case hex pairs joined by `:` (PVE's `ssl_fingerprint` form). */
  fingerprint: string;
  /** The same digest of the CA certificate. */
  caFingerprint: string;
}

/** Options of {@linkcode generateCertificate}. */
export interface CertificateOptions {
  /** Extra DNS names for the server certificate (localhost is always present). */
  dnsNames?: string[];
  /** Extra IP addresses (v4 dotted or v6) for the server certificate (127.0.0.1 and ::1 are always present). */
  ipAddresses?: string[];
  /** Common name of the server certificate; default `localhost`. */
  commonName?: string;
  /** Validity start; default one day before now (clock skew). */
  notBefore?: Date;
  /** Validity in days; default 825. */
  days?: number;
}

const ECDSA_WITH_SHA256 = seq(oid("1.2.840.10045.4.3.2"));

function name(cn: string, org: string): Uint8Array {
  return seq(
    set(seq(oid("2.5.4.10"), utf8(org))), // O
    set(seq(oid("2.5.4.3"), utf8(cn))), // CN
  );
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

function ipBytes(ip: string): Uint8Array {
  if (ip.includes(":")) {
    const [head = "", tail = ""] = ip.split("::");
    const h = head ? head.split(":") : [];
    const t = tail ? tail.split(":") : [];
    const groups = ip.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
    const out = new Uint8Array(16);
    groups.forEach((g, i) => {
      const v = parseInt(g, 16);
      out[i * 2] = v >> 8;
      out[i * 2 + 1] = v & 0xff;
    });
    return out;
  }
  return Uint8Array.from(ip.split(".").map(Number));
}

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(data).digest());
}

/** Formats a digest as `AA:BB:...`. */
export function formatFingerprint(digest: Uint8Array): string {
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
}

function keyIdentifier(spki: Uint8Array): Uint8Array {
  return sha256(spki).subarray(0, 20);
}

interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

interface Signer {
  key: KeyObject;
  subject: Uint8Array;
  keyId: Uint8Array;
}

function issue(
  signer: Signer | undefined,
  pair: KeyPair,
  subject: Uint8Array,
  extensions: Uint8Array[],
  notBefore: Date,
  notAfter: Date,
): { der: Uint8Array; keyId: Uint8Array } {
  const spki = new Uint8Array(pair.publicKey.export({ type: "spki", format: "der" }));
  const keyId = keyIdentifier(spki);
  const serial = new Uint8Array(randomBytes(16));
  serial[0] = (serial[0] ?? 0) & 0x7f | 0x01;
  const issuer = signer?.subject ?? subject;
  const authorityKeyId = signer?.keyId ?? keyId;
  const tbs = seq(
    explicit(0, int(2)), // v3
    uint(serial),
    ECDSA_WITH_SHA256,
    issuer,
    seq(time(notBefore), time(notAfter)),
    subject,
    spki,
    explicit(
      3,
      seq(
        ...extensions,
        extension("2.5.29.14", false, octets(keyId)), // subjectKeyIdentifier
        extension("2.5.29.35", false, seq(implicit(0, authorityKeyId))), // authorityKeyIdentifier
      ),
    ),
  );
  const signingKey = signer?.key ?? pair.privateKey;
  // node:crypto signs ECDSA in DER (SEQUENCE { r, s }), which is what X.509 wants.
  const signature = new Uint8Array(sign("sha256", tbs, { key: signingKey, dsaEncoding: "der" }));
  return { der: seq(tbs, ECDSA_WITH_SHA256, bitString(signature)), keyId };
}

/**
 * Generates a fresh CA and a server certificate signed by it (ECDSA P-256, SHA-256).
 * Takes a few milliseconds; nothing is written to disk. (Async so the implementation may change freely.)
 */
// deno-lint-ignore require-await
export async function generateCertificate(opts: CertificateOptions = {}): Promise<SimCertificate> {
  const notBefore = opts.notBefore ?? new Date(Date.now() - 86_400_000);
  const notAfter = new Date(notBefore.getTime() + (opts.days ?? 825) * 86_400_000);
  const caPair = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const leafPair = generateKeyPairSync("ec", { namedCurve: "P-256" });

  const caSubject = name("pve-mcp simulator CA", "PVE Cluster Manager CA");
  const ca = issue(
    undefined,
    caPair,
    caSubject,
    [
      extension("2.5.29.19", true, seq(bool(true))), // basicConstraints: CA
      extension("2.5.29.15", true, bitString(Uint8Array.of(0x06), 1)), // keyUsage: keyCertSign, cRLSign
    ],
    notBefore,
    notAfter,
  );

  const dns = ["localhost", ...(opts.dnsNames ?? [])];
  const ips = ["127.0.0.1", "::1", ...(opts.ipAddresses ?? [])];
  const san = seq(
    ...[...new Set(dns)].map((d) => implicit(2, new TextEncoder().encode(d))),
    ...[...new Set(ips)].map((ip) => implicit(7, ipBytes(ip))),
  );
  const leaf = issue(
    { key: caPair.privateKey, subject: caSubject, keyId: ca.keyId },
    leafPair,
    name(opts.commonName ?? "localhost", "PVE Cluster Node"),
    [
      extension("2.5.29.19", true, seq()), // basicConstraints: not a CA
      extension("2.5.29.15", true, bitString(Uint8Array.of(0x80), 7)), // keyUsage: digitalSignature
      extension("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"))), // extKeyUsage: serverAuth
      extension("2.5.29.17", false, san), // subjectAltName
    ],
    notBefore,
    notAfter,
  );

  const pkcs8 = new Uint8Array(leafPair.privateKey.export({ type: "pkcs8", format: "der" }));
  const caCertPem = pem("CERTIFICATE", ca.der);
  return {
    certPem: pem("CERTIFICATE", leaf.der) + caCertPem,
    keyPem: pem("PRIVATE KEY", pkcs8),
    caCertPem,
    fingerprint: formatFingerprint(sha256(leaf.der)),
    caFingerprint: formatFingerprint(sha256(ca.der)),
  };
}

/** Decodes the first certificate of a PEM bundle to DER (for fingerprint checks in tests and tools). */
export function pemToDer(pemText: string): Uint8Array {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pemText);
  if (!m?.[1]) throw new Error("Cannot decode certificate: no PEM CERTIFICATE block found");
  const bin = atob(m[1].replace(/\s+/g, ""));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** SHA-256 fingerprint (`AA:BB:...`) of the first certificate in a PEM bundle. */
export function fingerprintOf(pemText: string): string {
  return formatFingerprint(sha256(pemToDer(pemText)));
}
