/**
 * Text that comes from guests or users of the cluster (names, notes, comments, descriptions, agent output, task logs)
 * is untrusted: strip invisible and control characters, cap its length, and label it. The call pipeline applies
 * {@linkcode cleanDeep} to every string a tool returns (structured content, and the text rendered from it), so a
 * tool needs no cleaning of its own; tools declare caps above {@linkcode UNTRUSTED_MAX} for their long fields.
 * @module
 */

// C0/C1 controls except tab and newline, soft hyphen, Arabic letter mark, Hangul fillers, Khmer and Mongolian
// invisible vowels and variation selectors (U+180B–180F), zero-width and bidi controls (U+200B–200F, U+202A–202E,
// U+2060–206F), line and paragraph separators (U+2028/2029), variation selectors (U+FE00–FE0F and U+E0100–E01EF),
// BOM, interlinear annotation characters, Unicode tag characters (U+E0000–E007F), and unpaired surrogates (in
// unicode mode the class matches a surrogate only when it is not half of a pair).
const INVISIBLE =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u2028-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\u{E0000}-\u{E007F}\u{E0100}-\u{E01EF}\uD800-\uDFFF]/gu;

/** Printable ASCII, tab and newline: text {@linkcode cleanText} leaves as it is (apart from the cap). */
const PLAIN = /^[\t\n\x20-\x7E]*$/;

/** Default cap on one untrusted string, in characters. */
export const UNTRUSTED_MAX = 2000;

/** Room for the cut marker: a string already cut to a cap by {@linkcode cleanText} is not cut again. */
const CUT_SLACK = 64;

/** Removes control, zero-width, bidi, variation-selector and tag characters and caps the length (marking the cut). */
export function cleanText(value: string, max = UNTRUSTED_MAX): string {
  // Fast path: printable ASCII (most names, ids and states) has nothing to normalise or strip.
  return capText(PLAIN.test(value) ? value : value.normalize("NFC").replace(INVISIBLE, ""), max);
}

/**
 * Caps a text at `max` characters, marking the cut; cleans nothing (for a tool's tighter caps inside composed text:
 * the pipeline cleans every string a tool returns).
 */
export function capText(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max)}…[${value.length - max} more characters cut]` : value;
}

/** True when `value` holds a character {@linkcode cleanText} removes. */
export function hasInvisible(value: string): boolean {
  INVISIBLE.lastIndex = 0;
  const found = INVISIBLE.test(value);
  INVISIBLE.lastIndex = 0;
  return found;
}

/**
 * Caps for long fields of one tool's structured content, by dotted path without array indices (`exec.stdout`,
 * `log.lines`); every other string is capped at {@linkcode UNTRUSTED_MAX}.
 */
export type TextCaps = Readonly<Record<string, number>>;

/**
 * A copy of a JSON value with every string (and object key) cleaned by {@linkcode cleanText} and capped: at
 * `caps[path]` when given, else `otherwise` ({@linkcode UNTRUSTED_MAX}). Nesting deeper than 64 levels is cut.
 */
export function cleanDeep<T>(value: T, caps: TextCaps = {}, otherwise: number = UNTRUSTED_MAX): T {
  const capped = Object.keys(caps).length > 0;
  const walk = (v: unknown, path: string, depth: number): unknown => {
    if (typeof v === "string") {
      const cap = (capped ? caps[path] : undefined) ?? otherwise;
      return cleanText(v, v.length > cap + CUT_SLACK ? cap : Number.MAX_SAFE_INTEGER);
    }
    if (v === null || typeof v !== "object") return v;
    if (depth > 64) return "[nesting cut]";
    if (Array.isArray(v)) return v.map((x) => walk(x, path, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const key = cleanText(k, 200);
      // Paths are only built when some field has its own cap.
      out[key] = walk(x, capped ? (path ? `${path}.${key}` : key) : "", depth + 1);
    }
    return out;
  };
  return walk(value, "", 0) as T;
}

/** Untrusted text as it appears in tool results: cleaned, and labelled so the model treats it as data. */
export interface UntrustedText {
  untrusted: true;
  text: string;
}

/** Cleans and labels a piece of untrusted text. */
export function untrusted(value: string, max = UNTRUSTED_MAX): UntrustedText {
  return { untrusted: true, text: cleanText(value, max) };
}
