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
  type SecretStore,
  SecretStoreError,
} from "./store.ts";
export { createSecretResolver, findSecretRefs, resolveSecretRefs, secretRefName } from "./resolve.ts";
export { backupFile, writeFileAtomic } from "./atomic_write.ts";
