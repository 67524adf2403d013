/**
 * "Text carries the answer": a client that shows the model only a result's text content must not lose data, so every
 * scalar value of the structured content appears in the text, and the text stays within the page budget.
 * @module
 */

/** Largest text content a result may have (pages are sized to stay below it). */
export const TEXT_BUDGET_BYTES = 16 * 1024;

/**
 * Every string and number of a JSON value, with its path and how it must show in the text. Booleans are words in
 * text ("done"/"FAILED", "(offline)"), so only the `untrusted: true` marker is checked: the text must say so.
 */
function scalars(value: unknown, path = "$", out: [string, string][] = []): [string, string][] {
  if (value === null || value === undefined) return out;
  if (Array.isArray(value)) value.forEach((v, i) => scalars(v, `${path}[${i}]`, out));
  else if (typeof value === "object") {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === "untrusted" && v === true) out.push([`${path}.${k}`, "untrusted"]);
      else scalars(v, `${path}.${k}`, out);
    }
  } else if (typeof value === "string") {
    if (value !== "") out.push([path, value]);
  } else if (typeof value === "number") out.push([path, String(value)]);
  return out;
}

/** What the text of a result misses: scalars of `structured` absent from `text`, and an over-budget text. */
export function textProblems(structured: unknown, text: string): string[] {
  const problems: string[] = [];
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > TEXT_BUDGET_BYTES) problems.push(`text is ${bytes} bytes, over the ${TEXT_BUDGET_BYTES} byte budget`);
  for (const [path, v] of scalars(structured)) {
    if (!text.includes(v)) problems.push(`${path} = ${JSON.stringify(v).slice(0, 80)} is not in the text`);
  }
  return problems;
}
