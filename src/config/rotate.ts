/**
 * Re-sealing a file with a new master key, crash-safe: check that the current key opens every value, write a
 * timestamped 0600 backup, re-seal, write atomically, re-open with the new key to verify. At every moment the file
 * on disk is whole and opens with the old key (before the rename) or with the new one (after it). The new key must
 * already be on disk before this runs.
 * @module
 */
import type { MasterKey } from "../crypto/keys.ts";
import { type AtomicWriteOptions, backupFile, writeFileAtomic } from "../secrets/atomic_write.ts";
import {
  fileKdf,
  openSlots,
  renderSecretFile,
  sealForSlot,
  type SecretFile,
  type SecretSlot,
} from "../secrets/sealed_file.ts";
import { parseSecretFile } from "./secret_file.ts";

/** Steps of a rotation, in order, for crash-simulation tests. */
export type RotateStep = "checked" | "backup-written" | "temp-written" | "temp-synced" | "renamed" | "verified";

/** Outcome for one file. */
export interface RotateResult {
  path: string;
  status: "rotated" | "skipped" | "failed";
  /** Why a file was skipped or failed (never a value). */
  reason?: string;
  /** Backup written before the file was replaced. */
  backup?: string;
  /** Values re-sealed. */
  values: number;
  /** Plain secret values left as they were (seal them with `config encrypt`). */
  plain: number;
}

/** Options of {@linkcode rotateFile}. */
export interface RotateOptions {
  now?: () => number;
  /** Called after each step; throwing there simulates a crash. */
  onStep?: (step: RotateStep) => void | Promise<void>;
}

/** Re-seals every sealed value of `path` from `oldKey` to `newKey`. Never throws for file-level problems. */
export async function rotateFile(
  path: string,
  oldKey: MasterKey,
  newKey: MasterKey,
  opts: RotateOptions = {},
): Promise<RotateResult> {
  const now = opts.now ?? Date.now;
  let file: SecretFile;
  try {
    file = parseSecretFile(path, await Deno.readTextFile(path));
  } catch (error) {
    return { path, status: "failed", reason: reasonOf(error), values: 0, plain: 0 };
  }
  const sealed = file.slots.filter((s) => s.state === "sealed");
  const plain = file.slots.filter((s) => s.state === "plain").length;
  const legacy = file.slots.filter((s) => s.state === "legacy").length;
  if (sealed.length === 0) {
    const reason = legacy > 0 ? "only values of the Python server's format (use config migrate)" : "no sealed values";
    return { path, status: "skipped", reason, values: 0, plain };
  }
  const newKdf = await fileKdf({ ...file, slots: [] }, newKey);
  const isNew = (slot: SecretSlot) => newKey.kind === "key" && slot.kdf === undefined && slot.keyId === newKey.id;
  if (sealed.every(isNew)) {
    return { path, status: "skipped", reason: "already sealed with the new key", values: 0, plain };
  }
  const step = async (s: RotateStep) => await opts.onStep?.(s);
  let opened: Map<SecretSlot, string>;
  try {
    opened = await openSlots(file, (slot) => (isNew(slot) ? newKey : oldKey));
  } catch (error) {
    return { path, status: "failed", reason: reasonOf(error), values: 0, plain };
  }
  await step("checked");
  const backup = await backupFile(path, now());
  await step("backup-written");
  const replacements = new Map<SecretSlot, string>();
  for (const [slot, text] of opened) replacements.set(slot, await sealForSlot(slot, text, newKey, newKdf));
  const writeOpts: AtomicWriteOptions = { mode: 0o600, onStep: (s) => step(s) };
  await writeFileAtomic(path, renderSecretFile(file, replacements), writeOpts);
  const reread = parseSecretFile(path, await Deno.readTextFile(path));
  try {
    const check = await openSlots(reread, () => newKey);
    for (const [slot, text] of opened) {
      const again = [...check].find(([s]) => s.field === slot.field)?.[1];
      if (again !== text) throw new Error(`value of ${slot.label} did not survive the rewrite`);
    }
  } catch (error) {
    return {
      path,
      status: "failed",
      reason: `verification failed: ${reasonOf(error)}; restore ${backup}`,
      backup,
      values: 0,
      plain,
    };
  }
  await step("verified");
  return { path, status: "rotated", backup, values: opened.size, plain };
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : "unknown error";
}
