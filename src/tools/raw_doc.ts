/**
 * The raw API tool's reviewed class table as Markdown, for docs/safety.md (written by `deno task gen:docs`, checked
 * by tests/tools/raw_doc_test.ts), so the document always says what the code does.
 * @module
 */
import { RAW_RULES, type RawRule } from "./raw_classes.ts";

/** Marks the start of the generated table in docs/safety.md. */
export const RAW_TABLE_BEGIN =
  "<!-- raw-table:begin (generated from src/tools/raw_classes.ts by deno task gen:docs) -->";
/** Marks its end. */
export const RAW_TABLE_END = "<!-- raw-table:end -->";

function verdict(cls: string): string {
  return cls === "refused" ? "**refused**" : `**${cls}**`;
}

function line(r: RawRule): string {
  const paths = r.paths.map((p) => `\`${p}\``).join(", ");
  const notes = [
    ...(r.instead ? [`instead: ${r.instead}`] : []),
    ...(r.escalate ?? []).map((e) => `${verdict(e.cls)} with ${e.if} (${e.why})`),
    ...(r.mass ? ["acts on many guests when it names none"] : []),
    ...(r.undetermined ? [`guests undetermined: ${r.undetermined}`] : []),
    ...(r.fetches ? [`internal addresses refused in ${r.fetches.map((f) => `\`${f}\``).join(", ")}`] : []),
  ];
  return `- ${verdict(r.cls)} — ${r.methods.join(", ")} ${paths}: ${r.why}.` +
    (notes.length ? ` ${notes.map((n) => `${n[0]!.toUpperCase()}${n.slice(1)}.`).join(" ")}` : "");
}

/** The table's rows as a Markdown list, in the order the table is consulted (first match wins). */
export function renderRawTable(rules: readonly RawRule[] = RAW_RULES): string {
  return rules.map(line).join("\n");
}

/** `doc` with the text between the markers replaced by the current table. */
export function replaceRawTable(doc: string): string {
  const begin = doc.indexOf(RAW_TABLE_BEGIN);
  const end = doc.indexOf(RAW_TABLE_END);
  if (begin < 0 || end < begin) throw new Error("docs/safety.md lacks the raw-table markers");
  return `${doc.slice(0, begin + RAW_TABLE_BEGIN.length)}\n\n${renderRawTable()}\n\n${doc.slice(end)}`;
}
