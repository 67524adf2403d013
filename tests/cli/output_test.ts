import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { cellText, createOutput, type OutputStream, stripControl } from "../../src/cli/output.ts";

function sink(isTerminal: boolean, columns?: number): OutputStream & { text: () => string } {
  let buf = "";
  return {
    write: (t) => void (buf += t),
    isTerminal,
    ...(columns === undefined ? {} : { columns }),
    text: () => buf,
  };
}

const ROWS = [
  { id: "prod-laptop", created: "2026-01-01", uses: 12 },
  { id: "ci", created: "2026-02-03", uses: 3 },
];
const COLS = [{ key: "id", header: "ID" }, { key: "created", header: "CREATED" }, {
  key: "uses",
  header: "USES",
  align: "right" as const,
}];

Deno.test("piped output: tab-separated with a header, no colour, messages prefixed on stderr", () => {
  const stdout = sink(false);
  const stderr = sink(false);
  const out = createOutput({ stdout, stderr });
  strictEqual(out.format, "plain");
  strictEqual(out.color, false);
  out.table(ROWS, COLS);
  out.warn("Token ci expires in 3 days");
  out.error("Cannot reach pve1");
  strictEqual(stdout.text(), "ID\tCREATED\tUSES\nprod-laptop\t2026-01-01\t12\nci\t2026-02-03\t3\n");
  strictEqual(stderr.text(), "warning: Token ci expires in 3 days\nerror: Cannot reach pve1\n");
});

Deno.test("terminal output: aligned columns, bold header, right alignment, fitted to the width", () => {
  const stdout = sink(true, 80);
  const out = createOutput({ stdout, stderr: sink(true), color: true });
  strictEqual(out.format, "pretty");
  out.table(ROWS, COLS);
  deepStrictEqual(stdout.text().split("\n"), [
    "\x1b[1mID           CREATED     USES\x1b[22m",
    "prod-laptop  2026-01-01    12",
    "ci           2026-02-03     3",
    "",
  ]);
  const narrow = sink(true, 24);
  createOutput({ stdout: narrow, color: false }).table(ROWS, COLS);
  for (const line of narrow.text().trimEnd().split("\n")) ok([...line].length <= 24, JSON.stringify(line));
  ok(narrow.text().includes("…"), narrow.text());
});

Deno.test("json output: one document with exactly the columns asked for", () => {
  const stdout = sink(true);
  const out = createOutput({ stdout, json: true });
  out.table(ROWS, [{ key: "id" }, { key: "missing" }]);
  out.line("not in json");
  deepStrictEqual(JSON.parse(stdout.text()), [{ id: "prod-laptop", missing: null }, { id: "ci", missing: null }]);
});

Deno.test("record and value render per format", () => {
  const plain = sink(false);
  createOutput({ stdout: plain }).record({ mode: "read-only", tools: ["a", "b"] });
  strictEqual(plain.text(), "mode\tread-only\ntools\ta,b\n");
  const pretty = sink(true);
  createOutput({ stdout: pretty, color: false }).record({ mode: "read-only", toolsets: "guests" });
  strictEqual(pretty.text(), "mode:     read-only\ntoolsets: guests\n");
  const json = sink(false);
  createOutput({ stdout: json, json: true }).value({ ok: true });
  deepStrictEqual(JSON.parse(json.text()), { ok: true });
});

Deno.test("text from a cluster cannot drive the terminal", () => {
  strictEqual(stripControl("vm\x1b[2J\x1b]0;pwned\x07-1\r"), "vm]0;pwned-1");
  strictEqual(cellText("a\x1b[31mred"), "ared");
  const stdout = sink(true);
  createOutput({ stdout, color: false }).table([{ name: "evil\x1b[2Jname" }]);
  ok(!stdout.text().includes("\x1b"), JSON.stringify(stdout.text()));
});

Deno.test("an empty table says so on a terminal and prints only the header when piped", () => {
  const tty = sink(true);
  createOutput({ stdout: tty, color: false }).table([], COLS);
  strictEqual(tty.text(), "ID  CREATED  USES\n(none)\n");
  const pipe = sink(false);
  createOutput({ stdout: pipe }).table([], COLS);
  strictEqual(pipe.text(), "ID\tCREATED\tUSES\n");
});
