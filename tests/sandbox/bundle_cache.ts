/**
 * The bundle the sandbox, e2e-smoke and client-config tests run: built once per source state with
 * scripts/bundle.ts and cached under the temp directory by a hash of everything that goes into it, so parallel test
 * files (and later runs with unchanged sources) share one build.
 * @module
 */
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { buildBundle } from "../../scripts/bundle.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  const entries = [];
  for await (const entry of Deno.readDir(dir)) entries.push(entry);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.isFile) yield path;
  }
}

/** SHA-256 over the paths and contents of src/, deno.json, deno.lock and the bundle script. */
export async function sourceHash(): Promise<string> {
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  const files = [join(ROOT, "deno.json"), join(ROOT, "deno.lock"), join(ROOT, "scripts", "bundle.ts")];
  for await (const file of sourceFiles(join(ROOT, "src"))) files.push(file);
  for (const file of files) {
    hash.update(relative(ROOT, file) + "\0");
    hash.update(await Deno.readFile(file));
  }
  hash.update(Deno.version.deno);
  return hash.digest("hex").slice(0, 24);
}

/** Removes bundles of older source states that nobody has built for an hour (parallel runs may still use newer ones). */
async function prune(dir: string, keep: string): Promise<void> {
  const cutoff = Date.now() - 3_600_000;
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (path === keep || !/^pve-mcp-[0-9a-f]+\.js$/.test(entry.name)) continue;
    try {
      if ((await Deno.stat(path)).mtime!.getTime() < cutoff) await Deno.remove(path);
    } catch {
      // removed by a parallel run
    }
  }
}

let pending: Promise<string> | undefined;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Path of a bundle of the current sources, built if needed. Test files run in parallel processes: the first one
 * takes a lock file and builds, the others wait for its result (or take over a lock left for more than 2 minutes).
 */
export function sandboxBundle(): Promise<string> {
  pending ??= (async () => {
    const dir = join(tmpdir(), "pve-mcp-test-bundles");
    await Deno.mkdir(dir, { recursive: true });
    const path = join(dir, `pve-mcp-${await sourceHash()}.js`);
    const lock = `${path}.lock`;
    for (let waited = 0; !(await exists(path)); waited += 200) {
      let mine = false;
      try {
        (await Deno.open(lock, { createNew: true, write: true })).close();
        mine = true;
      } catch {
        const stale = await Deno.stat(lock).then((s) => Date.now() - (s.mtime?.getTime() ?? 0) > 120_000, () => true);
        if (stale) await Deno.remove(lock).catch(() => {});
      }
      if (mine) {
        try {
          if (!(await exists(path))) await buildBundle({ out: path });
          await prune(dir, path);
        } finally {
          await Deno.remove(lock).catch(() => {});
        }
        break;
      }
      if (waited > 180_000) throw new Error(`Timed out waiting for another test process to build ${path}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return path;
  })();
  return pending;
}
