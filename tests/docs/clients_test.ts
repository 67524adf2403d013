/**
 * Every client snippet in docs/clients.md is parsed (JSON, Codex's TOML, Claude Code's shell command) and the server
 * is started with the snippet's command, arguments and environment against the simulator; a real MCP client must
 * list its tools. Each client has a snippet for each install path, told apart by the command:
 * - `…/.deno/bin/pve-mcp` (`deno task install`): the real shim, installed by scripts/install.ts into a temp root;
 * - `…/deno` with `run <release flags> …/pve-mcp.js serve` (the bundle): this Deno and the bundle of the sources;
 * - any other `…/pve-mcp[.exe]` (a release binary): the bundle run under the release flags, which is what the binary
 *   bakes in (no binary can be built here).
 * Substitutions, and nothing else: those paths, the Proxmox VE host/port/token become the simulator's, and the
 * home-directory placeholders (`/Users/you`, `/home/you`, `C:\Users\you`) in the environment become a temp
 * directory holding the secret and CA files.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleRunArgs } from "../../scripts/bundle.ts";
import { install } from "../../scripts/install.ts";
import { startSimulator } from "../../src/sim/mod.ts";
import { sandboxBundle } from "../sandbox/bundle_cache.ts";
import { connectStdio, denoEnv } from "../sandbox/mcp_stdio.ts";
import { parseToml, type TomlTable } from "./toml_subset.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DOC = await Deno.readTextFile(join(ROOT, "docs", "clients.md"));

/** What a client would launch. */
interface Launch {
  command: string;
  args: string[];
  env: Record<string, string>;
}

interface Snippet {
  id: string;
  lang: string;
  text: string;
}

function snippets(doc: string): Snippet[] {
  const out: Snippet[] = [];
  for (const m of doc.matchAll(/<!-- client: ([a-z0-9-]+) -->\s*```(\w+)\n([^]*?)```/g)) {
    out.push({ id: m[1] as string, lang: m[2] as string, text: m[3] as string });
  }
  return out;
}

/** Splits a POSIX shell command line: quotes, backslash escapes and line continuations; no expansions allowed. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const src = text.replace(/\\\n/g, " ");
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as string;
    if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) throw new Error("unterminated ' in the shell snippet");
      word = (word ?? "") + src.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let s = "";
      for (; j < src.length && src[j] !== '"'; j++) {
        if (src[j] === "$" || src[j] === "`") throw new Error("the shell snippet must not need expansions");
        if (src[j] === "\\" && /["\\$`]/.test(src[j + 1] ?? "")) j++;
        s += src[j];
      }
      if (j >= src.length) throw new Error('unterminated " in the shell snippet');
      word = (word ?? "") + s;
      i = j;
    } else if (c === "\\") {
      word = (word ?? "") + (src[++i] ?? "");
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "$" || c === "`" || (c === "~" && word === undefined)) {
      throw new Error("the shell snippet must not need expansions");
    } else word = (word ?? "") + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}

function fromEntry(entry: unknown, where: string): Launch {
  const e = entry as { type?: string; command?: unknown; args?: unknown; env?: Record<string, unknown> };
  if (typeof e?.command !== "string") throw new Error(`${where}: no command`);
  if (e.type !== undefined) strictEqual(e.type, "stdio", `${where}: type`);
  ok(Array.isArray(e.args) && e.args.every((a) => typeof a === "string"), `${where}: args must be strings`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.env ?? {})) {
    ok(typeof v === "string", `${where}: env ${k} must be a string`);
    env[k] = v as string;
  }
  return { command: e.command, args: e.args as string[], env };
}

/** Reads what a snippet launches. */
function launchOf(s: Snippet): Launch {
  if (s.lang === "json") {
    const doc = JSON.parse(s.text) as { mcpServers?: Record<string, unknown>; servers?: Record<string, unknown> };
    const servers = doc.mcpServers ?? doc.servers;
    ok(servers, `${s.id}: no mcpServers/servers`);
    return fromEntry(servers.proxmox, s.id);
  }
  if (s.lang === "toml") {
    const doc = parseToml(s.text);
    return fromEntry((doc.mcp_servers as TomlTable | undefined)?.proxmox, s.id);
  }
  if (s.lang === "sh") {
    const words = shellWords(s.text);
    deepStrictEqual(words.slice(0, 3), ["claude", "mcp", "add"], s.id);
    const env: Record<string, string> = {};
    let i = 3;
    const positional: string[] = [];
    for (; i < words.length && words[i] !== "--"; i++) {
      const w = words[i] as string;
      if (w === "--env" || w === "-e") {
        const [k, ...v] = (words[++i] ?? "").split("=");
        env[k as string] = v.join("=");
      } else if (w === "--transport" || w === "-t") strictEqual(words[++i], "stdio");
      else if (w === "--scope" || w === "-s") ok(["local", "user", "project"].includes(words[++i] ?? ""));
      else if (w.startsWith("-")) throw new Error(`${s.id}: unknown option ${w}`);
      else positional.push(w);
    }
    deepStrictEqual(positional, ["proxmox"], `${s.id}: server name`);
    const [command, ...args] = words.slice(i + 1);
    ok(command, `${s.id}: no command after --`);
    return { command, args, env };
  }
  throw new Error(`${s.id}: unknown snippet language ${s.lang}`);
}

const HOME_PLACEHOLDER = /^(\/Users\/you|\/home\/you|C:\\Users\\you)(?=[\\/])/;
const CLIENTS = ["claude-desktop", "claude-desktop-windows", "claude-code-cli", "cursor", "vscode", "codex"];
const KINDS = ["binary", "shim", "bundle"] as const;
type Kind = (typeof KINDS)[number];

/** Which install path a snippet's command belongs to; checks its arguments for that path. */
function kindOf(id: string, launch: Launch): Kind {
  if (/[\\/]deno(\.exe)?$/.test(launch.command)) {
    const bundle = launch.args.at(-2) ?? "";
    ok(/^(\/|[A-Z]:\\).*[\\/]pve-mcp\.js$/.test(bundle), `${id}: absolute path of pve-mcp.js: ${bundle}`);
    deepStrictEqual(launch.args, bundleRunArgs(bundle, { profile: "release" }, ["serve"]), `${id}: release flags`);
    return "bundle";
  }
  ok(/^(\/|[A-Z]:\\).*[\\/]pve-mcp(\.exe)?$/.test(launch.command), `${id}: absolute command ${launch.command}`);
  deepStrictEqual(launch.args, ["serve"], id);
  return /[\\/]\.deno[\\/]bin[\\/]pve-mcp$/.test(launch.command) ? "shim" : "binary";
}

Deno.test("clients.md: a snippet per client and install path; each parses and keeps secrets out", () => {
  const seen = new Set<string>();
  for (const s of snippets(DOC)) {
    const launch = launchOf(s);
    const kind = kindOf(s.id, launch);
    if (s.id !== "claude-code-mcp-json") {
      strictEqual(s.id.endsWith(`-${kind}`), true, `${s.id} is named after its install path (${kind})`);
      seen.add(s.id);
    }
    for (const key of Object.keys(launch.env)) {
      ok(key.startsWith("PROXMOX_"), `${s.id}: ${key} is not one of ours`);
      ok(!/SECRET$|PASSWORD$|TOKEN_VALUE$/.test(key), `${s.id}: ${key} puts a secret into the client's config`);
    }
    ok(launch.env.PROXMOX_TOKEN_SECRET_FILE !== undefined, `${s.id}: token secret from a file`);
  }
  // Windows has no shim snippet: clients start a .cmd file only through a shell.
  const expected = CLIENTS.flatMap((c) =>
    KINDS.filter((k) => !(c.endsWith("windows") && k === "shim")).map((k) => `${c}-${k}`)
  );
  deepStrictEqual([...seen].sort(), expected.sort());
});

let shim: Promise<string> | undefined;
/** The real `deno task install` shim, installed once per test file into a temp root. */
function installedShim(): Promise<string> {
  shim ??= Deno.makeTempDir({ prefix: "pve-mcp-client-shim-" }).then((root) => {
    addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
    return install({ profile: "release" }, root);
  });
  return shim;
}

/** The command line that stands for a snippet's, with only its install path's files substituted. */
async function commandLine(id: string, launch: Launch): Promise<[string, string[]]> {
  const kind = kindOf(id, launch);
  if (kind === "shim") return [await installedShim(), launch.args];
  const bundle = await sandboxBundle();
  if (kind === "bundle") return [Deno.execPath(), launch.args.map((a, i) => i === launch.args.length - 2 ? bundle : a)];
  return [Deno.execPath(), bundleRunArgs(bundle, { profile: "release" }, launch.args)];
}

Deno.test("the TOML and shell readers refuse what they do not understand", async (t) => {
  await t.step("toml", () => {
    deepStrictEqual(parseToml('a.b = "x\\u0041"\n[t]\nk = [1, 2,\n 3] # c\nin = { x = true }'), {
      a: { b: "xA" },
      t: { k: [1, 2, 3], in: { x: true } },
    });
    for (const bad of ['k = """x"""', "[[t]]\n", "k = 1 2", 'k = "a"\nk = "b"']) {
      let threw = false;
      try {
        parseToml(bad);
      } catch {
        threw = true;
      }
      ok(threw, bad);
    }
  });
  await t.step("shell", () => {
    deepStrictEqual(shellWords('a \'b c\' "d\\"e" f\\\n g'), ["a", "b c", 'd"e', "f", "g"]);
    let threw = false;
    try {
      shellWords("a $HOME");
    } catch {
      threw = true;
    }
    ok(threw, "expansion refused");
  });
});

for (const snippet of snippets(DOC)) {
  Deno.test(`clients.md/${snippet.id}: the server starts as configured and lists its tools`, async () => {
    const sim = await startSimulator({ nodes: 1, guests: 3 });
    const home = await Deno.makeTempDir({ prefix: `pve-mcp-client-${snippet.id}-` });
    try {
      const launch = launchOf(snippet);
      const env: Record<string, string> = {};
      for (const [key, value] of Object.entries(launch.env)) {
        let v = value;
        if (HOME_PLACEHOLDER.test(v)) v = join(home, v.replace(HOME_PLACEHOLDER, "").replaceAll("\\", "/"));
        if (key === "PROXMOX_HOST") v = "127.0.0.1";
        if (key === "PROXMOX_TOKEN_ID") v = sim.tokens.auditor.tokenId;
        env[key] = v;
      }
      env.PROXMOX_PORT = String(sim.port); // the snippets use the default 8006
      const secretFile = env.PROXMOX_TOKEN_SECRET_FILE ?? "";
      const caFile = env.PROXMOX_CA_FILE ?? "";
      ok(secretFile.startsWith(home) && caFile.startsWith(home), `files mapped into ${home}: ${secretFile} ${caFile}`);
      await Deno.mkdir(join(secretFile, ".."), { recursive: true });
      await Deno.writeTextFile(secretFile, sim.tokens.auditor.secret + "\n", { mode: 0o600 });
      await Deno.writeTextFile(caFile, sim.caCertPem);
      const [command, args] = await commandLine(snippet.id, launch);
      const session = await connectStdio(command, args, { ...denoEnv(), HOME: home, ...env }, home);
      try {
        const { tools } = await session.client.listTools();
        ok(tools.length > 5 && tools.some((t) => t.name === "guest_list"), tools.map((t) => t.name).join(", "));
      } finally {
        await session.close();
      }
    } finally {
      await sim.close();
      await Deno.remove(home, { recursive: true });
    }
  });
}
