/**
 * `secret://NAME` references in tool arguments: found for the audit log (which records the reference only) and
 * resolved inside the server just before the PVE request, so the model never sees a value.
 * @module
 */
import { type SecretStore, SecretStoreError } from "./store.ts";

const REF = /^secret:\/\/([A-Za-z0-9][A-Za-z0-9._-]{0,63})$/;

/** The secret name of a reference string, or undefined. */
export function secretRefName(value: unknown): string | undefined {
  return typeof value === "string" ? REF.exec(value)?.[1] : undefined;
}

/** Names referenced anywhere in `value` (strings, arrays, plain objects), in order of appearance, unique. */
export function findSecretRefs(value: unknown): string[] {
  const out = new Set<string>();
  const walk = (v: unknown) => {
    const name = secretRefName(v);
    if (name) out.add(name);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === "object" && v !== null) Object.values(v).forEach(walk);
  };
  walk(value);
  return [...out];
}

/**
 * Returns a copy of `value` with every string that is exactly `secret://NAME` replaced by the stored value, and
 * records each use. Values that only contain the text elsewhere are left alone.
 * @throws {SecretStoreError} when a name is unknown or no store is configured.
 */
export async function resolveSecretRefs<T>(
  value: T,
  store: SecretStore | undefined,
): Promise<{ value: T; refs: string[] }> {
  const refs = findSecretRefs(value);
  if (refs.length === 0) return { value, refs };
  if (!store) {
    throw new SecretStoreError(
      "not_found",
      `Cannot resolve secret://${refs[0]}: no secret store is configured; set PROXMOX_MCP_SECRETS_FILE and add the ` +
        `secret with: pve-mcp secrets set ${refs[0]}`,
    );
  }
  const values = new Map<string, string>();
  for (const name of refs) values.set(name, await store.get(name));
  const replace = (v: unknown): unknown => {
    const name = secretRefName(v);
    if (name) return values.get(name);
    if (Array.isArray(v)) return v.map(replace);
    if (typeof v === "object" && v !== null) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x)]));
    }
    return v;
  };
  const resolved = replace(value) as T;
  await Promise.all(refs.map((name) => store.touchLastUsed(name).catch(() => {})));
  return { value: resolved, refs };
}

/** A resolver bound to one store, for the call pipeline. */
export function createSecretResolver(store: SecretStore | undefined) {
  return <T>(value: T) => resolveSecretRefs(value, store);
}
