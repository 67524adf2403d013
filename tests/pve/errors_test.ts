import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { createPveClient, type PveClientOptions } from "../../src/pve/client.ts";
import {
  type CallContext,
  classifyNetworkFailure,
  errorFromStatus,
  isRetryable,
  parseErrorBody,
  Redactor,
} from "../../src/pve/errors.ts";
import { PveError } from "../../src/pve/types.ts";
import {
  caught,
  closedPort,
  fakeSleep,
  otherTestCert,
  rawResponse,
  startFakePve,
  startRawTlsServer,
  untilAborted,
} from "./fake_pve.ts";

const CTX: CallContext = {
  host: "pve1.example.com:8006",
  method: "POST",
  path: "/nodes/pve1/qemu/100/status/start",
  auth: "token",
  principal: "monitor@pve!mcp",
  redact: (t) => t,
};

function json(message: string, errors?: Record<string, string>): string {
  return JSON.stringify({ data: null, message: message + "\n", ...(errors ? { errors } : {}) });
}

Deno.test("every status maps to a kind and a message naming host, method and path", () => {
  const call = "POST /nodes/pve1/qemu/100/status/start on pve1.example.com:8006";
  const cases: [number, string, string, string, RegExp][] = [
    [401, "Authentication failed!", "", "auth", /check the token id\/secret or user\/password/],
    [401, "Permission denied - invalid csrf token", "", "auth", /CSRF/],
    [
      403,
      "Permission check failed",
      json("Permission check failed (/vms/100, VM.PowerMgmt)"),
      "permission",
      /lacks VM\.PowerMgmt on \/vms\/100/,
    ],
    [
      403,
      "x",
      json("Permission check failed (/vms/100, VM.Allocate|VM.Clone)"),
      "permission",
      /one of VM\.Allocate, VM\.Clone/,
    ],
    [
      403,
      "x",
      json("Permission check failed (URI '/access/password' not available with API token, need proper ticket.)"),
      "permission",
      /refuses API tokens/,
    ],
    [
      403,
      "x",
      json("Permission check failed (user != root@pam)"),
      "permission",
      /user != root@pam.*check the permissions/,
    ],
    [
      400,
      "Parameter verification failed.",
      json("Parameter verification failed.", {
        vmid: "value must have a minimum value of 100",
        foo: "property is not defined in schema and the schema does not allow additional properties",
      }),
      "invalid",
      /Invalid parameters for .*: foo: property is not defined.*; vmid: value must have a minimum value of 100/,
    ],
    [
      500,
      "x",
      json("Configuration file 'nodes/pve1/qemu-server/105.conf' does not exist"),
      "not_found",
      /105\.conf' does not exist/,
    ],
    [500, "no such user ('bob@pve')", "", "not_found", /no such user/],
    [500, "x", json("VM 100 already running"), "server", /failed: VM 100 already running/],
    [501, "Method 'GET /nope' not implemented", "", "not_implemented", /does not implement/],
    [595, "Connection refused", "", "proxy", /probably offline/],
    [596, "Broken pipe", "", "proxy", /TLS or I\/O error between the cluster nodes/],
    [502, "Bad Gateway", "", "server", /502 Bad Gateway.*try again/],
    [503, "Service Unavailable", "<html>busy</html>", "server", /503 Service Unavailable/],
    [504, "Gateway Timeout", "", "server", /504/],
    [404, "Not Found", "", "protocol", /Unexpected HTTP status 404/],
    [301, "Moved", "", "protocol", /redirect/],
  ];
  for (const [status, reason, body, kind, re] of cases) {
    const e = errorFromStatus(CTX, status, reason, body);
    assertEquals(e.kind, kind, `${status} ${reason}`);
    assert(re.test(e.message), `${status}: ${e.message}`);
    if (status !== 301) assert(e.message.includes(call), e.message);
    assertEquals([e.details.status, e.details.method, e.details.path, e.details.host], [
      status,
      "POST",
      CTX.path,
      CTX.host,
    ]);
  }
});

Deno.test("400 keeps the per-parameter map; messages are trimmed and single-line", () => {
  const e = errorFromStatus(
    CTX,
    400,
    "Parameter verification failed.",
    json("Parameter verification failed.", { a: "bad\nthing" }),
  );
  assertEquals(e.details.errors, { a: "bad thing" });
  assertEquals(e.details.pveMessage, "Parameter verification failed.");
});

Deno.test("error bodies are never assumed to be JSON", () => {
  assertEquals(parseErrorBody(""), {});
  assertEquals(parseErrorBody("plain text reason\n"), { message: "plain text reason" });
  assertEquals(parseErrorBody("<html><body>proxy</body></html>"), {});
  assertEquals(parseErrorBody("[1,2]"), {});
  assertEquals(parseErrorBody('{"data":null}'), {});
  assertEquals(parseErrorBody('{"message":"m","errors":{"x":1}}'), { message: "m", errors: { x: "1" } });
  // Plain-text body wins over the bare status, e.g. an HTML-free proxy error.
  const e = errorFromStatus(CTX, 500, "Internal Server Error", "unable to read config\n");
  assert(e.message.endsWith("failed: unable to read config"), e.message);
});

Deno.test("errors without JSON: plain-text bodies (new servers) are used; custom reason phrases are not visible", async () => {
  const answers: Record<string, string> = {
    "/a": rawResponse("401 Authentication failed!", "Authentication failed!\n"),
    "/b": rawResponse("595 Connection refused"),
    "/c": rawResponse("500 Internal Server Error", '{"data":null,"message":"VM 105 does not exist\\n"}'),
    "/d": rawResponse("401 No ticket"),
  };
  const raw = await startRawTlsServer((req) => answers[/^\S+ \/api2\/json(\S+) /.exec(req)![1]!]!);
  const client = createPveClient({
    host: raw.host,
    port: raw.port,
    tls: { caCertPem: raw.cert.caCertPem },
    auth: { tokenId: "monitor@pve!mcp", tokenSecret: "s-e-c-r-e-t" },
  });
  try {
    const a = await caught(client.request({ method: "GET", path: "/a" }));
    assertEquals([a.kind, a.details.pveMessage], ["auth", "Authentication failed!"]);
    const b = await caught(client.request({ method: "GET", path: "/b" }));
    assertEquals([b.kind, b.details.status], ["proxy", 595]);
    assert(b.message.includes("(595)") && b.message.includes("probably offline"), b.message);
    const c = await caught(client.request({ method: "GET", path: "/c" }));
    assertEquals([c.kind, c.details.pveMessage], ["not_found", "VM 105 does not exist"]);
    // Deno's fetch reports the canonical phrase, not PVE's ("No ticket"): the advice must not depend on it.
    const d = await caught(client.request({ method: "GET", path: "/d" }));
    assertEquals([d.kind, d.details.pveMessage], ["auth", "Unauthorized"]);
    assert(d.message.includes("check the token id/secret or user/password"), d.message);
  } finally {
    client.close();
    await raw.close();
  }
});

Deno.test("retry policy: what a GET may try again", () => {
  const mk = (kind: PveError["kind"], status?: number) =>
    new PveError(kind, "x", status === undefined ? {} : { status });
  assertEquals(
    [
      mk("connection"),
      mk("timeout"),
      mk("protocol"),
      mk("protocol", 200),
      mk("server", 502),
      mk("server", 503),
      mk("server", 504),
    ].map(isRetryable),
    [true, true, true, true, true, true, true],
  );
  assertEquals(
    [
      mk("server", 500),
      mk("protocol", 301),
      mk("auth", 401),
      mk("permission", 403),
      mk("invalid", 400),
      mk("not_found", 500),
      mk("not_implemented", 501),
      mk("proxy", 595),
      mk("tls"),
      mk("aborted"),
    ].map(isRetryable),
    [false, false, false, false, false, false, false, false, false, false],
  );
});

Deno.test("network failure texts are classified with advice", () => {
  const cases: [string, string, RegExp][] = [
    ["client error (Connect): invalid peer certificate: UnknownIssuer", "tls", /not signed by a trusted CA.*caFile/],
    ["invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))", "tls", /trusted CA/],
    ['invalid peer certificate: certificate not valid for name "10.0.0.1"', "tls", /host name/],
    [
      "invalid peer certificate: certificate expired: verification time 1, but certificate is not valid after 0",
      "tls",
      /expired/,
    ],
    ["dns error: failed to lookup address information: Name or service not known", "connection", /does not resolve/],
    ["tcp connect error: Connection refused (os error 111)", "connection", /refused.*8006/],
    ["tcp connect error: No route to host (os error 113)", "connection", /unreachable/],
    ["connection reset by peer", "connection", /closed or reset/],
    ["something odd", "connection", /could not be sent \(something odd\)/],
  ];
  for (const [text, kind, re] of cases) {
    const c = classifyNetworkFailure(text);
    assertEquals(c.kind, kind, text);
    assert(re.test(c.reason), `${text} → ${c.reason}`);
  }
});

Deno.test("Redactor removes secrets and their URL-encoded forms, longest first", () => {
  const r = new Redactor();
  r.add("abc"); // too short: ignored
  r.add("PVE:root@pam:0001::sig+/=");
  r.add("PVE:root@pam:0001");
  const t = `cookie PVE:root@pam:0001::sig+/= and ${encodeURIComponent("PVE:root@pam:0001::sig+/=")} and abc`;
  assertEquals(r.redact(t), "cookie [redacted] and [redacted] and abc");
  assertEquals(r.redact("x extra-value y", ["extra-value"]), "x [redacted] y");
  r.delete("PVE:root@pam:0001::sig+/=");
  assertEquals(r.redact("PVE:root@pam:0001::sig+/="), "[redacted]::sig+/=");
});

const CANARY = "CANARY-7f3c9e1d-secret";

Deno.test("canary: no secret reaches any error message, even when the server echoes it back", async () => {
  // A hostile or buggy server that echoes the Authorization/Cookie headers and the form body everywhere it can.
  const echo = (req: string) => {
    const auth = /\r\n(?:authorization|cookie): ([^\r\n]*)/i.exec(req)?.[1] ?? "";
    const body = req.slice(req.indexOf("\r\n\r\n") + 4);
    const status = /\/api2\/json\/s(\d+)/.exec(req)?.[1];
    if (req.startsWith("POST /api2/json/access/ticket")) {
      return rawResponse(
        "200 OK",
        JSON.stringify({
          data: { ticket: `PVE:root@pam:1::${CANARY}-ticket`, CSRFPreventionToken: `1:${CANARY}-csrf` },
        }),
      );
    }
    const text = `echo ${auth} ${body} ${decodeURIComponent(body)}`.replace(/[\r\n"\\]/g, " ");
    return rawResponse(
      `${status ?? 500} ${text.slice(0, 200)}`,
      JSON.stringify({ data: null, message: text, errors: { password: text, token: auth } }),
    );
  };
  const raw = await startRawTlsServer(echo);
  const { sleep } = fakeSleep();
  const base: Omit<PveClientOptions, "auth"> = {
    host: raw.host,
    port: raw.port,
    tls: { caCertPem: raw.cert.caCertPem },
    sleep,
    retries: 1,
  };
  const clients = [
    createPveClient({ ...base, auth: { tokenId: "monitor@pve!mcp", tokenSecret: `${CANARY}-token` } }),
    createPveClient({ ...base, auth: { user: "root@pam", password: `${CANARY}-password` } }),
  ];
  const errors: PveError[] = [];
  try {
    for (const client of clients) {
      for (const status of [400, 401, 403, 500, 501, 502, 503, 595, 596]) {
        for (const method of ["GET", "POST"] as const) {
          errors.push(
            await caught(client.request({
              method,
              path: `/s${status}`,
              params: { password: `${CANARY}-param`, comment: "harmless" },
            })),
          );
        }
      }
    }
  } finally {
    for (const c of clients) c.close();
    await raw.close();
  }
  // Network-level failures: refused, TLS, timeout.
  const port = closedPort();
  const refused = createPveClient({ ...base, port, auth: { tokenId: "monitor@pve!mcp", tokenSecret: `${CANARY}-t2` } });
  const other = await otherTestCert();
  const hang = await startFakePve((r) => untilAborted(r));
  const pinnedWrong = createPveClient({
    ...base,
    host: hang.host,
    port: hang.port,
    tls: { fingerprint: other.fingerprint },
    auth: { user: "root@pam", password: `${CANARY}-pw2` },
  });
  const slow = createPveClient({
    ...base,
    host: hang.host,
    port: hang.port,
    tls: { caCertPem: hang.cert.caCertPem },
    timeoutMs: 50,
    auth: { tokenId: "monitor@pve!mcp", tokenSecret: `${CANARY}-t3` },
  });
  try {
    errors.push(
      await caught(refused.request({ method: "GET", path: "/version", params: { password: `${CANARY}-q` } })),
    );
    errors.push(await caught(pinnedWrong.request({ method: "GET", path: "/version" })));
    errors.push(await caught(slow.request({ method: "GET", path: "/version" })));
  } finally {
    refused.close();
    pinnedWrong.close();
    slow.close();
    await hang.close();
  }
  assertEquals(errors.length, 2 * 9 * 2 + 3);
  const kinds = new Set(errors.map((e) => e.kind));
  for (
    const k of ["invalid", "auth", "permission", "server", "not_implemented", "proxy", "connection", "tls", "timeout"]
  ) {
    assert(kinds.has(k as PveError["kind"]), `covered ${k}: ${[...kinds]}`);
  }
  for (const e of errors) {
    const everything = [
      e.message,
      String(e),
      e.stack ?? "",
      JSON.stringify(e.details, (k, v) => (k === "cause" ? String(v) : v)),
      e.cause instanceof Error ? e.cause.message : String(e.cause ?? ""),
    ].join("\n");
    assert(!everything.includes(CANARY), `secret leaked in ${e.kind}: ${everything.slice(0, 400)}`);
    assert(!everything.includes(encodeURIComponent(CANARY)), `encoded secret leaked in ${e.kind}`);
  }
  // The echo really did carry the canary (so the test can fail): the redaction marker shows up.
  assert(errors.some((e) => e.message.includes("[redacted]")));
});
