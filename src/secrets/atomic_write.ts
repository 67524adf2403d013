/**
 * Crash-safe file writes: a temp file beside the target, fsync, rename over the target, fsync of the directory.
 * At any moment the target is either the old or the new content, never a mix. Secret files are created 0600.
 * @module
 */
import { basename, dirname, join } from "node:path";

/** Steps of an atomic write, for tests that simulate a crash between them. */
export type WriteStep = "temp-written" | "temp-synced" | "renamed";

/** Options of {@linkcode writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** File mode of the result; default 0o600. */
  mode?: number;
  /** Called after each step; a throw there stops the write as a crash would (the temp file stays behind). */
  onStep?: (step: WriteStep) => void | Promise<void>;
}

const IS_WINDOWS = Deno.build.os === "windows";

/** Name prefix of temp files, so directory scans can skip them. */
export const TEMP_MARK = ".tmp-";

/** Writes `data` to `path` atomically (temp file, fsync, rename, directory fsync). */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  const mode = opts.mode ?? 0o600;
  const dir = dirname(path);
  const suffix = [...crypto.getRandomValues(new Uint8Array(6))].map((b) => b.toString(16).padStart(2, "0")).join("");
  const tmp = join(dir, `.${basename(path)}${TEMP_MARK}${suffix}`);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const file = await Deno.open(tmp, { write: true, createNew: true, mode });
  let renamed = false;
  try {
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await opts.onStep?.("temp-written");
      await file.sync();
    } finally {
      file.close();
    }
    if (!IS_WINDOWS) await Deno.chmod(tmp, mode);
    await opts.onStep?.("temp-synced");
    await Deno.rename(tmp, path);
    renamed = true;
    await syncDir(dir);
    await opts.onStep?.("renamed");
  } catch (error) {
    if (!renamed && !(error instanceof SimulatedCrash)) await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/** Thrown by test hooks to stop a write the way a crash would (nothing is cleaned up). */
export class SimulatedCrash extends Error {
  override readonly name = "SimulatedCrash";
}

async function syncDir(dir: string): Promise<void> {
  if (IS_WINDOWS) return;
  try {
    const handle = await Deno.open(dir, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is still atomic.
  }
}

/** `YYYYMMDDTHHMMSSZ` for file names. */
export function fileStamp(now: number): string {
  return new Date(now).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/** Copies `path` to a timestamped 0600 backup beside it (`FILE.bak-20250101T120000Z`) and returns its path. */
export async function backupFile(path: string, now: number, onStep?: AtomicWriteOptions["onStep"]): Promise<string> {
  const data = await Deno.readFile(path);
  let backup = `${path}.bak-${fileStamp(now)}`;
  for (let i = 1; await exists(backup); i++) backup = `${path}.bak-${fileStamp(now)}-${i}`;
  await writeFileAtomic(backup, data, { mode: 0o600, ...(onStep ? { onStep } : {}) });
  return backup;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Creates `path` with 0600 only if it does not exist yet; returns false when it already exists. */
export async function createExclusive(path: string, data: string): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    throw error;
  }
  try {
    await file.write(new TextEncoder().encode(data));
    await file.sync();
  } finally {
    file.close();
  }
  if (!IS_WINDOWS) await Deno.chmod(path, 0o600);
  await syncDir(dirname(path));
  return true;
}
