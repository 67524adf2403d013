/**
 * SHA-256 helpers for release artifacts: `SHA256SUMS` in the GNU coreutils format that `sha256sum -c` and
 * `shasum -a 256 -c` read (`<hex>  <file name>`, sorted by name).
 * @module
 */
import { basename } from "node:path";

/** Hex SHA-256 of a file, streamed (the binaries are ~100 MB). */
export async function sha256File(path: string): Promise<string> {
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  const file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) hash.update(chunk); // the stream closes the file at its end
  return hash.digest("hex");
}

/** Writes `SHA256SUMS` in `dir` for `files` (paths; listed by base name). Returns the text written. */
export async function writeSha256Sums(dir: string, files: string[]): Promise<string> {
  const lines: string[] = [];
  for (const file of [...files].sort((a, b) => basename(a).localeCompare(basename(b)))) {
    lines.push(`${await sha256File(file)}  ${basename(file)}`);
  }
  const text = lines.join("\n") + "\n";
  await Deno.writeTextFile(`${dir}/SHA256SUMS`, text);
  return text;
}

/** Checks every line of a `SHA256SUMS` text against the files in `dir`; returns the names that do not match. */
export async function verifySha256Sums(dir: string, text: string): Promise<string[]> {
  const bad: string[] = [];
  for (const line of text.split("\n").filter((l) => l.trim() !== "")) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m === null) {
      bad.push(line);
      continue;
    }
    const [, hex, name = ""] = m;
    try {
      if ((await sha256File(`${dir}/${name}`)) !== hex) bad.push(name);
    } catch {
      bad.push(name);
    }
  }
  return bad;
}
