/**
 * A small TOML reader for the subset client configuration snippets use (no TOML library is available offline):
 * comments, `[table.headers]` (bare or quoted keys), `key = value` with dotted keys, basic and literal strings
 * (single-line), integers, floats, booleans, arrays (may span lines) and inline tables. Anything else is an error,
 * so a snippet that strays from the subset fails its test instead of being half-read.
 * @module
 */

type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
/** A TOML table. */
export interface TomlTable {
  [key: string]: TomlValue;
}

class Reader {
  pos = 0;
  constructor(readonly text: string) {}
  fail(what: string): never {
    const line = this.text.slice(0, this.pos).split("\n").length;
    throw new Error(`TOML line ${line}: ${what}`);
  }
  peek(): string {
    return this.text[this.pos] ?? "";
  }
  skipSpace(newlines: boolean): void {
    while (this.pos < this.text.length) {
      const c = this.peek();
      if (c === " " || c === "\t" || c === "\r" || (newlines && c === "\n")) this.pos++;
      else if (c === "#") { while (this.pos < this.text.length && this.peek() !== "\n") this.pos++; }
      else break;
    }
  }
  expect(c: string): void {
    if (this.peek() !== c) this.fail(`expected "${c}", found "${this.peek()}"`);
    this.pos++;
  }
  key(): string[] {
    const parts: string[] = [];
    for (;;) {
      this.skipSpace(false);
      const c = this.peek();
      if (c === '"' || c === "'") parts.push(this.string());
      else {
        const m = /^[A-Za-z0-9_-]+/.exec(this.text.slice(this.pos));
        if (m === null) this.fail("expected a key");
        parts.push(m[0]);
        this.pos += m[0].length;
      }
      this.skipSpace(false);
      if (this.peek() !== ".") return parts;
      this.pos++;
    }
  }
  string(): string {
    const quote = this.peek();
    this.pos++;
    let out = "";
    while (this.peek() !== quote) {
      const c = this.peek();
      if (c === "" || c === "\n") this.fail("unterminated string");
      this.pos++;
      if (quote === '"' && c === "\\") {
        const e = this.peek();
        this.pos++;
        const simple: Record<string, string> = { '"': '"', "\\": "\\", n: "\n", t: "\t", r: "\r", b: "\b", f: "\f" };
        if (e in simple) out += simple[e];
        else if (e === "u" || e === "U") {
          const len = e === "u" ? 4 : 8;
          const hex = this.text.slice(this.pos, this.pos + len);
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) this.fail("bad unicode escape");
          out += String.fromCodePoint(parseInt(hex, 16));
          this.pos += len;
        } else this.fail(`unknown escape \\${e}`);
      } else out += c;
    }
    this.pos++;
    return out;
  }
  value(): TomlValue {
    this.skipSpace(false);
    const c = this.peek();
    if (c === '"' || c === "'") {
      if (this.text.startsWith(c.repeat(3), this.pos)) this.fail("multi-line strings are not in the subset");
      return this.string();
    }
    if (c === "[") {
      this.pos++;
      const items: TomlValue[] = [];
      for (;;) {
        this.skipSpace(true);
        if (this.peek() === "]") break;
        items.push(this.value());
        this.skipSpace(true);
        if (this.peek() === ",") this.pos++;
        else if (this.peek() !== "]") this.fail("expected , or ] in an array");
      }
      this.pos++;
      return items;
    }
    if (c === "{") {
      this.pos++;
      const table: TomlTable = {};
      this.skipSpace(false);
      if (this.peek() === "}") return this.pos++, table;
      for (;;) {
        const key = this.key();
        this.expect("=");
        assign(table, key, this.value(), this);
        this.skipSpace(false);
        if (this.peek() === "}") return this.pos++, table;
        this.expect(",");
      }
    }
    const m = /^(true|false|[+-]?\d[\d_]*(\.\d+)?)/.exec(this.text.slice(this.pos));
    if (m === null) this.fail(`unsupported value starting with "${c}"`);
    this.pos += m[0].length;
    if (m[0] === "true" || m[0] === "false") return m[0] === "true";
    return Number(m[0].replaceAll("_", ""));
  }
}

function assign(table: TomlTable, key: string[], value: TomlValue, r: Reader): void {
  let t = table;
  for (const part of key.slice(0, -1)) {
    t[part] ??= {};
    const next: TomlValue = t[part];
    if (typeof next !== "object" || Array.isArray(next)) return r.fail(`"${part}" is not a table`);
    t = next;
  }
  const last = key[key.length - 1] as string;
  if (last in t) r.fail(`duplicate key "${key.join(".")}"`);
  t[last] = value;
}

/** Parses TOML of the supported subset. @throws {Error} naming the line of anything else. */
export function parseToml(text: string): TomlTable {
  const r = new Reader(text);
  const root: TomlTable = {};
  let current = root;
  for (;;) {
    r.skipSpace(true);
    if (r.pos >= text.length) return root;
    if (r.peek() === "[") {
      r.pos++;
      if (r.peek() === "[") r.fail("arrays of tables are not in the subset");
      const key = r.key();
      r.expect("]");
      current = root;
      for (const part of key) {
        current[part] ??= {};
        const next: TomlValue = current[part];
        if (typeof next !== "object" || Array.isArray(next)) return r.fail(`"${part}" is not a table`);
        current = next;
      }
    } else {
      const key = r.key();
      r.expect("=");
      assign(current, key, r.value(), r);
    }
    r.skipSpace(false);
    if (r.pos < text.length && r.peek() !== "\n") r.fail("expected the end of the line");
  }
}
