/**
 * Finding the master key from the settings: `PROXMOX_MCP_MASTER_KEY`, `PROXMOX_MCP_MASTER_KEY_FILE`,
 * `PROXMOX_MCP_MASTER_PASSPHRASE` or `PROXMOX_MCP_MASTER_PASSPHRASE_FILE` — exactly one of them.
 * @module
 */
import { KeyError, MasterKey, parseKeyText } from "./keys.ts";

/** The key settings as the configuration holds them (`secrets.*`). */
export interface KeySettings {
  masterKey?: string | undefined;
  masterKeyFile?: string | undefined;
  passphrase?: string | undefined;
  passphraseFile?: string | undefined;
}

/** File access the key loader needs; tests inject their own. */
export interface KeyFs {
  readTextFile(path: string): Promise<string>;
  /** Modification time, for the age of key files without a `# created:` header. */
  mtime?(path: string): Promise<Date | undefined>;
}

/** The real file system. */
export const denoKeyFs: KeyFs = {
  readTextFile: (path) => Deno.readTextFile(path),
  mtime: async (path) => {
    try {
      return (await Deno.stat(path)).mtime ?? undefined;
    } catch {
      return undefined;
    }
  },
};

/** Variable names of the key settings, for messages. */
export const KEY_ENV = {
  masterKey: "PROXMOX_MCP_MASTER_KEY",
  masterKeyFile: "PROXMOX_MCP_MASTER_KEY_FILE",
  passphrase: "PROXMOX_MCP_MASTER_PASSPHRASE",
  passphraseFile: "PROXMOX_MCP_MASTER_PASSPHRASE_FILE",
} as const;

/** True when any key setting is present. */
export function hasKeySetting(s: KeySettings): boolean {
  return [s.masterKey, s.masterKeyFile, s.passphrase, s.passphraseFile].some((v) => v !== undefined && v !== "");
}

/**
 * Loads the master key, or returns undefined when no key setting is present.
 * @throws {KeyError} when more than one is set, a file cannot be read, or the key is malformed (never quoting it).
 */
export async function loadMasterKey(s: KeySettings, fs: KeyFs = denoKeyFs): Promise<MasterKey | undefined> {
  const set = (Object.keys(KEY_ENV) as (keyof KeySettings)[]).filter((k) => s[k] !== undefined && s[k] !== "");
  if (set.length === 0) return undefined;
  if (set.length > 1) {
    throw new KeyError(`${set.map((k) => KEY_ENV[k]).join(" and ")}: set only one master key source`);
  }
  const which = set[0]!;
  if (which === "masterKey") {
    const parsed = parseKeyText(s.masterKey!, KEY_ENV.masterKey);
    return await MasterKey.fromBytes(parsed.raw, { source: KEY_ENV.masterKey });
  }
  if (which === "passphrase") return MasterKey.fromPassphrase(s.passphrase!, { source: KEY_ENV.passphrase });
  const file = which === "masterKeyFile" ? s.masterKeyFile! : s.passphraseFile!;
  const source = `${KEY_ENV[which]} (${file})`;
  let text: string;
  try {
    text = await fs.readTextFile(file);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound ? "the file does not exist" : "the file cannot be read";
    throw new KeyError(`${source}: ${why}`);
  }
  if (which === "passphraseFile") {
    return MasterKey.fromPassphrase(text.replace(/[\r\n]+$/, ""), { source, file });
  }
  const parsed = parseKeyText(text, source);
  const createdAt = parsed.createdAt ?? (await fs.mtime?.(file));
  return await MasterKey.fromBytes(parsed.raw, { source, file, ...(createdAt ? { createdAt } : {}) });
}

/** Age of a key in whole days, when its creation time is known. */
export function keyAgeDays(key: MasterKey, now: number): number | undefined {
  const created = key.info.createdAt;
  return created === undefined ? undefined : Math.floor((now - created.getTime()) / 86_400_000);
}
