/**
 * Opens sealed (`enc:v1:`) secret settings and `secret://NAME` references in the raw tree, and warns about plain
 * secrets. Each sealed value is bound to where it sits: the JSON key path in the config file, or the primary
 * variable name for the environment, `.env` and `NAME_FILE` files.
 * @module
 */
import { KeyError, type MasterKey } from "../crypto/keys.ts";
import { hasKeySetting, keyAgeDays, type KeySettings, loadMasterKey } from "../crypto/key_source.ts";
import { looksSealed, openValue, SealError } from "../crypto/sealed.ts";
import { createSecretStore, type SecretStore, SecretStoreError } from "../secrets/store.ts";
import { secretRefName } from "../secrets/resolve.ts";
import { SETTINGS } from "./settings.ts";
import type { ConfigFs } from "./sources.ts";
import { concretePaths, type Origin } from "./tree.ts";
import { getAt, isPlainObject, setAt, type Tree } from "../core/tree.ts";

/** What unsealing needs from the loader. */
export interface UnsealContext {
  fs: ConfigFs;
  problems: string[];
  warnings: string[];
  now: () => number;
}

/** What unsealing did. */
export interface UnsealResult {
  /** Schema paths of values that were sealed. */
  sealed: string[];
  /** Id of the master key (raw keys only). */
  keyId?: string;
  /** Key files read (for permission checks). */
  keyFiles: string[];
  /** The master key, when one was set (for the secret store and `config` commands). */
  key?: MasterKey;
}

const KEY_PATHS = new Set(["secrets.masterKey", "secrets.passphrase"]);

/** Replaces every sealed secret and secret reference in `tree` by its value; problems never contain values. */
export async function unsealSecrets(
  tree: Tree,
  origins: ReadonlyMap<string, Origin>,
  ctx: UnsealContext,
): Promise<UnsealResult> {
  const labelOf = (parts: string[]) => origins.get(parts.join("."))?.label ?? parts.join(".");
  const slots: { parts: string[]; value: string }[] = [];
  for (const spec of SETTINGS) {
    for (const parts of concretePaths(spec, tree)) {
      const value = getAt(tree, parts);
      if (typeof value !== "string") continue;
      if (!spec.secret) {
        if (looksSealed(value)) ctx.problems.push(`${labelOf(parts)}: sealed values are only for secret settings`);
      } else if (KEY_PATHS.has(spec.path)) {
        if (looksSealed(value)) {
          ctx.problems.push(`${labelOf(parts)}: the master key cannot itself be sealed; give it in a 0600 key file`);
        }
      } else {
        slots.push({ parts, value });
      }
    }
  }

  const secrets = isPlainObject(tree.secrets) ? tree.secrets : {};
  const str = (v: unknown) => (typeof v === "string" && !looksSealed(v) ? v : undefined);
  const keySettings: KeySettings = {
    masterKey: str(secrets.masterKey),
    masterKeyFile: str(secrets.masterKeyFile),
    passphrase: str(secrets.passphrase),
    passphraseFile: str(secrets.passphraseFile),
  };
  const keyFiles = [keySettings.masterKeyFile, keySettings.passphraseFile].filter((f): f is string => !!f);
  const needed = slots.some((s) => looksSealed(s.value) || secretRefName(s.value) !== undefined);
  let key: MasterKey | undefined;
  let keyFailed = false;
  if (needed || hasKeySetting(keySettings)) {
    try {
      key = await loadMasterKey(keySettings, {
        readTextFile: ctx.fs.readTextFile,
        ...(ctx.fs.mtime ? { mtime: ctx.fs.mtime } : {}),
      });
    } catch (error) {
      if (!(error instanceof KeyError)) throw error;
      ctx.problems.push(error.message);
      keyFailed = true;
    }
  }

  const sealed: string[] = [];
  let store: SecretStore | undefined;
  for (const { parts, value } of slots) {
    const origin = origins.get(parts.join("."));
    const label = labelOf(parts);
    if (looksSealed(value)) {
      if (keyFailed) continue;
      try {
        setAt(tree, parts, await openValue(key, value, origin?.aad ?? parts.join("."), label));
        sealed.push(parts.join("."));
      } catch (error) {
        if (!(error instanceof SealError)) throw error;
        ctx.problems.push(error.message);
      }
      continue;
    }
    const ref = secretRefName(value);
    if (ref !== undefined) {
      const storeFile = str(secrets.storeFile);
      if (!storeFile) {
        ctx.problems.push(`${label}: refers to secret://${ref}, but no secret store is set (PROXMOX_MCP_SECRETS_FILE)`);
        continue;
      }
      if (keyFailed) continue;
      store ??= createSecretStore(storeFile, key, { now: ctx.now });
      try {
        setAt(tree, parts, await store.get(ref));
      } catch (error) {
        if (!(error instanceof SecretStoreError || error instanceof SealError)) throw error;
        ctx.problems.push(`${label}: ${error.message}`);
      }
      continue;
    }
    if (origin && !origin.viaFile && origin.kind !== "flag") ctx.warnings.push(plainWarning(label, origin));
  }

  if (key) {
    const max = typeof secrets.maxKeyAgeDays === "number" ? secrets.maxKeyAgeDays : 365;
    const age = keyAgeDays(key, ctx.now());
    if (age !== undefined && age > max) {
      ctx.warnings.push(
        `the master key (${key.info.source}) is ${age} days old, past the maximum of ${max} days; ` +
          "rotate it with: pve-mcp config rotate-key FILE",
      );
    }
  }
  return { sealed, keyFiles, ...(key?.id ? { keyId: key.id } : {}), ...(key ? { key } : {}) };
}

function plainWarning(label: string, origin: Origin): string {
  if (origin.kind === "env") {
    return `${label} holds a plain secret in the environment; prefer a file (${origin.aad}_FILE) or a sealed ` +
      "enc:v1: value (see docs/secrets.md)";
  }
  return `${label} holds a plain secret; seal it with: pve-mcp config encrypt ${origin.file ?? ""}`.trimEnd();
}
