/**
 * `pve-mcp config status FILE`: which secret settings are plain or sealed, whether the current key opens them, the
 * file's mode and the key's age. Never a value.
 * @module
 */
import { keyAgeDays } from "../crypto/key_source.ts";
import { openValue, SealError } from "../crypto/sealed.ts";
import { fileModeWarning, windowsModeAdvice } from "../config/warnings.ts";
import type { SlotState } from "../secrets/sealed_file.ts";
import { parseCommandArgs } from "./cli_args.ts";
import { type CliIo, outputFor } from "./cli_io.ts";
import { cliKey, readSecretFile, usage } from "./config_common.ts";
import { EXIT } from "./exit_codes.ts";
import { resolveSecretsSettings } from "./secrets_settings.ts";

const STATE_TEXT: Record<SlotState, string> = {
  plain: "plain",
  sealed: "sealed",
  legacy: "python-fernet",
  "unknown-enc": "unknown-enc",
  ref: "secret-ref",
  empty: "empty",
  key: "master-key",
};

/** Runs `config status`. */
export async function runStatus(args: string[], io: CliIo): Promise<number> {
  const p = parseCommandArgs(args, {
    "key-file": { type: "string" },
    "max-key-age-days": { type: "string" },
    json: { type: "boolean" },
  }, 1);
  if (!p.ok) return usage(io, "status", p.problem);
  const path = p.positionals[0];
  if (!path) return usage(io, "status", "name the file to inspect");
  const maxFlag = p.values["max-key-age-days"] as string | undefined;
  if (maxFlag !== undefined && !/^[1-9]\d*$/.test(maxFlag)) {
    return usage(io, "status", "--max-key-age-days expects a whole number of days");
  }
  const out = outputFor(io, !!p.values.json);
  const problems: string[] = [];
  const settings = await resolveSecretsSettings(io, { keyFile: p.values["key-file"] as string | undefined }, problems);
  for (const problem of problems) out.warn(problem);
  const key = await cliKey(io, settings, false);
  if (typeof key === "number") return key;
  const file = await readSecretFile(out, path);
  if (typeof file === "number") return file;
  let failed = false;
  const rows: Record<string, unknown>[] = [];
  for (const slot of file.slots) {
    let check = "";
    if (slot.state === "sealed") {
      if (!key) check = "no key set";
      else {
        try {
          await openValue(key, slot.value, slot.field, slot.label);
          check = "ok";
        } catch (error) {
          failed = true;
          check = error instanceof SealError
            ? ({ wrong_key: "wrong key", auth: "damaged", format: "damaged" } as Record<string, string>)[error.kind] ??
              error.kind
            : "error";
        }
      }
    } else if (slot.state === "plain") check = "seal with config encrypt";
    else if (slot.state === "legacy") check = "convert with config migrate";
    else if (slot.state === "key") check = "move to a key file";
    rows.push({ field: slot.label, state: STATE_TEXT[slot.state], keyId: slot.keyId ?? "", check });
  }

  const mode = (await Deno.stat(path)).mode;
  const modeWarning = fileModeWarning(path, mode);
  const maxAge = maxFlag ? Number(maxFlag) : settings.maxKeyAgeDays;
  const now = (io.now ?? Date.now)();
  const age = key ? keyAgeDays(key, now) : undefined;
  const tooOld = age !== undefined && age > maxAge;
  const keyInfo = key
    ? {
      id: key.id ?? "(passphrase: per-file ids)",
      source: key.info.source,
      created: key.info.createdAt?.toISOString() ?? "unknown",
      ageDays: age ?? "unknown",
      maxAgeDays: maxAge,
    }
    : undefined;

  if (out.format === "json") {
    out.value({
      file: path,
      mode: mode === null ? null : (mode & 0o777).toString(8).padStart(4, "0"),
      key: keyInfo ?? null,
      fields: rows,
    });
  } else {
    out.table(rows, [
      { key: "field", header: "FIELD" },
      { key: "state", header: "STATE" },
      { key: "keyId", header: "KEY ID" },
      { key: "check", header: "CHECK" },
    ]);
    if (keyInfo) {
      out.info(
        `Current key ${keyInfo.id} from ${keyInfo.source}; created ${keyInfo.created}` +
          (age === undefined ? "" : `, ${age} days old (maximum ${maxAge})`),
      );
    } else out.info("No master key set: sealed values were not checked");
  }
  if (modeWarning) out.warn(modeWarning);
  const keyFile = key?.info.file;
  const keyModeWarning = keyFile
    ? fileModeWarning(keyFile, (await Deno.stat(keyFile).catch(() => undefined))?.mode)
    : undefined;
  if (keyModeWarning) out.warn(keyModeWarning);
  if (mode === null) out.warn(windowsModeAdvice([path]));
  if (tooOld) {
    out.warn(`The master key is ${age} days old, past the maximum of ${maxAge}: rotate it (config rotate-key)`);
  }
  const plain = rows.filter((r) => r.state === "plain").length;
  if (plain > 0) out.warn(`${plain} plain secret${plain === 1 ? "" : "s"}: seal with pve-mcp config encrypt ${path}`);
  if (failed) out.error("Some sealed values do not open with the current key");
  return failed || tooOld ? EXIT.FAILURE : EXIT.OK;
}
