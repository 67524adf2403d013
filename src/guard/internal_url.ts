/**
 * Addresses a Proxmox node must not be asked to fetch from on the model's behalf: loopback, link-local, "this host"
 * and the cloud metadata services (169.254.169.254, fd00:ec2::254, 100.100.100.200, metadata host names). Hosts are
 * normalised by the WHATWG URL parser first, so `http://2852039166/`, `http://0xa9.0xfe.0xa9.0xfe/` and
 * `[::ffff:169.254.169.254]` are recognised. A name that resolves to such an address on the node cannot be seen
 * from here; the operator's `policy.allowInternalUrls` lifts the check.
 * @module
 */

const METADATA_NAMES = new Set([
  "localhost",
  "metadata",
  "metadata.google.internal",
  "metadata.azure.internal",
  "instance-data",
  "instance-data.ec2.internal",
]);

/** Why an IPv4 address (dotted quad) is internal, or undefined. */
function internalV4(ip: string): string | undefined {
  const o = ip.split(".").map(Number);
  if (o.length !== 4 || o.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) return undefined;
  const [a, b, c, d] = o as [number, number, number, number];
  if (a === 127) return "a loopback address";
  if (a === 0) return 'a "this host" address';
  if (a === 169 && b === 254) return "a link-local address (cloud metadata lives at 169.254.169.254)";
  if (a === 100 && b === 100 && c === 100 && d === 200) return "a cloud metadata address";
  return undefined;
}

/** Why an IPv6 address (without brackets, as the URL parser prints it) is internal, or undefined. */
function internalV6(ip: string): string | undefined {
  const v = ip.toLowerCase();
  if (v === "::1") return "a loopback address";
  if (v === "::") return 'a "this host" address';
  if (/^fe[89ab][0-9a-f]?:/.test(v)) return "a link-local address";
  if (v === "fd00:ec2::254") return "a cloud metadata address";
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v);
  if (mapped) {
    const hi = parseInt(mapped[1]!, 16), lo = parseInt(mapped[2]!, 16);
    return internalV4(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v);
  return dotted ? internalV4(dotted[1]!) : undefined;
}

/** Why a host name (as the URL parser normalised it) is internal, or undefined. */
export function internalHost(hostname: string): string | undefined {
  const h = hostname.toLowerCase().replace(/\.$/, "");
  if (h.startsWith("[") && h.endsWith("]")) return internalV6(h.slice(1, -1));
  if (/^\d+\.\d+\.\d+\.\d+$/.test(h)) return internalV4(h);
  if (METADATA_NAMES.has(h) || h.endsWith(".localhost")) return "a loopback or cloud metadata host name";
  return undefined;
}

/** Why PVE must not fetch from the URL `value`, or undefined when it may. Only http, https and ftp are accepted. */
export function internalUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value.slice(0, 80)}" is not a URL`;
  }
  if (!["http:", "https:", "ftp:"].includes(url.protocol)) return `the ${url.protocol} scheme is not allowed`;
  const why = internalHost(url.hostname);
  return why === undefined ? undefined : `${url.hostname} is ${why}`;
}

/**
 * Why PVE must not connect to the host `value` names — a bare host (`smtp.example.com`, `10.0.0.5:25`) or an OCI
 * reference whose first component is a registry (`registry:5000/img:tag`; `alpine:latest` is Docker Hub) — or
 * undefined when it may.
 */
export function internalHostRef(value: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return internalUrl(value);
  const first = value.split("/")[0] ?? "";
  if (value.includes("/") && !/[.:]/.test(first) && first !== "localhost") return undefined; // Docker Hub path
  let url: URL;
  try {
    url = new URL(`http://${first}`);
  } catch {
    return value.includes("/") ? `"${first.slice(0, 80)}" is not a host` : undefined; // `alpine:latest`
  }
  const why = internalHost(url.hostname);
  return why === undefined ? undefined : `${url.hostname} is ${why}`;
}
