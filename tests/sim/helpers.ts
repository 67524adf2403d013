/** Shared helpers of the simulator tests: a manual clock and a small HTTPS caller. */
import { type Simulator, type SimulatorOptions, startSimulator } from "../../src/sim/mod.ts";

/** A clock tests move by hand. */
export class ManualClock {
  constructor(public t = Date.UTC(2026, 10, 20, 12, 0, 0)) {}
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** What {@linkcode Api.call} returns. */
export interface CallResult {
  status: number;
  text: string;
  // deno-lint-ignore no-explicit-any
  body: any;
  headers: Headers;
}

/** A simulator with a trusting HTTP client. Dispose with `await using`. */
export class Api {
  readonly client: Deno.HttpClient;
  constructor(readonly sim: Simulator) {
    this.client = Deno.createHttpClient({ caCerts: [sim.caCertPem] });
  }

  static async start(opts: SimulatorOptions = {}): Promise<Api> {
    return new Api(await startSimulator(opts));
  }

  /** Raw call; `auth` is an Authorization header value, or headers. */
  async call(
    method: string,
    path: string,
    opts: {
      auth?: string | undefined;
      headers?: Record<string, string>;
      form?: Record<string, string>;
      json?: unknown;
      query?: string;
    } = {},
  ): Promise<CallResult> {
    const headers = new Headers(opts.headers ?? {});
    if (opts.auth) headers.set("authorization", opts.auth);
    let body: string | undefined;
    if (opts.form) {
      body = new URLSearchParams(opts.form).toString();
      headers.set("content-type", "application/x-www-form-urlencoded");
    } else if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers.set("content-type", "application/json");
    }
    const url = `${this.sim.url}/api2/json${path}${opts.query ? `?${opts.query}` : ""}`;
    const res = await fetch(url, { method, headers, client: this.client, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, text, body: parsed, headers: res.headers };
  }

  /** GET as the admin token (or the named token), returning `data` and asserting 200. */
  // deno-lint-ignore no-explicit-any
  async get(path: string, token = "admin"): Promise<any> {
    const r = await this.call("GET", path, { auth: this.sim.tokens[token]?.header ?? "" });
    if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}: ${r.text}`);
    return r.body.data;
  }

  /** Sends raw HTTP/1.1 bytes over TLS (for requests fetch refuses to make) and returns the status line. */
  async raw(request: string): Promise<string> {
    const conn = await Deno.connectTls({ hostname: this.sim.host, port: this.sim.port, caCerts: [this.sim.caCertPem] });
    try {
      await conn.write(new TextEncoder().encode(request));
      const buf = new Uint8Array(4096);
      const n = await conn.read(buf);
      return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0] ?? "";
    } finally {
      conn.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.client.close();
    await this.sim.close();
  }
}
