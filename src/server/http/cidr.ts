/**
 * IP networks (CIDR, IPv4 and IPv6) and client addresses: parse, match, and find the real client behind trusted
 * reverse proxies from `X-Forwarded-For`.
 * @module
 */

/** A parsed network: address bytes (4 or 16) and prefix length. */
export interface Network {
  bytes: Uint8Array;
  prefix: number;
  text: string;
}

function parseV4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255 || (p.length > 1 && p.startsWith("0"))) return undefined;
    out[i] = Number(p);
  }
  return out;
}

function parseV6(input: string): Uint8Array | undefined {
  let s = input;
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  let tail: Uint8Array | undefined;
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".") && lastColon >= 0) {
    tail = parseV4(s.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] === "" ? [] : (halves[0] as string).split(":");
  const rest = halves.length === 2 ? (halves[1] === "" ? [] : (halves[1] as string).split(":")) : [];
  const groups = halves.length === 2 ? [...head, ...Array(8 - head.length - rest.length).fill("0"), ...rest] : head;
  if (groups.length !== 8 || (halves.length === 2 && head.length + rest.length > 7)) return undefined;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i] as string;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  }
  if (tail !== undefined) out.set(tail, 12);
  return out;
}

/** Bytes of an IP address (IPv4 → 4 bytes, IPv6 → 16; IPv4-mapped IPv6 → 4), or undefined. Brackets allowed. */
export function parseIp(text: string): Uint8Array | undefined {
  const s = text.trim().replace(/^\[(.*)\]$/, "$1");
  if (s.includes(":")) {
    const v6 = parseV6(s);
    if (v6 === undefined) return undefined;
    const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
    return mapped ? v6.slice(12) : v6;
  }
  return parseV4(s);
}

/** Parses `10.0.0.0/8`, `fd00::/8` or a single address (full-length prefix). Throws a std-style error. */
export function parseNetwork(text: string): Network {
  const [addr = "", prefixText] = text.trim().split("/");
  const bytes = parseIp(addr);
  if (bytes === undefined) {
    throw new RangeError(`Invalid network "${text}": expected an IP address or CIDR such as 10.0.0.0/8`);
  }
  const max = bytes.length * 8;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (
    !Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))
  ) {
    throw new RangeError(`Invalid network "${text}": the prefix length must be 0..${max}`);
  }
  return { bytes, prefix, text };
}

/** Whether `ip` (bytes from {@linkcode parseIp}) lies in `net`. IPv4 never matches an IPv6 network and vice versa. */
export function inNetwork(ip: Uint8Array, net: Network): boolean {
  if (ip.length !== net.bytes.length) return false;
  let bits = net.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((ip[i] as number) & mask) !== ((net.bytes[i] as number) & mask)) return false;
  }
  return true;
}

/** A list of networks with a `contains(ipText)` test. */
export class NetworkList {
  readonly networks: Network[];
  constructor(cidrs: readonly string[]) {
    this.networks = cidrs.map(parseNetwork);
  }
  /** Whether the address is in any network of the list (false for unparsable addresses). */
  contains(ip: string): boolean {
    const bytes = parseIp(ip);
    return bytes !== undefined && this.networks.some((n) => inNetwork(bytes, n));
  }
  get size(): number {
    return this.networks.length;
  }
}

/**
 * The client address: the TCP peer, unless the peer is a trusted proxy; then `X-Forwarded-For` is walked from the
 * right, skipping trusted proxies, and the first untrusted address is the client. Without trusted proxies the
 * header is ignored entirely (anyone can send it).
 */
export function clientAddress(peer: string, forwardedFor: string | null, trusted: NetworkList): string {
  if (trusted.size === 0 || forwardedFor === null || !trusted.contains(peer)) return normalizeIp(peer);
  const hops = forwardedFor.split(",").map((h) => h.trim()).filter((h) => h.length > 0);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (parseIp(hop) === undefined) return normalizeIp(peer); // garbage in the chain: trust nothing of it
    if (!trusted.contains(hop)) return normalizeIp(hop);
  }
  return normalizeIp(hops[0] ?? peer);
}

/** A canonical text form (IPv4-mapped IPv6 becomes IPv4, brackets removed). */
export function normalizeIp(text: string): string {
  const bytes = parseIp(text);
  if (bytes === undefined) return text;
  if (bytes.length === 4) return bytes.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}
