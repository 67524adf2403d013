/**
 * Test helpers for the secrets tests: temp dirs and keys.
 * @module
 */
import { generateKeyBytes, MasterKey } from "../../src/crypto/keys.ts";

/** A fresh raw master key. */
export async function newKey(source = "test key"): Promise<MasterKey> {
  return await MasterKey.fromBytes(generateKeyBytes(), { source });
}

/** Runs `fn` in a fresh temp dir that is removed afterwards. */
export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-secrets-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Permission bits of a file. */
export async function modeOf(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}
