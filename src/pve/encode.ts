/**
 * Wire encoding of PVE requests: safe path segments, form/query parameters (booleans as 0/1, arrays as repeated keys).
 * @module
 */
import { isSecretOrKeyMaterial } from "../guard/secret_keys.ts";
import { PveError, type PveParamValue } from "./types.ts";

/** Characters allowed unescaped in a path segment (RFC 3986 pchar without `%`). */
const PCHAR = /[A-Za-z0-9\-._~!$&'()*+,;=:@]/;
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Builds a request path from raw segments, percent-encoding each one (`:` `@` `!` in UPIDs and user ids included,
 * which PVE unescapes before routing). Throws when a segment is empty, `.` or `..`, or holds `/` or control characters,
 * so a tool argument can never reach another endpoint.
 *
 * @example pvePath("nodes", node, "tasks", upid, "status") // "/nodes/pve1/tasks/UPID%3Apve1%3A.../status"
 */
export function pvePath(...segments: (string | number)[]): string {
  return "/" + segments.map((s) => {
    const raw = String(s);
    checkSegment(raw, raw);
    return encodeURIComponent(raw);
  }).join("/");
}

function checkSegment(decoded: string, shown: string): void {
  if (decoded === "" || decoded === "." || decoded === ".." || decoded.includes("/") || CONTROL.test(decoded)) {
    throw new PveError(
      "invalid",
      `Invalid PVE API path segment ${JSON.stringify(shown.slice(0, 80))}: segments must be non-empty, ` +
        "not '.' or '..', and hold no '/' or control characters",
    );
  }
}

/**
 * Validates a concrete API path (relative to `/api2/json`, raw or already percent-encoded) and escapes what a URL path
 * cannot carry. Existing `%XX` escapes are kept, so `encodeURIComponent(upid)` and a raw UPID both work.
 */
export function encodePath(path: string): string {
  if (!path.startsWith("/")) {
    throw new PveError("invalid", `Invalid PVE API path ${JSON.stringify(path.slice(0, 80))}: it must start with "/"`);
  }
  if (path === "/") return "/";
  const out: string[] = [];
  for (const seg of path.slice(1).split("/")) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(seg);
    } catch {
      decoded = seg; // a lone '%' is escaped below
    }
    checkSegment(decoded, seg);
    let enc = "";
    let i = 0;
    for (const ch of seg) {
      if (ch === "%" && /^[0-9A-Fa-f]{2}$/.test(seg.slice(i + 1, i + 3))) enc += ch;
      else if (PCHAR.test(ch)) enc += ch;
      else enc += encodeURIComponent(ch.isWellFormed() ? ch : "\uFFFD");
      i += ch.length;
    }
    out.push(enc);
  }
  return "/" + out.join("/");
}

function wireValue(name: string, v: string | number | boolean): string {
  if (typeof v === "boolean") return v ? "1" : "0";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) {
      throw new PveError("invalid", `Invalid value for PVE parameter "${name}": numbers must be finite`);
    }
    return String(v);
  }
  return v;
}

/**
 * Encodes parameters for the query string (GET/DELETE) or an `application/x-www-form-urlencoded` body (POST/PUT):
 * `undefined` (and `null`) dropped, booleans as `1`/`0`, arrays as repeated keys.
 */
export function encodeParams(params: Record<string, PveParamValue> | undefined): URLSearchParams {
  const out = new URLSearchParams();
  if (!params) return out;
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value as readonly (string | number)[]) {
        if (item === undefined || item === null) continue;
        out.append(name, wireValue(name, item));
      }
    } else {
      out.append(name, wireValue(name, value as string | number | boolean));
    }
  }
  return out;
}

/** Names of the parameters that will be sent (for call records: names only, never values). */
export function paramNames(params: Record<string, PveParamValue> | undefined): string[] {
  if (!params) return [];
  return Object.entries(params).filter(([, v]) => v !== undefined && v !== null).map(([k]) => k);
}

/**
 * Values of secret parameters and public keys (the classifier of `guard/secret_keys.ts`: password, token, keyring,
 * ACME plugin `data` at `path`, `sshkeys`, …), so error texts that echo them (`type check failed - got '…'`) can be
 * redacted.
 */
export function sensitiveValues(params: Record<string, PveParamValue> | undefined, path = ""): string[] {
  if (!params) return [];
  const out: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (!isSecretOrKeyMaterial(name, { path }) || value === undefined || value === null) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      const s = String(v);
      if (s.length >= 4) out.push(s);
    }
  }
  return out;
}
