/**
 * A small JSON state file shared by the server and the CLI: mode 0600, atomic rewrites (temp file, fsync, rename),
 * read-modify-write under an exclusive lock on `<file>.lock` so two processes never lose each other's changes, and a
 * read cache keyed by modification time and size.
 * @module
 */
import { basename, dirname, join } from "node:path";

/** Options of {@linkcode LockedJsonFile}. */
export interface LockedJsonFileOptions<T> {
  path: string;
  /** Value of a file that does not exist yet. */
  empty: () => T;
  /** Checks and normalises parsed content; throws with a message naming the file when it is not usable. */
  parse: (value: unknown, path: string) => T;
}

/** A JSON file read through a cache and changed only under a lock. */
export class LockedJsonFile<T> {
  readonly path: string;
  #cache: { key: string; value: T } | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(readonly opts: LockedJsonFileOptions<T>) {
    this.path = opts.path;
  }

  async #stamp(): Promise<string | undefined> {
    try {
      const s = await Deno.stat(this.path);
      return `${s.mtime?.getTime() ?? 0}:${s.size}:${s.ino ?? 0}`;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    }
  }

  async #load(): Promise<T> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return this.opts.empty();
      throw new Error(
        `Cannot read ${this.path} (${err instanceof Error ? err.name : "error"}): check the path setting`,
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error(`Cannot read ${this.path}: it is not valid JSON; restore it from a backup or move it aside`);
    }
    return this.opts.parse(value, this.path);
  }

  /** Current content (cached while the file is unchanged). Treat the result as read-only. */
  async read(): Promise<T> {
    const key = await this.#stamp();
    if (key === undefined) return this.opts.empty();
    if (this.#cache?.key === key) return this.#cache.value;
    const value = await this.#load();
    this.#cache = { key, value };
    return value;
  }

  /**
   * Runs `change` on a fresh copy under the lock and writes the result atomically when `change` returns
   * `{ write: true }` (the default). Serialised within this process too.
   */
  update<R>(change: (data: T) => R | Promise<R>, opts: { write?: (result: R) => boolean } = {}): Promise<R> {
    const run = this.#queue.then(() => this.#locked(change, opts.write ?? (() => true)));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Resolves once every update started so far has finished (successfully or not). */
  idle(): Promise<void> {
    return this.#queue.then(() => {}, () => {});
  }

  async #locked<R>(change: (data: T) => R | Promise<R>, shouldWrite: (r: R) => boolean): Promise<R> {
    await Deno.mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const lock = await Deno.open(`${this.path}.lock`, { read: true, write: true, create: true, mode: 0o600 });
    try {
      await lock.lock(true);
      const data = await this.#load();
      const result = await change(data);
      if (shouldWrite(result)) await this.#write(data);
      return result;
    } finally {
      try {
        await lock.unlock();
      } finally {
        lock.close();
      }
    }
  }

  async #write(data: T): Promise<void> {
    const tmp = join(dirname(this.path), `.${basename(this.path)}.${crypto.randomUUID()}.tmp`);
    const file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
    try {
      const bytes = new TextEncoder().encode(`${JSON.stringify(data, null, 2)}\n`);
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.syncData();
    } catch (err) {
      file.close();
      await Deno.remove(tmp).catch(() => {});
      throw err;
    }
    file.close();
    await Deno.chmod(tmp, 0o600);
    await Deno.rename(tmp, this.path);
    this.#cache = undefined;
  }
}
