/**
 * Command output that adapts to where it goes. On a terminal: aligned tables, bold headers, colour (unless
 * `NO_COLOR`), cut to the terminal's width. Piped or redirected: plain tab-separated lines with a header row, no
 * colour, no cutting — easy for `cut`, `awk` and scripts. With `--json` (or `format: "json"`): one JSON document.
 * Results go to stdout; messages (`info`, `warn`, `error`) go to stderr so they never mix into piped data (marked
 * ✔ ⚠ ✖ on a terminal, prefixed `warning: ` / `error: ` otherwise).
 *
 * Only CLI commands use this; the MCP server's stdout belongs to the protocol.
 *
 * @example
 * ```ts
 * const out = createOutput({ json: args.includes("--json") });
 * out.table([{ id: "t1", created: "2026-01-01" }], [{ key: "id", header: "ID" }, { key: "created", header: "CREATED" }]);
 * out.success("Token added");
 * ```
 * @module
 */

/** How output is rendered. */
export type OutputFormat = "pretty" | "plain" | "json";

/** Where text goes; defaults to the process's stdout and stderr. */
export interface OutputStream {
  write(text: string): void;
  /** True when a person is looking at it. */
  isTerminal: boolean;
  /** Width in columns when known. */
  columns?: number;
}

/** Options of {@linkcode createOutput}. */
export interface OutputOptions {
  /** Force JSON output (a command's `--json` flag). */
  json?: boolean;
  /** Force a format (overrides detection and `json`). */
  format?: OutputFormat;
  /** Colour on or off (default: on for a terminal unless NO_COLOR is set). */
  color?: boolean;
  stdout?: OutputStream;
  stderr?: OutputStream;
}

/** One table column. */
export interface Column {
  key: string;
  header?: string;
  align?: "left" | "right";
}

/** The output of one command. */
export interface Output {
  readonly format: OutputFormat;
  readonly color: boolean;
  /** A table of rows (objects); columns default to the keys of the first row. */
  table(rows: readonly Record<string, unknown>[], columns?: readonly Column[]): void;
  /** Key/value pairs of one object. */
  record(value: Record<string, unknown>): void;
  /** A value as JSON in json format, or as text (strings as they are, others as JSON) otherwise. */
  value(value: unknown): void;
  /** A line of result text on stdout (not shown in json format; use `value` there). */
  line(text: string): void;
  /** Status messages on stderr: marked and coloured on a terminal, plain otherwise. */
  info(text: string): void;
  success(text: string): void;
  warn(text: string): void;
  error(text: string): void;
}

const encoder = new TextEncoder();

function processStream(stream: typeof Deno.stdout | typeof Deno.stderr): OutputStream {
  const isTerminal = stream.isTerminal();
  let columns: number | undefined;
  if (isTerminal) {
    try {
      columns = Deno.consoleSize().columns;
    } catch {
      columns = undefined;
    }
  }
  return {
    write: (text) => {
      const bytes = encoder.encode(text);
      let written = 0;
      while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
    },
    isTerminal,
    ...(columns === undefined ? {} : { columns }),
  };
}

const STYLES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] };
type Style = keyof typeof STYLES;

/** Removes control characters (incl. ANSI escapes) so values from a cluster cannot drive the terminal. */
export function stripControl(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[ -\/]*[@-~]/g, "").replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, "");
}

/** Renders a cell: strings as they are, null/undefined empty, arrays comma-joined, objects as JSON. */
export function cellText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return stripControl(value);
  if (Array.isArray(value)) return value.map(cellText).join(",");
  if (typeof value === "object") return stripControl(JSON.stringify(value));
  return String(value);
}

function truncate(text: string, width: number): string {
  if (width <= 0) return "";
  return [...text].length <= width ? text : [...text].slice(0, Math.max(0, width - 1)).join("") + "…";
}

function pad(text: string, width: number, align: "left" | "right"): string {
  const fill = " ".repeat(Math.max(0, width - [...text].length));
  return align === "right" ? fill + text : text + fill;
}

/** Builds the output of a command; detects terminal, colour and format unless told. */
export function createOutput(opts: OutputOptions = {}): Output {
  const stdout = opts.stdout ?? processStream(Deno.stdout);
  const stderr = opts.stderr ?? processStream(Deno.stderr);
  const format: OutputFormat = opts.format ?? (opts.json ? "json" : stdout.isTerminal ? "pretty" : "plain");
  const color = opts.color ?? (stdout.isTerminal && !Deno.noColor);
  const errColor = opts.color ?? (stderr.isTerminal && !Deno.noColor);
  const paint = (on: boolean, style: Style, text: string) =>
    on ? `\x1b[${STYLES[style][0]}m${text}\x1b[${STYLES[style][1]}m` : text;
  const say = (style: Style, mark: string, label: string, text: string) => {
    const clean = stripControl(text);
    stderr.write(stderr.isTerminal ? `${paint(errColor, style, mark)} ${clean}\n` : `${label}${clean}\n`);
  };
  const json = (value: unknown) => stdout.write(JSON.stringify(value, null, 2) + "\n");

  return {
    format,
    color,
    table(rows, columns) {
      const cols: Column[] = columns ? [...columns] : Object.keys(rows[0] ?? {}).map((key) => ({ key }));
      if (format === "json") {
        json(rows.map((row) => Object.fromEntries(cols.map((c) => [c.key, row[c.key] ?? null]))));
        return;
      }
      const headers = cols.map((c) => c.header ?? c.key.toUpperCase());
      const cells = rows.map((row) => cols.map((c) => cellText(row[c.key])));
      if (format === "plain") {
        const tsv = (fields: string[]) => fields.map((f) => f.replace(/[\t\n]/g, " ")).join("\t");
        stdout.write([tsv(headers), ...cells.map(tsv)].join("\n") + "\n");
        return;
      }
      const widths = headers.map((h, i) => Math.max([...h].length, ...cells.map((r) => [...(r[i] ?? "")].length)));
      // Shrink the widest columns until the table fits the terminal (2 spaces between columns).
      const max = stdout.columns ?? Infinity;
      while (widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1) > max) {
        const widest = widths.indexOf(Math.max(...widths));
        if ((widths[widest] ?? 0) <= 8) break;
        widths[widest] = (widths[widest] ?? 0) - 1;
      }
      const render = (fields: string[]) =>
        fields.map((f, i) => pad(truncate(f, widths[i] ?? 0), widths[i] ?? 0, cols[i]?.align ?? "left"))
          .join("  ").trimEnd();
      const lines = [paint(color, "bold", render(headers)), ...cells.map(render)];
      if (rows.length === 0) lines.push(paint(color, "dim", "(none)"));
      stdout.write(lines.join("\n") + "\n");
    },
    record(value) {
      if (format === "json") return json(value);
      const keys = Object.keys(value);
      if (format === "plain") {
        stdout.write(keys.map((k) => `${k}\t${cellText(value[k]).replace(/[\t\n]/g, " ")}`).join("\n") + "\n");
        return;
      }
      const width = Math.max(0, ...keys.map((k) => k.length));
      stdout.write(
        keys.map((k) => `${paint(color, "bold", pad(k + ":", width + 1, "left"))} ${cellText(value[k])}`)
          .join("\n") + "\n",
      );
    },
    value(value) {
      if (format === "json") return json(value);
      stdout.write((typeof value === "string" ? stripControl(value) : JSON.stringify(value, null, 2)) + "\n");
    },
    line(text) {
      if (format !== "json") stdout.write(stripControl(text) + "\n");
    },
    info: (text) => say("cyan", "ℹ", "", text),
    success: (text) => say("green", "✔", "", text),
    warn: (text) => say("yellow", "⚠", "warning: ", text),
    error: (text) => say("red", "✖", "error: ", text),
  };
}
