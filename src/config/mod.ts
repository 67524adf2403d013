/**
 * Configuration: one zod schema, loaded from flags > env > `.env` > JSON file.
 * @module
 */
export {
  type ClusterConfig,
  type Config,
  ConfigSchema,
  type LogLevel,
  type PolicyConfig,
  type WriteCredential,
} from "./schema.ts";
export { loadConfig, loadConfigDetailed, type LoadedConfig, type LoadOptions, scrubSecretEnv } from "./load.ts";
export { CONFIG_ERROR_EXIT_CODE, ConfigError, exitCodeFor } from "./errors.ts";
export { ENV_NAMES, SECRET_ENV_NAMES, SECRET_FIELDS, SETTINGS } from "./settings.ts";
export { redactConfig, REDACTED, secretValues } from "./redact.ts";
export { CONFIG_FLAG_OPTIONS } from "./sources.ts";
export { type Mode, MODES } from "../core/mod.ts";
