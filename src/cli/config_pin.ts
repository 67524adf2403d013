/**
 * `config check --pin`: writes a cluster's certificate fingerprint into the file that configures the cluster (the
 * JSON config or `.env`), with a backup and an atomic rewrite. Trust on first use, made explicit.
 * @module
 */
import type { LoadedConfig } from "../config/load.ts";
import { isPlainObject, setAt } from "../core/tree.ts";
import { backupFile, writeFileAtomic } from "../secrets/atomic_write.ts";

/** What pinning did. */
export interface PinResult {
  ok: boolean;
  message: string;
}

const ENV_NAME = "PROXMOX_FINGERPRINT";

/** Pins `fingerprint` for cluster `name` in the file its settings came from. */
export async function pinFingerprint(
  name: string,
  fingerprint: string,
  loaded: LoadedConfig,
  now: () => number,
): Promise<PinResult> {
  const fpOrigin = loaded.origins.get(`clusters.${name}.fingerprint`);
  const hostOrigin = loaded.origins.get(`clusters.${name}.host`);
  const origin = fpOrigin ?? hostOrigin;
  const configFile = loaded.files.config;
  const dotenv = loaded.files.dotenv;
  const manual = `set ${ENV_NAME}=${fingerprint} (or clusters.${name}.fingerprint in the JSON config) yourself`;
  if (fpOrigin && (fpOrigin.kind === "env" || fpOrigin.kind === "flag")) {
    return { ok: false, message: `the fingerprint comes from ${fpOrigin.label}, which cannot be rewritten: ${manual}` };
  }
  try {
    if (origin?.kind === "file" && origin.file) {
      const jsonPath = fpOrigin ? fpOrigin.aad.split(".") : ["clusters", name, "fingerprint"];
      return await pinJson(origin.file, jsonPath, fingerprint, now);
    }
    if (origin?.kind === "dotenv" && origin.file) return await pinDotenv(origin.file, fingerprint, now);
    if (configFile) return await pinJson(configFile, ["clusters", name, "fingerprint"], fingerprint, now);
    if (dotenv) return await pinDotenv(dotenv, fingerprint, now);
  } catch (error) {
    return { ok: false, message: `cannot write the fingerprint: ${error instanceof Error ? error.message : error}` };
  }
  return { ok: false, message: `no configuration file to write to: ${manual}` };
}

async function pinJson(file: string, parts: string[], fingerprint: string, now: () => number): Promise<PinResult> {
  const json: unknown = JSON.parse(await Deno.readTextFile(file));
  if (!isPlainObject(json)) return { ok: false, message: `${file} is not a JSON object` };
  setAt(json, parts, fingerprint);
  const backup = await backupFile(file, now());
  await writeFileAtomic(file, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600 });
  return { ok: true, message: `pinned ${fingerprint} as ${parts.join(".")} in ${file} (backup ${backup})` };
}

async function pinDotenv(file: string, fingerprint: string, now: () => number): Promise<PinResult> {
  const lines = (await Deno.readTextFile(file)).split("\n");
  const line = `${ENV_NAME}=${fingerprint}`;
  const at = lines.findIndex((l) => new RegExp(`^\\s*(export\\s+)?${ENV_NAME}\\s*=`).test(l));
  if (at >= 0) lines[at] = line;
  else {
    if (lines.at(-1) === "") lines.pop();
    lines.push(line, "");
  }
  const backup = await backupFile(file, now());
  await writeFileAtomic(file, lines.join("\n"), { mode: 0o600 });
  return { ok: true, message: `pinned ${fingerprint} as ${ENV_NAME} in ${file} (backup ${backup})` };
}
