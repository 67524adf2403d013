/**
 * Scrubbing resolved secret values: every value a call resolves from `secret://NAME` is registered in the call's
 * {@linkcode SecretScope}, and the pipeline removes it — whole, in part (any run of {@linkcode WINDOW} or more of its
 * characters) and in its obvious encodings (base64 at every byte alignment, base64url, hex, URL encoding, JSON
 * escaping) — from everything the call hands back: tool text, structured content, errors, audit records, plan and
 * confirmation text. Every scope also feeds {@linkcode PROCESS_SECRETS}, which the log sink applies to every line.
 * @module
 */

/** Length of the shortest run of a value's characters (in any of its forms) that is scrubbed. */
export const WINDOW = 8;
/** Values shorter than this are too short to scrub without mangling ordinary text (and too short to be secrets). */
export const MIN_VALUE = 4;
/** What a scrubbed run becomes. */
export const MASK = "[secret]";

const enc = new TextEncoder();

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** The value and its obvious encodings, as the strings to look for. */
export function encodingsOf(value: string): string[] {
  const forms = new Set<string>([value, value.trim()]);
  const json = JSON.stringify(value).slice(1, -1);
  forms.add(json);
  forms.add(JSON.stringify(json).slice(1, -1));
  const url = encodeURIComponent(value);
  forms.add(url);
  forms.add(url.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
  forms.add(url.replace(/%20/g, "+"));
  forms.add(encodeURIComponent(value.replace(/\r\n/g, "\n").trim())); // how SSH keys go to PVE
  const bytes = enc.encode(value);
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  forms.add(hex);
  forms.add(hex.toUpperCase());
  // base64 of the value on its own and inside a longer text (three byte alignments); the characters that also
  // depend on neighbouring bytes are left out of the shifted forms.
  for (const shift of [0, 1, 2]) {
    const padded = new Uint8Array(shift + bytes.length);
    padded.set(bytes, shift);
    const b64 = base64(padded).replace(/=+$/, "");
    const form = shift === 0 ? b64 : b64.slice(shift + 1, -2);
    if (shift > 0 && form.length < WINDOW) continue;
    forms.add(form);
    forms.add(form.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return [...forms].filter((f) => f.length >= MIN_VALUE);
}

/** A set of secret values to keep out of text; cheap to apply when empty. */
export class SecretScope {
  /** Values registered, oldest first (a Map keeps insertion order). */
  readonly #values = new Map<string, string[]>();
  /** Every run of {@linkcode WINDOW} characters of every form of every value. */
  #windows = new Set<string>();
  /** Forms shorter than {@linkcode WINDOW}, matched whole. */
  #short = new Set<string>();
  readonly #parent: SecretScope | undefined;
  readonly #max: number;

  /**
   * @param opts.parent a scope that also learns every value (the process-wide one by default; `null`: none)
   * @param opts.max most values kept (the oldest is forgotten first)
   */
  constructor(opts: { parent?: SecretScope | null; max?: number } = {}) {
    this.#parent = opts.parent === null ? undefined : opts.parent ?? PROCESS_SECRETS;
    this.#max = opts.max ?? 1000;
  }

  /** Number of values registered. */
  get size(): number {
    return this.#values.size;
  }

  /** Registers a value (and its parent learns it too); values shorter than {@linkcode MIN_VALUE} are ignored. */
  add(value: string): void {
    this.#parent?.add(value);
    if (value.length < MIN_VALUE || this.#values.has(value)) return;
    const forms = encodingsOf(value);
    this.#values.set(value, forms);
    if (this.#values.size > this.#max) {
      this.#values.delete(this.#values.keys().next().value!);
      this.#rebuild();
    } else {
      this.#index(forms);
    }
  }

  #index(forms: string[]): void {
    for (const f of forms) {
      if (f.length < WINDOW) this.#short.add(f);
      else for (let i = 0; i + WINDOW <= f.length; i++) this.#windows.add(f.slice(i, i + WINDOW));
    }
  }

  #rebuild(): void {
    this.#windows = new Set();
    this.#short = new Set();
    for (const forms of this.#values.values()) this.#index(forms);
  }

  /** `text` with every run of a registered value (or of one of its encodings) replaced by {@linkcode MASK}. */
  scrubText(text: string): string {
    if (this.#values.size === 0 || text.length < MIN_VALUE) return text;
    let marks: Uint8Array | undefined;
    const mark = (from: number, to: number) => {
      marks ??= new Uint8Array(text.length);
      marks.fill(1, from, to);
    };
    for (let i = 0; i + WINDOW <= text.length; i++) {
      if (this.#windows.has(text.slice(i, i + WINDOW))) mark(i, i + WINDOW);
    }
    for (const f of this.#short) {
      for (let i = text.indexOf(f); i >= 0; i = text.indexOf(f, i + 1)) mark(i, i + f.length);
    }
    if (marks === undefined) return text;
    let out = "";
    for (let i = 0; i < text.length;) {
      if (marks[i]) {
        out += MASK;
        while (i < text.length && marks[i]) i++;
      } else {
        out += text[i++];
      }
    }
    return out;
  }

  /** A copy of `value` with {@linkcode scrubText} applied to every string (object keys too). */
  scrubDeep<T>(value: T): T {
    if (this.#values.size === 0) return value;
    const walk = (v: unknown, depth: number): unknown => {
      if (typeof v === "string") return this.scrubText(v);
      if (depth > 64 || v === null || typeof v !== "object") return v;
      if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[this.scrubText(k)] = walk(x, depth + 1);
      return out;
    };
    return walk(value, 0) as T;
  }
}

/**
 * Every value resolved by any call of this process (the most recent 1000): the log sink scrubs each line with it,
 * since a log line may be written outside any call.
 */
export const PROCESS_SECRETS: SecretScope = new SecretScope({ parent: null });
