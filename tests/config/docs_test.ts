import assert from "node:assert/strict";
import { renderSettingsTable, schemaLeafPaths, TABLE_BEGIN, TABLE_END } from "../../src/config/settings_doc.ts";
import { ENV_NAMES, SECRET_FIELDS, SETTINGS } from "../../src/config/settings.ts";

const doc = await Deno.readTextFile(new URL("../../docs/configuration.md", import.meta.url));

/** Table rows without the column padding `deno fmt` adds. */
function normalize(table: string): string[] {
  return table.trim().split("\n").map((l) => l.trim().replace(/\s*\|\s*/g, "|").replace(/\|-+(?=\|)/g, "|---"));
}

Deno.test("settings table covers exactly the schema's leaves", () => {
  const leaves = schemaLeafPaths().sort();
  const paths = SETTINGS.map((s) => s.path).sort();
  assert.deepEqual(paths, leaves);
  assert.equal(new Set(paths).size, paths.length, "each setting once");
});

Deno.test("docs/configuration.md lists every schema leaf and every variable the loader reads", () => {
  for (const leaf of schemaLeafPaths()) assert.ok(doc.includes(`\`${leaf}\``), `docs miss setting ${leaf}`);
  for (const name of ENV_NAMES) assert.ok(doc.includes(`\`${name}\``), `docs miss variable ${name}`);
  for (const s of SETTINGS) if (s.flag) assert.ok(doc.includes(`\`--${s.flag}\``), `docs miss flag --${s.flag}`);
});

Deno.test("docs/configuration.md's generated table is current", () => {
  const begin = doc.indexOf(TABLE_BEGIN);
  const end = doc.indexOf(TABLE_END);
  assert.ok(begin >= 0 && end > begin, "table markers present");
  const inDoc = doc.slice(begin + TABLE_BEGIN.length, end);
  assert.deepEqual(
    normalize(inDoc),
    normalize(renderSettingsTable()),
    "run: deno run --allow-read --allow-write src/config/settings_doc.ts && deno fmt docs/configuration.md",
  );
});

Deno.test("SECRET_FIELDS: every secret setting, no flag for any of them", () => {
  assert.deepEqual([...SECRET_FIELDS].sort(), [
    "audit.key",
    "clusters.*.password",
    "clusters.*.tokenSecret",
    "clusters.*.write.password",
    "clusters.*.write.tokenSecret",
    "http.adminToken",
    "secrets.masterKey",
    "secrets.passphrase",
  ]);
  for (const s of SETTINGS) if (s.secret) assert.equal(s.flag, undefined, `${s.path} must not have a flag`);
});
