/**
 * The secret store: one JSON file (0600) of named values, each sealed with the master key and bound to its name
 * (`secret://NAME` as additional data). Names and dates are readable without the key so they can be listed — also
 * to the model; values leave the store only inside the server, where `secret://NAME` references are resolved.
 * @module
 */
import { dirname } from "node:path";
import type { MasterKey } from "../crypto/keys.ts";
import { openValue } from "../crypto/sealed.ts";
import { writeFileAtomic } from "./atomic_write.ts";
import { fileKdf, sealForSlot, type SecretSlot, STORE_KIND, storeSlots } from "./sealed_file.ts";

/** Valid secret names: letters, digits, `.`, `_`, `-`; up to 64 characters. */
export const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Where a secret may go (src/secrets/policy.ts decides). Stored beside the sealed value, readable without the key.
 * An entry without a policy (or a field left out) gets the default: any argument that accepts `secret://` and does
 * not hand the value back, used by any principal.
 */
export interface SecretPolicy {
  /** Tool arguments (`tool.argument`) the value may be sent through; round trips only when listed here. */
  allow?: string[];
  /** Principals (`stdio`, `device:NAME`, `pve:USER@REALM!TOKENID`) that may use it. */
  principals?: string[];
}

/** What `list` shows of a secret: never its value. */
export interface SecretInfo extends SecretPolicy {
  name: string;
  created: string;
  updated: string;
  lastUsed?: string;
}

/** A problem with the store; messages name secrets, never values. */
export class SecretStoreError extends Error {
  override readonly name = "SecretStoreError";
  constructor(readonly kind: "not_found" | "no_key" | "bad_name" | "damaged", message: string) {
    super(message);
  }
}

/** The store's operations. */
export interface SecretStore {
  readonly path: string;
  /** The value of `name`; throws {@linkcode SecretStoreError} `not_found` when absent. */
  get(name: string): Promise<string>;
  has(name: string): Promise<boolean>;
  /** Names, dates and use policy of `name` (no key needed); undefined when absent. */
  info(name: string): Promise<SecretInfo | undefined>;
  /** Adds or replaces `name`; without `policy` a replaced entry keeps its policy (a new one gets the default). */
  set(name: string, value: string, policy?: SecretPolicy): Promise<void>;
  /** Names and dates, sorted by name. */
  list(): Promise<SecretInfo[]>;
  /** Removes `name`; false when it was not there. */
  rm(name: string): Promise<boolean>;
  /** Records that `name` was used now (written at most once a minute per name). */
  touchLastUsed(name: string): Promise<void>;
}

interface Entry extends SecretPolicy {
  value: string;
  created: string;
  updated: string;
  lastUsed?: string;
}

/** The public view of an entry. */
function infoOf(name: string, e: Entry): SecretInfo {
  return {
    name,
    created: e.created,
    updated: e.updated,
    ...(e.lastUsed ? { lastUsed: e.lastUsed } : {}),
    ...(Array.isArray(e.allow) ? { allow: e.allow.filter((x) => typeof x === "string") } : {}),
    ...(Array.isArray(e.principals) ? { principals: e.principals.filter((x) => typeof x === "string") } : {}),
  };
}

/** The policy fields to store: those given (an empty list is kept: it allows nothing). */
function policyFields(p: SecretPolicy): SecretPolicy {
  return { ...(p.allow ? { allow: [...p.allow] } : {}), ...(p.principals ? { principals: [...p.principals] } : {}) };
}

interface StoreFile {
  kind: typeof STORE_KIND;
  version: 1;
  entries: Record<string, Entry>;
}

const TOUCH_INTERVAL_MS = 60_000;

/** Read-modify-write sections per store file, so changes within one process never overwrite each other. */
const locks = new Map<string, Promise<unknown>>();

function locked<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const previous = locks.get(path) ?? Promise.resolve();
  const run = previous.catch(() => {}).then(fn);
  const tail = run.catch(() => {});
  locks.set(path, tail);
  void tail.then(() => {
    if (locks.get(path) === tail) locks.delete(path);
  });
  return run;
}

/** Checks a secret name; throws `bad_name`. */
export function checkSecretName(name: string): void {
  if (!SECRET_NAME.test(name)) {
    throw new SecretStoreError(
      "bad_name",
      `Invalid secret name ${JSON.stringify(name.slice(0, 80))}: use letters, digits, ".", "_" and "-" (at most 64, ` +
        "starting with a letter or digit)",
    );
  }
}

/**
 * Opens the store at `path` (created on the first `set`). Without `key`, names can be listed but values can be
 * neither read nor written.
 */
export function createSecretStore(
  path: string,
  key: MasterKey | undefined,
  opts: { now?: () => number } = {},
): SecretStore {
  const now = opts.now ?? Date.now;

  async function read(): Promise<StoreFile> {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return { kind: STORE_KIND, version: 1, entries: {} };
      throw new SecretStoreError(
        "damaged",
        `Cannot read the secret store ${path} (${error instanceof Error ? error.name : "error"}): check ` +
          "secrets.storeFile (PROXMOX_MCP_SECRETS_FILE) and that its directory exists",
      );
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new SecretStoreError("damaged", `The secret store ${path} is not valid JSON; restore it from a backup`);
    }
    const d = data as Partial<StoreFile>;
    if (d.kind !== STORE_KIND || d.version !== 1 || typeof d.entries !== "object" || d.entries === null) {
      throw new SecretStoreError("damaged", `${path} is not a pve-mcp secret store (version 1)`);
    }
    return d as StoreFile;
  }

  async function write(data: StoreFile): Promise<void> {
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  }

  function needKey(action: string): MasterKey {
    if (!key) {
      throw new SecretStoreError(
        "no_key",
        `Cannot ${action}: no master key is set; set PROXMOX_MCP_MASTER_KEY_FILE (see docs/secrets.md)`,
      );
    }
    return key;
  }

  function notFound(name: string): SecretStoreError {
    return new SecretStoreError(
      "not_found",
      `Secret "${name}" is not in the secret store ${path}; add it with: pve-mcp secrets set ${name}`,
    );
  }

  return {
    path,
    async get(name) {
      checkSecretName(name);
      const k = needKey(`read secret "${name}"`);
      const { entries } = await read();
      const entry = Object.hasOwn(entries, name) ? entries[name] : undefined;
      if (!entry) throw notFound(name);
      return await openValue(k, entry.value, `secret://${name}`, `secret ${name} in ${path}`);
    },
    async has(name) {
      return Object.hasOwn((await read()).entries, name);
    },
    async info(name) {
      const { entries } = await read();
      return Object.hasOwn(entries, name) ? infoOf(name, entries[name]!) : undefined;
    },
    async set(name, value, policy) {
      checkSecretName(name);
      const k = needKey(`store secret "${name}"`);
      const data = await read();
      const file = storeSlots(path, structuredClone(data) as never);
      const slot: SecretSlot = {
        field: `secret://${name}`,
        label: `secret ${name}`,
        value: "",
        state: "plain",
        loc: { kind: "json", parts: ["entries", name, "value"] },
      };
      const sealed = await sealForSlot(slot, value, k, await fileKdf(file, k));
      await locked(path, async () => {
        const stamp = new Date(now()).toISOString();
        const fresh = await read(); // re-read right before writing: keep changes made meanwhile
        const previous = fresh.entries[name];
        const kept = policy ?? previous ?? {};
        fresh.entries[name] = {
          value: sealed,
          created: previous?.created ?? stamp,
          updated: stamp,
          ...policyFields(kept),
        };
        await write(fresh);
      });
    },
    async list() {
      const data = await read();
      return Object.entries(data.entries)
        .map(([name, e]) => infoOf(name, e))
        .sort((a, b) => a.name.localeCompare(b.name));
    },
    rm(name) {
      checkSecretName(name);
      return locked(path, async () => {
        const data = await read();
        if (!Object.hasOwn(data.entries, name)) return false;
        delete data.entries[name];
        await write(data);
        return true;
      });
    },
    touchLastUsed(name) {
      return locked(path, async () => {
        const data = await read();
        const entry = data.entries[name];
        if (!entry) return;
        const last = entry.lastUsed ? Date.parse(entry.lastUsed) : 0;
        if (now() - last < TOUCH_INTERVAL_MS) return;
        entry.lastUsed = new Date(now()).toISOString();
        await write(data);
      });
    },
  };
}
