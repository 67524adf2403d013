/**
 * Sealed values (`enc:v1:`, AES-256-GCM with the field path as additional data) and master keys.
 * @module
 */
export {
  isLegacySealed,
  looksSealed,
  openValue,
  SEALED_PREFIX,
  SealError,
  type SealErrorKind,
  sealValue,
} from "./sealed.ts";
export { generateKeyBytes, KEY_BYTES, KeyError, MasterKey, PBKDF2_ITERATIONS } from "./keys.ts";
export { hasKeySetting, keyAgeDays, type KeySettings, loadMasterKey } from "./key_source.ts";
