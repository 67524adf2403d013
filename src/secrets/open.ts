/**
 * The server's secret store from its configuration: `secrets.storeFile`, sealed with the master key of
 * `secrets.masterKey[File]` / `secrets.passphrase[File]`.
 * @module
 */
import { type KeySettings, loadMasterKey } from "../crypto/key_source.ts";
import type { MasterKey } from "../crypto/keys.ts";
import { createSecretStore, type SecretStore } from "./store.ts";

/**
 * Opens the configured secret store, or returns undefined when `secrets.storeFile` is not set. Pass the key from
 * `loadConfigDetailed(...).key` to avoid reading the key file again.
 * @throws {KeyError} when the key settings are wrong (never quoting the key).
 */
export async function openSecretStore(
  secrets: KeySettings & { storeFile?: string | undefined },
  opts: { key?: MasterKey; now?: () => number } = {},
): Promise<SecretStore | undefined> {
  if (!secrets.storeFile) return undefined;
  const key = opts.key ?? (await loadMasterKey(secrets));
  return createSecretStore(secrets.storeFile, key, opts.now ? { now: opts.now } : {});
}
