/**
 * Text that comes from guests or users of the cluster (notes, descriptions, agent output, task logs) is untrusted:
 * strip invisible and control characters, cap its length, and label it.
 * @module
 */

// C0/C1 controls except tab and newline, zero-width and bidi controls, BOM, Unicode tag characters, and
// variation selectors that can hide text.
const INVISIBLE =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u061C\u115F\u1160\u17B4\u17B5\u180E\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB]|\uDB40[\uDC00-\uDC7F]/g;

/** Default cap on one untrusted string, in characters. */
export const UNTRUSTED_MAX = 2000;

/** Removes control, zero-width, bidi and tag characters and caps the length (marking the cut). */
export function cleanText(value: string, max = UNTRUSTED_MAX): string {
  const clean = value.normalize("NFC").replace(INVISIBLE, "");
  return clean.length > max ? `${clean.slice(0, max)}…[${clean.length - max} more characters cut]` : clean;
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
