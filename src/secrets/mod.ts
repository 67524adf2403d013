/**
 * Secrets at rest: the secret store (`secret://NAME`), sealed slots and atomic writes (rotation of config files is in src/config/rotate.ts).
 * @module
 */
export { openSecretStore } from "./open.ts";
export {
  checkSecretName,
  createSecretStore,
  SECRET_NAME,
  type SecretInfo,
  type SecretPolicy,
  type SecretStore,
  SecretStoreError,
} from "./store.ts";
export {
  callSecretResolver,
  findSecretRefs,
  noStoreError,
  type SecretRefAt,
  secretRefName,
  secretRefsIn,
} from "./resolve.ts";
export { type SecretUse, secretUseRefusal } from "./policy.ts";
export { backupFile, writeFileAtomic } from "./atomic_write.ts";
