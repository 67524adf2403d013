/**
 * How the PVE client reaches the server over TLS. Three modes, like Proxmox's own client:
 *
 * - `verify` (default): normal CA + host name verification by `Deno.createHttpClient`, with an optional extra CA
 *   (`caFile` / `caCertPem`, e.g. the cluster's pve-root-ca.pem) added to the trusted roots.
 * - `pinned` (a `fingerprint` is configured): the SHA-256 fingerprint of the server's leaf certificate must match;
 *   chain and host name are not checked (apiclient's rule). Done by the loopback {@linkcode TlsRelay}, which checks
 *   every new connection before forwarding a byte.
 * - `insecure` (explicit opt-in only): no verification at all; logged as a warning when the client is created.
 * @module
 */
import { canonicalFingerprint } from "../crypto/encoding.ts";
import { createHash } from "node:crypto";
import * as tls from "node:tls";
import * as net from "node:net";
import { log } from "../log.ts";
import { PveError } from "./types.ts";
import { TlsRelay } from "./tls_relay.ts";

/** TLS settings of one cluster connection. */
export interface PveTlsOptions {
  /** PEM file with extra CA certificate(s) to trust, e.g. a copy of `/etc/pve/pve-root-ca.pem`. */
  caFile?: string;
  /** The same as PEM text. */
  caCertPem?: string;
  /**
   * SHA-256 fingerprint(s) of the server certificate, `AA:BB:…` (32 hex pairs; colons optional, case-insensitive).
   * Several may be separated by commas (e.g. during a certificate change). Wins over CA settings and `insecure`.
   */
  fingerprint?: string;
  /** Turn verification off. Only as an explicit choice; a warning is logged. */
  insecure?: boolean;
}

/** The verification mode in effect. */
export type TlsMode = "verify" | "pinned" | "insecure";

/** What the client needs to send a request: an HttpClient and the URL origin to address. */
export interface PveTransport {
  readonly mode: TlsMode;
  /**
   * Resolves once the transport can carry requests (starts the relay on first use); `headers` go on every request
   * (the relay's secret).
   */
  ready(): Promise<{ client: Deno.HttpClient; origin: string; headers?: Record<string, string> }>;
  /** Closes the HttpClient and the relay; in-flight requests fail. */
  close(): void;
}

/**
 * Normalises one SHA-256 fingerprint to PVE's form (upper-case hex pairs joined by `:`).
 * Throws a {@linkcode PveError} (`tls`) when it is not 32 bytes of hex.
 */
export function normalizeFingerprint(fp: string): string {
  const canonical = canonicalFingerprint(fp);
  if (canonical === undefined) {
    throw new PveError(
      "tls",
      `Invalid TLS fingerprint ${JSON.stringify(fp.slice(0, 120))}: expected the SHA-256 digest as 32 hex pairs ` +
        "joined by ':' (AA:BB:…), as `pvenode cert info` prints it",
    );
  }
  return canonical;
}

/** Parses a list of fingerprints separated by commas, semicolons or whitespace; each one normalised. */
export function parseFingerprints(spec: string): string[] {
  const parts = spec.split(/[,;\s]+/).filter((p) => p !== "");
  if (parts.length === 0) throw new PveError("tls", "Invalid TLS fingerprint: the setting is empty");
  return parts.map(normalizeFingerprint);
}

/** SHA-256 fingerprint of a DER certificate, in PVE's `AA:BB:…` form. */
export function certificateFingerprint(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("hex").toUpperCase().match(/../g)!.join(":");
}

/** The mode a set of options selects: a fingerprint pins; otherwise `insecure` if asked; otherwise verify. */
export function tlsModeOf(opts: PveTlsOptions): TlsMode {
  if (opts.fingerprint !== undefined && opts.fingerprint.trim() !== "") return "pinned";
  return opts.insecure ? "insecure" : "verify";
}

function readCa(opts: PveTlsOptions): string | undefined {
  if (opts.caCertPem !== undefined) return checkPem(opts.caCertPem, "caCertPem");
  if (opts.caFile === undefined) return undefined;
  let text: string;
  try {
    text = Deno.readTextFileSync(opts.caFile);
  } catch (e) {
    throw new PveError(
      "tls",
      `Cannot read the CA file "${opts.caFile}": ${e instanceof Error ? e.message : String(e)}; copy ` +
        "/etc/pve/pve-root-ca.pem from a cluster node and point caFile at it",
    );
  }
  return checkPem(text, `CA file "${opts.caFile}"`);
}

function checkPem(text: string, what: string): string {
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new PveError("tls", `The ${what} holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" line)`);
  }
  return text;
}

/**
 * The relay listens on, and the HttpClient connects to, 127.0.0.1 (ephemeral port). Under a narrowed `--allow-net`
 * node's listen would throw asynchronously (an uncaught error), so refuse up front with the fix.
 */
function checkRelayPermission(label: string, mode: TlsMode): void {
  const state = Deno.permissions.querySync({ name: "net", host: "127.0.0.1:0" }).state;
  if (state !== "granted") {
    throw new PveError(
      "connection",
      `Cannot use ${mode === "pinned" ? "fingerprint pinning" : "insecure TLS"} for ${label}: it runs a relay on ` +
        "127.0.0.1 (any port), which this process may not use; allow it (Deno: --allow-net=127.0.0.1,<pve host>) " +
        "or verify with a CA file instead",
    );
  }
}

/** `host` as it appears in a URL authority (IPv6 in brackets). */
export function urlHost(host: string): string {
  return net.isIPv6(host) ? `[${host}]` : host;
}

/**
 * Creates the transport for `host:port`. Reads the CA file synchronously; starts nothing on the network until the
 * first request. Throws a {@linkcode PveError} (`tls`) for a bad CA file or fingerprint.
 */
export function createTransport(
  host: string,
  port: number,
  opts: PveTlsOptions,
  connectTimeoutMs: number,
): PveTransport {
  const mode = tlsModeOf(opts);
  const label = `${urlHost(host)}:${port}`;
  if (mode === "verify") {
    const ca = readCa(opts);
    let client: Deno.HttpClient;
    try {
      client = Deno.createHttpClient({ ...(ca ? { caCerts: [ca] } : {}), http2: false });
    } catch (e) {
      throw new PveError(
        "tls",
        `Cannot use the CA certificate for ${label}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const origin = `https://${label}`;
    return { mode, ready: () => Promise.resolve({ client, origin }), close: () => client.close() };
  }

  checkRelayPermission(label, mode);
  let pins: Set<string> | undefined;
  if (mode === "pinned") {
    pins = new Set(parseFingerprints(opts.fingerprint!));
    if (opts.insecure || opts.caFile !== undefined || opts.caCertPem !== undefined) {
      log("pve").info("TLS fingerprint pinning is on for {host}; CA and insecure settings are ignored", {
        host: label,
      });
    }
  } else {
    log("pve").warn(
      "TLS verification is OFF for {host} (insecure mode): anyone on the network path can read and change the " +
        "traffic, including the credentials; configure a CA file or pin the certificate fingerprint instead",
      { host: label },
    );
  }
  const relay = new TlsRelay({
    host,
    port,
    connectTimeoutMs,
    check: (der) => {
      if (!pins) return undefined;
      if (!der) return "the server presented no certificate";
      const got = certificateFingerprint(der);
      if (pins.has(got)) return undefined;
      return `the server certificate of ${label} does not match the pinned fingerprint (it presents SHA-256 ${got}, ` +
        `expected ${[...pins].join(" or ")}); nothing was sent. If the certificate was renewed on purpose, update ` +
        "the fingerprint (`pvenode cert info`); otherwise the connection may be intercepted";
    },
  });
  let ready: Promise<{ client: Deno.HttpClient; origin: string; headers: Record<string, string> }> | undefined;
  let client: Deno.HttpClient | undefined;
  let closed = false;
  return {
    mode,
    ready() {
      if (closed) return Promise.reject(new Error("the PVE client is closed"));
      ready ??= relay.start().then((relayPort) => {
        if (closed) throw new Error("the PVE client is closed");
        client = Deno.createHttpClient({
          proxy: { transport: "tcp", hostname: "127.0.0.1", port: relayPort },
          http2: false,
        });
        // Plain HTTP to the relay, which does the TLS; the authority keeps the Host header right. The relay's
        // secret header proves each request comes from this process (the relay strips it).
        const [name, value] = relay.authHeader;
        return { client, origin: `http://${label}`, headers: { [name]: value } };
      });
      return ready;
    },
    close() {
      closed = true;
      client?.close();
      relay.close();
    },
  };
}

/** What {@linkcode probeCertificate} learns about a server certificate. */
export interface CertificateInfo {
  /** SHA-256 of the leaf, `AA:BB:…` — the value to pin. */
  fingerprint: string;
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  subjectAltNames: string;
  /** Whether the default trust store (plus `caCertPem`) accepted the chain and name. */
  trusted: boolean;
  trustError?: string;
}

function dn(x: unknown): string {
  if (!x || typeof x !== "object") return "";
  return Object.entries(x as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`).join(", ");
}

/**
 * Connects once, without sending anything, and reports the server certificate (for `doctor`: shows the fingerprint
 * to pin). Never use the result as a trust decision by itself.
 */
export function probeCertificate(
  host: string,
  port: number,
  opts: { timeoutMs?: number; caCertPem?: string } = {},
): Promise<CertificateInfo> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      ...(net.isIP(host) ? {} : { servername: host }),
      rejectUnauthorized: false,
      ...(opts.caCertPem ? { ca: opts.caCertPem } : {}),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new PveError("timeout", `No TLS handshake with ${urlHost(host)}:${port} within ${opts.timeoutMs ?? 10000} ms`),
      );
    }, opts.timeoutMs ?? 10000);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const c = socket.getPeerCertificate();
      const raw = (c as { raw?: Uint8Array }).raw;
      socket.destroy();
      if (!raw) {
        reject(new PveError("tls", `${urlHost(host)}:${port} presented no certificate`));
        return;
      }
      resolve({
        fingerprint: certificateFingerprint(new Uint8Array(raw)),
        subject: dn(c.subject),
        issuer: dn(c.issuer),
        validFrom: String(c.valid_from ?? ""),
        validTo: String(c.valid_to ?? ""),
        subjectAltNames: String(c.subjectaltname ?? ""),
        trusted: socket.authorized,
        ...(socket.authorized ? {} : { trustError: String(socket.authorizationError ?? "") }),
      });
    });
    socket.once("error", (e) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new PveError("connection", `Cannot open a TLS connection to ${urlHost(host)}:${port}: ${e.message}`));
    });
  });
}
