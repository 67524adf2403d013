/**
 * Leak test: a canary in every secret setting (and in secret tool arguments and the secret store), then every tool,
 * every CLI command (help and cheap real runs), the server over stdio at debug log level with the audit log on, a
 * failed login, and a bundle built with the canaries in its environment. No canary may appear in stdout (every MCP
 * message), stderr (logs), the audit log, files the commands write, tool results, error messages or the bundle.
 */
import fc from "fast-check";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { startSimulator } from "../../src/sim/mod.ts";
import { passwordHash } from "../../src/sim/routes/guest_extras.ts";
import { buildBundle } from "../../scripts/bundle.ts";
import { baseEnv, ROOT } from "../e2e/harness.ts";
import { ALL_TOOLSETS_ENV } from "../fuzz/run.ts";
import { caseFor, dictFromSim, type ListedTool } from "../fuzz/schema_args.ts";
import { type Canary, findLeaks, keyCanary, secretEnvNames, textCanary } from "./canaries.ts";

const MAIN = `${ROOT}src/main.ts`;

/** Deno's cache: children get a temp HOME, so name the cache explicitly or they would look for modules there. */
function denoDir(): string {
  const home = Deno.env.get("HOME") ?? "";
  return Deno.env.get("DENO_DIR") ?? `${Deno.env.get("XDG_CACHE_HOME") ?? `${home}/.cache`}/deno`;
}

/** The environment of a child with a temp HOME. */
function childEnv(home: string): Record<string, string> {
  return { ...baseEnv(), HOME: home, DENO_DIR: denoDir() };
}

/** Canaries for every secret setting, keyed by environment variable. */
function settingCanaries(): Map<string, Canary> {
  const m = new Map<string, Canary>();
  for (const name of secretEnvNames()) {
    m.set(name, name === "PROXMOX_MCP_MASTER_KEY" ? keyCanary(name) : textCanary(name));
  }
  return m;
}

async function run(args: string[], env: Record<string, string>, stdin?: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    env,
    clearEnv: true,
    cwd: env.HOME ?? ROOT,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Starts `serve` over stdio with this environment and connects a real MCP client; stderr is collected. */
async function connectServe(env: Record<string, string>, cwd: string) {
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "-A", "--quiet", MAIN, "serve"],
    env,
    cwd,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (b: Uint8Array) => (stderr += new TextDecoder().decode(b)));
  const client = new Client({ name: "leak", version: "1" });
  await client.connect(transport);
  return { transport, client, stderr: () => stderr };
}

async function readTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (e.isFile) out[p] = await Deno.readTextFile(p).catch(() => "");
    }
  };
  await walk(dir).catch(() => {});
  return out;
}

Deno.test("leak: secret settings, secret arguments and stored secrets never appear in any output", async (t) => {
  const canaries = settingCanaries();
  const c = (name: string) => canaries.get(name)!.value;
  const argCanary = textCanary("cipassword-argument");
  const storedCanary = textCanary("secret-store-value");
  const fileCanary = textCanary("config-file-token-secret");
  const all = [...canaries.values(), argCanary, storedCanary, fileCanary];
  // The simulator accepts the canaries as the real credentials, so every tool really runs.
  const sim = await startSimulator({
    nodes: 2,
    guests: 20,
    taskDurationMs: 0,
    tokens: {
      admin: { tokenId: "root@pam!mcp-admin", secret: c("PROXMOX_TOKEN_SECRET"), privs: ["*"] },
      writer: { tokenId: "root@pam!writer", secret: c("PROXMOX_WRITE_TOKEN_SECRET"), privs: ["*"] },
    },
    users: { admin: { userid: "root@pam", password: c("PROXMOX_PASSWORD") } },
  });
  const home = await Deno.makeTempDir({ prefix: "pve-mcp-leak-" });
  const captured: Record<string, string> = {};
  const leaks: string[] = [];
  try {
    await Deno.writeTextFile(`${home}/ca.pem`, sim.caCertPem);
    const env: Record<string, string> = {
      ...childEnv(home),
      PROXMOX_HOST: "127.0.0.1",
      PROXMOX_PORT: String(sim.port),
      PROXMOX_CA_FILE: `${home}/ca.pem`,
      PROXMOX_TOKEN_ID: "root@pam!mcp-admin",
      PROXMOX_WRITE_TOKEN_ID: "root@pam!writer",
      PROXMOX_MCP_AUDIT_PATH: `${home}/audit`,
      PROXMOX_MCP_SECRETS_FILE: `${home}/secrets.json`,
      PROXMOX_MCP_HTTP_TOKENS_FILE: `${home}/tokens.json`,
      PROXMOX_MCP_LOG_LEVEL: "debug",
      ...ALL_TOOLSETS_ENV,
    };
    // Every secret setting holds its canary (passphrase and key both set would conflict: the key wins here).
    for (const [name, canary] of canaries) if (name !== "PROXMOX_MCP_MASTER_PASSPHRASE") env[name] = canary.value;
    delete env.PROXMOX_PASSWORD; // a token is configured; the password canary is used by the ticket test below
    delete env.PROXMOX_WRITE_PASSWORD;

    await t.step("secret store: set a value from stdin", async () => {
      const r = await run(["secrets", "set", "leakpw"], env, storedCanary.value + "\n");
      captured["secrets set"] = r.stdout + r.stderr;
      if (r.code !== 0) throw new Error(`secrets set failed: ${r.stderr}`);
    });

    await t.step("every tool over stdio, debug logging, audit on", async () => {
      const { transport, client, stderr } = await connectServe(env, home);
      const messages: string[] = [];
      const onmessage = transport.onmessage;
      transport.onmessage = (m) => {
        messages.push(JSON.stringify(m));
        onmessage?.(m);
      };
      const tools = (await client.listTools()).tools as unknown as ListedTool[];
      const dict = dictFromSim(sim);
      const vm = [...sim.state.guests.values()].find((g) => g.type === "qemu" && !g.template)!;
      const calls: { name: string; arguments: Record<string, unknown> }[] = [
        { name: "guest_config", arguments: { vmid: vm.vmid, cipassword: argCanary.value } },
        { name: "guest_config", arguments: { vmid: vm.vmid, cipassword: "secret://leakpw" } },
        { name: "access_token", arguments: { action: "create", userid: "root@pam", tokenid: "leak1" } },
        { name: "pve_api", arguments: { method: "GET", path: "/access/users" } },
      ];
      for (const tool of tools) {
        for (const k of fc.sample(caseFor(tool, dict), { seed: 4242, numRuns: 4 })) {
          calls.push({ name: k.tool, arguments: k.args });
        }
      }
      let ok = 0;
      // The stored secret reaches the guest (PVE keeps only a hash of a cloud-init password).
      const stored = await client.callTool(calls[1]!);
      if (stored.isError || sim.state.guests.get(vm.vmid)?.config.cipassword !== passwordHash(storedCanary.value)) {
        throw new Error(`secret://leakpw did not reach the guest's configuration: ${JSON.stringify(stored)}`);
      }
      for (const call of calls) {
        const r = await client.callTool(call).catch((e) => (messages.push(String(e)), { isError: true }));
        if (!r.isError) ok++;
      }
      await client.close();
      // The canaries were live: both credentials authenticated requests.
      const ids = new Set(sim.requests.map((r) => r.authId));
      if (!ids.has("root@pam!mcp-admin") || !ids.has("root@pam!writer")) {
        throw new Error(`the canary credentials were not used: ${[...ids].join(", ")}`);
      }
      if (ok < calls.length / 10) throw new Error(`only ${ok} of ${calls.length} calls succeeded`);
      captured["stdout (every MCP message)"] = messages.join("\n");
      captured["stderr (debug log)"] = stderr();
      if (messages.length < calls.length) throw new Error("fewer answers than calls");
    });

    await t.step("every CLI command: help and cheap real runs", async () => {
      await Deno.writeTextFile(
        `${home}/config.json`,
        JSON.stringify({
          clusters: { other: { host: "127.0.0.1", tokenId: "a@pam!b", tokenSecret: fileCanary.value } },
        }),
      );
      const commands = [
        ["--help"],
        ["--version"],
        ...["serve", "simulate", "config", "secrets", "tokens", "audit", "tools", "role"].map((x) => [x, "--help"]),
        ["tools"],
        ["tools", "--json"],
        ["role"],
        ["config", "check"],
        ["config", "status", `${home}/config.json`],
        ["config", "encrypt", `${home}/config.json`, "-o", `${home}/config.sealed.json`],
        ["secrets", "list"],
        ["secrets", "list", "--json"],
        ["tokens", "add", "leakdev"],
        ["tokens", "list", "--json"],
        ["audit", "verify"],
        ["audit", "tail", "-n", "200"],
        ["audit", "tail", "--json"],
        ["nonsense-command"],
      ];
      const results = await Promise.all(commands.map((args) => run(args, env)));
      commands.forEach((args, i) => {
        captured[`pve-mcp ${args.join(" ")}`] = results[i]!.stdout + "\n" + results[i]!.stderr;
      });
      const verify = results[commands.findIndex((a) => a[0] === "audit" && a[1] === "verify")]!;
      if (verify.code !== 0) throw new Error(`audit verify failed: ${verify.stdout}${verify.stderr}`);
    });

    await t.step("no canary anywhere", async () => {
      for (const [where, text] of Object.entries(captured)) leaks.push(...findLeaks(all, where, text));
      // Files the server and the commands wrote: audit log, secret store, tokens, sealed config (not the plain
      // config.json we wrote ourselves with a canary in it).
      const files = await readTree(home);
      for (const [path, text] of Object.entries(files)) {
        if (path.endsWith("/config.json")) continue;
        leaks.push(...findLeaks(all, path.replace(home, "~"), text));
      }
      if (!Object.keys(files).some((p) => p.includes("/audit/"))) throw new Error("no audit file was written");
      if (leaks.length) throw new Error(`Canaries leaked:\n${leaks.join("\n")}`);
    });
  } finally {
    await sim.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});

Deno.test("leak: the scanner finds a canary whole, in part and encoded", () => {
  const c = textCanary("self-check");
  const k = keyCanary("key-self-check");
  const hits = [
    ...findLeaks([c], "whole", `x ${c.value} y`),
    ...findLeaks([c], "core", `token=${c.forms[0]}`),
    ...findLeaks([c], "base64", btoa(c.value)),
    ...findLeaks([k], "hex", k.forms[0]!),
  ];
  if (hits.length !== 4) throw new Error(`the scanner missed a leak: ${hits.join("; ")}`);
  if (findLeaks([c, k], "clean", "nothing to see here").length) throw new Error("the scanner saw a leak in clean text");
});

Deno.test("leak: a wrong password or token secret is not echoed by the failed login or call", async () => {
  const sim = await startSimulator({ nodes: 1, guests: 3 });
  const home = await Deno.makeTempDir({ prefix: "pve-mcp-leak-login-" });
  try {
    await Deno.writeTextFile(`${home}/ca.pem`, sim.caCertPem);
    const base = {
      ...childEnv(home),
      PROXMOX_HOST: "127.0.0.1",
      PROXMOX_PORT: String(sim.port),
      PROXMOX_CA_FILE: `${home}/ca.pem`,
      PROXMOX_MCP_LOG_LEVEL: "debug",
    };
    const password = textCanary("wrong-password");
    const secret = textCanary("wrong-token-secret");
    const leaks: string[] = [];
    for (
      const env of [
        { ...base, PROXMOX_USER: "root@pam", PROXMOX_PASSWORD: password.value },
        { ...base, PROXMOX_TOKEN_ID: "root@pam!mcp-admin", PROXMOX_TOKEN_SECRET: secret.value },
      ]
    ) {
      const { client, stderr } = await connectServe(env, home);
      const r = await client.callTool({ name: "guest_list", arguments: {} }) as { isError?: boolean };
      await client.close();
      if (!r.isError) throw new Error("a wrong credential was accepted");
      const check = await run(["config", "check"], env);
      leaks.push(...findLeaks([password, secret], "result", JSON.stringify(r)));
      leaks.push(...findLeaks([password, secret], "stderr", stderr()));
      leaks.push(...findLeaks([password, secret], "config check", check.stdout + check.stderr));
    }
    if (leaks.length) throw new Error(`Canaries leaked:\n${leaks.join("\n")}`);
  } finally {
    await sim.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});

Deno.test("leak: a bundle built with every secret in its environment holds none of them", async () => {
  const canaries = settingCanaries();
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-leak-bundle-" });
  try {
    const env: Record<string, string> = {};
    for (const [name, canary] of canaries) env[name] = canary.value;
    const { path } = await buildBundle({ out: `${dir}/pve-mcp.js`, env: { ...baseEnv(), ...env } });
    const leaks = findLeaks([...canaries.values()], "the bundle", await Deno.readTextFile(path));
    if (leaks.length) throw new Error(`Canaries leaked:\n${leaks.join("\n")}`);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
