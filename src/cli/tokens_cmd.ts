/**
 * `pve-mcp tokens …`: device tokens for the HTTP transport (add, list, revoke) and device registration requests
 * (requests, approve, deny, purge).
 * @module
 */
import { type Mode, MODES, TOOLSETS } from "../core/mod.ts";
import { loadConfig } from "../config/load.ts";
import { defaultTokensFile, type DeviceTokenInfo, DeviceTokenStore } from "../auth/device_tokens.ts";
import { parseDuration } from "../auth/duration.ts";
import { Registrations } from "../auth/registration.ts";
import { type CliIo, processIo } from "./cli_io.ts";
import { runSubcommand, UsageError } from "./subcommand.ts";

const HELP = `Usage: pve-mcp tokens <command> [options]

Device tokens let HTTP clients in (docs/http.md). A token is shown once; only its SHA-256 hash is stored.

Commands:
  add NAME [--expires 30d] [--mode read-only|operator|admin] [--toolsets a,b]
                     create a token and print it (once)
  list               list tokens (name, id, mode, toolsets, created, expires, last used, state)
  revoke NAME|ID     revoke an active token
  requests           list pending device registration requests
  approve ID|CODE [--mode …] [--toolsets …] [--expires …]
                     approve a request (mode defaults to read-only, whatever the device asked for)
  deny ID|CODE       deny a request
  purge              remove every pending (and denied) registration request, e.g. after a flood

Options:
  --file PATH        tokens file (default: http.tokensFile, else ${defaultTokensFile({ HOME: "~" })})
  --config FILE      JSON configuration file to read http.tokensFile from
  --json             machine-readable output
  --help             this text

A token's mode and toolsets cap what that client may do; the server's own mode still applies.`;

/** Resolves the tokens file: --file, else the configuration's http.tokensFile, else the default path. */
export async function tokensFileFrom(
  file: string | undefined,
  configFile: string | undefined,
  env: Record<string, string | undefined> | undefined,
): Promise<string> {
  if (file !== undefined) return file;
  const config = await loadConfig({
    args: configFile === undefined ? [] : ["--config", configFile],
    ...(env !== undefined && { env }),
    requireCluster: false,
    scrubEnv: false,
  });
  return config.http.tokensFile ?? defaultTokensFile(env ?? Deno.env.toObject());
}

function parseMode(v: string | undefined): Mode | undefined {
  if (v === undefined) return undefined;
  if (!(MODES as readonly string[]).includes(v)) throw new UsageError(`Invalid --mode "${v}": use ${MODES.join(", ")}`);
  return v as Mode;
}

function parseToolsets(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const list = v.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  const unknown = list.filter((s) => !(TOOLSETS as readonly string[]).includes(s));
  if (unknown.length > 0 || list.length === 0) {
    throw new UsageError(`Invalid --toolsets "${v}": known toolsets are ${TOOLSETS.join(", ")}`);
  }
  return list;
}

function parseExpires(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  try {
    return parseDuration(v);
  } catch (e) {
    throw new UsageError((e as Error).message.replace("Invalid duration", "Invalid --expires"));
  }
}

function state(t: DeviceTokenInfo, now: number): string {
  if (t.revoked !== undefined) return "revoked";
  if (t.expires !== undefined && Date.parse(t.expires) <= now) return "expired";
  return "active";
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n") + "\n";
}

const day = (iso: string | undefined) => iso === undefined ? "-" : iso.slice(0, 16).replace("T", " ");

const OPTIONS = {
  file: { type: "string" },
  config: { type: "string" },
  expires: { type: "string" },
  mode: { type: "string" },
  toolsets: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Runs `pve-mcp tokens …` and returns the exit code (0 ok, 1 failure, 2 usage). */
export async function runTokensCommand(args: string[], io: CliIo = processIo()): Promise<number> {
  return await runSubcommand("tokens", HELP, args, OPTIONS, io, async ({ values: o, sub, rest }) => {
    const [arg, ...extra] = rest;
    const needsArg = ["add", "revoke", "approve", "deny"].includes(sub);
    if (!["add", "list", "revoke", "requests", "approve", "deny", "purge"].includes(sub)) {
      throw new UsageError(`Unknown tokens command "${sub}": use add, list, revoke, requests, approve, deny or purge`);
    }
    if (needsArg && arg === undefined) {
      throw new UsageError(`tokens ${sub} needs a ${sub === "add" ? "NAME" : "NAME or ID"}`);
    }
    if (extra.length > 0 || (!needsArg && arg !== undefined)) {
      throw new UsageError(`Unexpected argument "${extra[0] ?? arg}" for tokens ${sub}`);
    }
    const mode = parseMode(o.mode);
    const toolsets = parseToolsets(o.toolsets);
    const expiresInMs = parseExpires(o.expires);
    const path = await tokensFileFrom(o.file, o.config, io.env);
    const store = new DeviceTokenStore({ path });
    const json = (v: unknown) => io.stdout(`${JSON.stringify(v, null, 2)}\n`);
    switch (sub) {
      case "add": {
        const { token, info } = await store.add({
          name: arg!,
          ...(mode !== undefined && { mode }),
          ...(toolsets !== undefined && { toolsets }),
          ...(expiresInMs !== undefined && { expiresInMs }),
        });
        if (o.json === true) json({ token, ...info });
        else if (io.isTerminal) {
          io.stdout(`${token}\n`);
          io.stderr(
            `Created token "${info.name}" (id ${info.id}, mode ${info.mode ?? "server mode"}` +
              `${info.expires ? `, expires ${day(info.expires)}` : ""}) in ${path}.\n` +
              "Copy it now: it is not shown again. Clients send it as `Authorization: Bearer <token>`.\n",
          );
        } else io.stdout(`${token}\n`);
        return 0;
      }
      case "list": {
        const tokens = await store.list();
        if (o.json === true) {
          json(tokens);
          return 0;
        }
        if (tokens.length === 0) {
          io.stdout(`No device tokens in ${path}. Create one with: pve-mcp tokens add NAME\n`);
          return 0;
        }
        const now = Date.now();
        io.stdout(table([
          ["NAME", "ID", "MODE", "TOOLSETS", "CREATED", "EXPIRES", "LAST USED", "STATE"],
          ...tokens.map((t) => [
            t.name,
            t.id,
            t.mode ?? "-",
            t.toolsets?.join(",") ?? "all",
            day(t.created),
            day(t.expires),
            day(t.lastUsed),
            state(t, now),
          ]),
        ]));
        return 0;
      }
      case "revoke": {
        const t = await store.revoke(arg!);
        if (o.json === true) json(t);
        else io.stdout(`Revoked token "${t.name}" (id ${t.id}). Clients using it now get 401.\n`);
        return 0;
      }
      case "requests": {
        const reqs = await new Registrations(store).list();
        if (o.json === true) {
          json(reqs);
          return 0;
        }
        if (reqs.length === 0) {
          io.stdout("No registration requests.\n");
          return 0;
        }
        io.stdout(table([
          ["CODE", "ID", "NAME", "STATUS", "ASKED MODE", "FROM", "CREATED", "EXPIRES"],
          ...reqs.map((r) => [
            r.code,
            r.id,
            r.name,
            r.fetched ? "fetched" : r.status,
            r.requestedMode ?? "-",
            r.remote ?? "-",
            day(r.created),
            day(r.expires),
          ]),
        ]));
        return 0;
      }
      case "approve": {
        const t = await new Registrations(store).approve(arg!, {
          ...(mode !== undefined && { mode }),
          ...(toolsets !== undefined && { toolsets }),
          ...(expiresInMs !== undefined && { expiresInMs }),
        });
        if (o.json === true) json(t);
        else {
          io.stdout(
            `Approved "${t.name}" with mode ${t.mode}${t.toolsets ? ` and toolsets ${t.toolsets.join(",")}` : ""}; ` +
              "the device can now fetch its token (once).\n",
          );
        }
        return 0;
      }
      case "deny": {
        const r = await new Registrations(store).deny(arg!);
        if (o.json === true) json(r);
        else io.stdout(`Denied request ${r.code} from "${r.name}".\n`);
        return 0;
      }
      case "purge": {
        const removed = await new Registrations(store).purge();
        if (o.json === true) json({ removed });
        else io.stdout(`Removed ${removed} registration request${removed === 1 ? "" : "s"}.\n`);
        return 0;
      }
    }
    return 2;
  });
}
