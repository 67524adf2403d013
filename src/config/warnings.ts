/**
 * Start-up warnings that do not stop the server: unknown `PROXMOX_MCP_*` variables and configuration, `.env`,
 * key and secret files that other users can read.
 * @module
 */
import { ENV_NAMES } from "./settings.ts";
import type { ConfigFs } from "./sources.ts";
import type { Origin } from "./tree.ts";
import { suggest } from "./issues.ts";

/** `PROXMOX_MCP_*` variables read by commands rather than settings (`config migrate`; docs/secrets.md). */
export const COMMAND_ENV_NAMES: readonly string[] = [
  "PROXMOX_MCP_LEGACY_MASTER_KEY",
  "PROXMOX_MCP_LEGACY_MASTER_KEY_FILE",
];

/** Warns about `PROXMOX_MCP_*` variables no setting reads (typos). */
export function unknownEnvWarnings(values: Readonly<Record<string, string | undefined>>, where: string): string[] {
  const known = new Set([...ENV_NAMES, ...COMMAND_ENV_NAMES]);
  const out: string[] = [];
  for (const name of Object.keys(values)) {
    if (!name.startsWith("PROXMOX_MCP_") || known.has(name)) continue;
    const hint = suggest(name, ENV_NAMES);
    out.push(`${name} (in ${where}) is not a known setting and is ignored${hint ? `; did you mean ${hint}?` : ""}`);
  }
  return out;
}

/** The warning for a file others may read, or undefined when its mode is fine or unknown. */
export function fileModeWarning(path: string, mode: number | null | undefined): string | undefined {
  if (mode === undefined || mode === null) return undefined;
  if ((mode & 0o077) === 0) return undefined;
  const octal = (mode & 0o777).toString(8).padStart(4, "0");
  const who = (mode & 0o007) !== 0 ? "every user" : "its group";
  return `${path} can be read or changed by ${who} (mode ${octal}); restrict it with: chmod 600 ${path}`;
}

/** What Windows users should do instead of `chmod`, for files whose mode cannot be checked. */
export function windowsModeAdvice(paths: readonly string[]): string {
  return `file permissions cannot be checked on Windows; make sure only your account can read ${paths.join(", ")} ` +
    `(e.g. icacls FILE /inheritance:r /grant:r "%USERNAME%:F")`;
}

/** Checks the config file, `.env`, `NAME_FILE` secrets and key files for group- or world-access. */
export async function checkFileModes(
  origins: ReadonlyMap<string, Origin>,
  keyFiles: readonly string[],
  fs: ConfigFs,
): Promise<string[]> {
  const files = new Set<string>(keyFiles);
  for (const origin of origins.values()) if (origin.file) files.add(origin.file);
  const out: string[] = [];
  const unchecked: string[] = [];
  for (const file of files) {
    const mode = await fs.fileMode(file);
    if (mode === null) unchecked.push(file);
    const warning = fileModeWarning(file, mode);
    if (warning) out.push(warning);
  }
  if (unchecked.length > 0) out.push(windowsModeAdvice(unchecked));
  return out;
}
