/**
 * Secrets at rest: the secret store (`secret://NAME`), sealed files, rotation and atomic writes.
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
export { rotateFile, type RotateResult } from "./rotate.ts";
