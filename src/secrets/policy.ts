/**
 * Per-secret use policy: which tool arguments a stored value may be sent through, and which principals may use it.
 * Pure; the call pipeline asks it before a value is resolved.
 *
 * Default (an entry without a policy, or a field left out): any argument that accepts `secret://` and does not hand
 * the value back (a round trip), by any principal. A round trip (an argument whose value can be read back, such as a
 * file written into a guest or SSH keys in a guest's configuration) needs the secret to list that argument.
 * @module
 */
import type { SecretPolicy } from "./store.ts";

/** One intended use of a secret. */
export interface SecretUse {
  /** `tool.argument`. */
  target: string;
  /** Why the argument hands the value back (absent: it does not). */
  roundTrip?: string;
  /** The caller's principal id. */
  principal: string;
}

/** Why `name` may not be used this way, or undefined when it may. Names the reference, never a value. */
export function secretUseRefusal(name: string, policy: SecretPolicy, use: SecretUse): string | undefined {
  const ref = `secret://${name}`;
  if (policy.principals !== undefined && !policy.principals.includes(use.principal)) {
    return `${ref} may not be used by ${use.principal}: it is reserved for ${
      policy.principals.length ? policy.principals.join(", ") : "no principal"
    } (pve-mcp secrets set ${name} --principal …)`;
  }
  if (policy.allow !== undefined) {
    if (policy.allow.includes(use.target)) return undefined;
    return `${ref} may not be used in ${use.target}: it may be used only in ${
      policy.allow.length ? policy.allow.join(", ") : "no argument"
    } (pve-mcp secrets set ${name} --allow ${use.target} widens it)`;
  }
  if (use.roundTrip) {
    return `${ref} may not be used in ${use.target}: ${use.roundTrip}, and the secret does not allow that round ` +
      `trip (pve-mcp secrets set ${name} --allow ${use.target} allows it)`;
  }
  return undefined;
}
