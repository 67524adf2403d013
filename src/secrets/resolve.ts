/**
 * `secret://NAME` references in tool arguments: found with where they stand (the call pipeline checks each against
 * the tool's secret arguments and the secret's use policy) and resolved inside the server just before the PVE
 * request, so the model never sees a value. The audit log records the reference only.
 * @module
 */
import { type SecretStore, SecretStoreError } from "./store.ts";

const REF = /^secret:\/\/([A-Za-z0-9][A-Za-z0-9._-]{0,63})$/;

/** The secret name of a reference string, or undefined. */
export function secretRefName(value: unknown): string | undefined {
  return typeof value === "string" ? REF.exec(value)?.[1] : undefined;
}

/** One string in the arguments that looks like a reference: where it stands, and its name when it is valid. */
export interface SecretRefAt {
  /** Path of the string in the arguments (`["sshkeys"]`, `["params", "content"]`). */
  path: (string | number)[];
  /** The secret's name; undefined when the string starts with `secret://` but is not a valid reference. */
  name: string | undefined;
}

/** Every string in `value` (strings, arrays, plain objects) that starts with `secret://`, in order of appearance. */
export function secretRefsIn(value: unknown): SecretRefAt[] {
  const out: SecretRefAt[] = [];
  const walk = (v: unknown, path: (string | number)[], depth: number) => {
    if (typeof v === "string") {
      if (v.startsWith("secret://")) out.push({ path, name: secretRefName(v) });
    } else if (depth > 32) {
      return;
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...path, i], depth + 1));
    } else if (typeof v === "object" && v !== null) {
      for (const [k, x] of Object.entries(v)) walk(x, [...path, k], depth + 1);
    }
  };
  walk(value, [], 0);
  return out;
}

/** Names referenced anywhere in `value`, in order of appearance, unique. */
export function findSecretRefs(value: unknown): string[] {
  return [...new Set(secretRefsIn(value).flatMap((r) => (r.name ? [r.name] : [])))];
}

/**
 * Resolves the references one call was cleared to use: `cleared` maps an argument to the one secret name it may
 * resolve; each value is handed to `register` (the call's scrub scope) before it is returned, and its use recorded.
 * @throws {TypeError} for a field or name the call was not cleared for (a tool bug), {SecretStoreError} when absent.
 */
export function callSecretResolver(
  store: SecretStore,
  cleared: ReadonlyMap<string, string>,
  register: (value: string) => void,
): (field: string, ref: string) => Promise<string> {
  return async (field, ref) => {
    const name = secretRefName(ref);
    if (name === undefined || cleared.get(field) !== name) {
      throw new TypeError(`internal error: ${field} was not cleared to use a secret reference`);
    }
    const value = await store.get(name);
    register(value);
    await store.touchLastUsed(name).catch(() => {});
    return value;
  };
}

/** The error for a reference when no store is configured. */
export function noStoreError(name: string): SecretStoreError {
  return new SecretStoreError(
    "not_found",
    `Cannot resolve secret://${name}: no secret store is configured; set PROXMOX_MCP_SECRETS_FILE and add the ` +
      `secret with: pve-mcp secrets set ${name}`,
  );
}
