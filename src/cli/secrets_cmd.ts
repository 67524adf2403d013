/**
 * `pve-mcp secrets set|list|rm`: the encrypted secret store whose values tools use through `secret://NAME` and the
 * model never reads. Values come from stdin or a no-echo prompt, never from the command line.
 * @module
 */
import { KeyError } from "../crypto/keys.ts";
import { loadMasterKey } from "../crypto/key_source.ts";
import { SealError } from "../crypto/sealed.ts";
import { createSecretStore, type SecretPolicy, SecretStoreError } from "../secrets/store.ts";
import { ALL_TOOLS } from "../tools/all.ts";
import { parseCommandArgs, pickSubcommand } from "./cli_args.ts";
import { type CliIo, outputFor, processIo, PromptCancelled, promptHidden, readAllStdin } from "./cli_io.ts";
import { EXIT } from "./exit_codes.ts";
import { resolveSecretsSettings } from "./secrets_settings.ts";

/** Every `tool.argument` that accepts `secret://` (what `--allow` may name). */
const SECRET_TARGETS = ALL_TOOLS.flatMap((t) => Object.keys(t.secretArgs ?? {}).map((a) => `${t.name}.${a}`));

/** Help text of each subcommand. */
export const SECRETS_HELP: Record<string, string> = {
  "": `Usage: pve-mcp secrets <command> [options]

The secret store: one encrypted file (PROXMOX_MCP_SECRETS_FILE, sealed with the master key) of named values. Tool
arguments such as cloud-init passwords, SSH keys or guest file contents accept secret://NAME; the server resolves it
inside, so the model can list names but never read a value. Newly created PVE token secrets are stored here.

Commands:
  set NAME     store a value, read from stdin or a no-echo prompt; --allow / --principal say where it may go
  list         names, use policy, created, updated, last used (never values)
  rm NAME      remove a value

Options: --file PATH (store file), --key-file KEY, --config FILE, --json (list), --help`,
  set: `Usage: pve-mcp secrets set NAME [--allow TOOL.ARG]… [--principal ID]… [--default-policy] [--file PATH]
                        [--key-file KEY]

Stores a value under NAME (letters, digits, ".", "_", "-"; up to 64), replacing an older one. The value is read from
stdin when it is piped (one trailing newline removed), otherwise asked for twice without echo. It is never taken
from the command line, where it would show in the process list and shell history.

Use policy (see docs/secrets.md):
  --allow TOOL.ARG   a tool argument the value may be sent through, e.g. guest_config.cipassword (repeatable).
                     Given: only these. Not given: any argument that accepts secret:// and does not hand the value
                     back; round trips (guest_agent.content, SSH keys) need an explicit --allow.
                     Arguments: ${SECRET_TARGETS.join(", ")}
  --principal ID     who may use it: stdio (a local session), device:NAME (an HTTP device token), or
                     pve:USER@REALM!TOKENID (PVE-token mode); repeatable. Not given: any principal.
  --default-policy   drop an existing policy (without --allow/--principal, replacing a value keeps its policy)`,
  list: `Usage: pve-mcp secrets list [--file PATH] [--json]

Lists the names with their use policy and created, updated and last-used times. Needs no key; shows no value.`,
  rm: `Usage: pve-mcp secrets rm NAME [--file PATH]

Removes NAME from the store. Exit code 1 when it was not there.`,
};

const PRINCIPAL = /^(stdio|device:[A-Za-z0-9][A-Za-z0-9._-]{0,63}|pve:[^\s!]+@[^\s!]+![A-Za-z0-9._-]+)$/;

const OPTIONS = {
  file: { type: "string" },
  "key-file": { type: "string" },
  config: { type: "string" },
  json: { type: "boolean" },
  allow: { type: "string", multiple: true },
  principal: { type: "string", multiple: true },
  "default-policy": { type: "boolean" },
} as const;

/** The policy the flags of `set` give (undefined: keep an existing one), or the usage problem. */
function policyFromFlags(values: Record<string, unknown>): { policy?: SecretPolicy } | { problem: string } {
  const allow = values.allow as string[] | undefined;
  const principals = values.principal as string[] | undefined;
  for (const a of allow ?? []) {
    if (!SECRET_TARGETS.includes(a)) {
      return { problem: `--allow ${JSON.stringify(a.slice(0, 80))} is not an argument that accepts secret://` };
    }
  }
  for (const p of principals ?? []) {
    if (!PRINCIPAL.test(p)) {
      return {
        problem: `--principal ${JSON.stringify(p.slice(0, 80))} is not a principal: use stdio, device:NAME or ` +
          "pve:USER@REALM!TOKENID",
      };
    }
  }
  if (values["default-policy"] && (allow || principals)) {
    return { problem: "--default-policy cannot be combined with --allow or --principal" };
  }
  if (values["default-policy"]) return { policy: {} };
  if (!allow && !principals) return {};
  return {
    policy: {
      ...(allow ? { allow: [...new Set(allow)] } : {}),
      ...(principals ? { principals: [...new Set(principals)] } : {}),
    },
  };
}

/** Runs `pve-mcp secrets …`; returns the exit code. */
export async function runSecretsCommand(args: string[], io: CliIo = processIo()): Promise<number> {
  const [sub = "", ...rest] = args;
  const picked = pickSubcommand(io, "secrets", SECRETS_HELP, sub, rest);
  if (typeof picked === "number") return picked;
  const out = outputFor(io);
  const p = parseCommandArgs(rest, OPTIONS, sub === "list" ? 0 : 1);
  const bad = (problem: string) => {
    out.error(`${problem}: run pve-mcp secrets ${sub} --help`);
    return EXIT.USAGE;
  };
  if (!p.ok) return bad(p.problem);
  const name = p.positionals[0];
  if (sub !== "list" && !name) return bad("name the secret");
  if (sub !== "set" && (p.values.allow || p.values.principal || p.values["default-policy"])) {
    return bad("--allow, --principal and --default-policy belong to secrets set");
  }
  const flags = policyFromFlags(p.values);
  if ("problem" in flags) return bad(flags.problem);
  const problems: string[] = [];
  const settings = await resolveSecretsSettings(io, {
    config: p.values.config as string | undefined,
    keyFile: p.values["key-file"] as string | undefined,
    storeFile: p.values.file as string | undefined,
  }, problems);
  for (const problem of problems) out.warn(problem);
  if (!settings.storeFile) {
    out.error("No secret store is set: set PROXMOX_MCP_SECRETS_FILE (or secrets.storeFile) or pass --file PATH");
    return EXIT.USAGE;
  }
  let key;
  try {
    key = sub === "set" ? await loadMasterKey(settings.key) : undefined;
  } catch (error) {
    if (!(error instanceof KeyError)) throw error;
    out.error(error.message);
    return EXIT.USAGE;
  }
  if (sub === "set" && !key) {
    out.error(
      "No master key is set: set PROXMOX_MCP_MASTER_KEY_FILE (see pve-mcp config generate-key) or pass --key-file",
    );
    return EXIT.USAGE;
  }
  const store = createSecretStore(settings.storeFile, key, io.now ? { now: io.now } : {});
  try {
    switch (sub) {
      case "list": {
        const rows = await store.list();
        const json = !!p.values.json;
        outputFor(io, json).table(
          rows.map((r) =>
            json ? { ...r } : {
              ...r,
              allow: r.allow ? r.allow.join(",") || "(nothing)" : "(default: no round trips)",
              principals: r.principals ? r.principals.join(",") || "(nobody)" : "(any)",
            }
          ),
          [
            { key: "name", header: "NAME" },
            { key: "allow", header: "ALLOW" },
            { key: "principals", header: "PRINCIPALS" },
            { key: "created", header: "CREATED" },
            { key: "updated", header: "UPDATED" },
            { key: "lastUsed", header: "LAST USED" },
          ],
        );
        return EXIT.OK;
      }
      case "rm": {
        if (await store.rm(name!)) {
          out.success(`Removed secret "${name}" from ${store.path}`);
          return EXIT.OK;
        }
        out.error(`Secret "${name}" is not in ${store.path}`);
        return EXIT.FAILURE;
      }
      default: {
        const value = await readValue(io, name!);
        if (value === undefined) return EXIT.FAILURE;
        await store.set(name!, value, flags.policy);
        const info = await store.info(name!);
        const where = info?.allow
          ? `only in ${info.allow.join(", ") || "no argument"}`
          : "in any argument that accepts " +
            "secret:// and does not hand the value back";
        const who = info?.principals ? `by ${info.principals.join(", ") || "nobody"}` : "by any principal";
        out.success(`Stored secret "${name}" in ${store.path}; use it as secret://${name} (${where}, ${who})`);
        return EXIT.OK;
      }
    }
  } catch (error) {
    if (error instanceof PromptCancelled) return EXIT.INTERRUPTED;
    if (error instanceof SecretStoreError || error instanceof SealError) {
      out.error(error.message);
      return error instanceof SecretStoreError && error.kind === "bad_name" ? EXIT.USAGE : EXIT.FAILURE;
    }
    throw error;
  }
}

async function readValue(io: CliIo, name: string): Promise<string | undefined> {
  const out = outputFor(io);
  if (!(io.stdinIsTerminal ?? io.isTerminal)) {
    const value = (await readAllStdin(io)).replace(/\r?\n$/, "");
    if (value === "") {
      out.error(`No value for "${name}" on stdin: pipe it in (e.g. from a password manager) or run in a terminal`);
      return undefined;
    }
    return value;
  }
  const first = await promptHidden(io, `Value for ${name} (not shown): `);
  if (first === "") {
    out.error("Empty value: nothing stored");
    return undefined;
  }
  const second = await promptHidden(io, "Again, to confirm: ");
  if (first !== second) {
    out.error("The two entries differ: nothing stored");
    return undefined;
  }
  return first;
}
