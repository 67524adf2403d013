/**
 * Every CLI command, run as shipped (the bundle under the release flags) with broken settings: a bad or unreadable
 * JSON config, unreadable store/token/audit paths, a missing CA file, unknown flags. Each failure is one clear message
 * and a documented exit code (1 run time, 2 usage/configuration) — never a stack trace.
 */
import { ok, strictEqual } from "node:assert/strict";
import { bundleRunArgs } from "../../scripts/bundle.ts";
import { EXIT } from "../../src/cli/exit_codes.ts";
import { startSimulator } from "../../src/sim/mod.ts";
import { sandboxBundle } from "./bundle_cache.ts";
import { denoEnv } from "./mcp_stdio.ts";

type Run = { code: number; out: string };

async function run(args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  const bundle = await sandboxBundle();
  const out = await new Deno.Command(Deno.execPath(), {
    args: bundleRunArgs(bundle, { profile: "release" }, args),
    env: { ...denoEnv(), HOME: cwd, ...env },
    clearEnv: true,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

/** A stack trace or an uncaught error in CLI output. */
const STACK = /Uncaught|^ {4}at /m;

const COMMANDS = [
  ["serve"],
  ["serve", "--http"],
  ["config", "check"],
  ["config", "status", "c.json"],
  ["config", "encrypt", "c.json"],
  ["config", "rotate-key", "c.json"],
  ["config", "migrate", "c.json"],
  ["secrets", "list"],
  ["secrets", "rm", "x"],
  ["tokens", "list"],
  ["tokens", "add", "x"],
  ["tokens", "revoke", "x"],
  ["tokens", "requests"],
  ["audit", "verify"],
  ["audit", "tail"],
  ["tools"],
  ["role"],
];

Deno.test("cli: every command with broken settings gives one clear message and exit 1 or 2, no stack trace", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-broken-" });
  try {
    await Deno.writeTextFile(`${dir}/bad.json`, "{");
    await Deno.writeTextFile(`${dir}/c.json`, "{");
    await Deno.writeTextFile(`${dir}/a-file`, "x");
    await Deno.mkdir(`${dir}/a-dir`);
    const cluster = { PROXMOX_HOST: "127.0.0.1", PROXMOX_TOKEN_ID: "a@pam!x", PROXMOX_TOKEN_SECRET: "s3cret-value" };
    const cases: { name: string; env: Record<string, string>; extra?: string[]; codes: number[] }[] = [
      { name: "invalid JSON config", env: { PROXMOX_MCP_CONFIG: `${dir}/bad.json` }, codes: [EXIT.USAGE] },
      { name: "config is a directory", env: { PROXMOX_MCP_CONFIG: `${dir}/a-dir` }, codes: [EXIT.USAGE] },
      { name: "unknown flag", env: {}, extra: ["--bogus"], codes: [EXIT.USAGE] },
      {
        name: "unreadable paths",
        env: {
          ...cluster,
          PROXMOX_CA_FILE: `${dir}/missing.pem`,
          PROXMOX_MCP_SECRETS_FILE: `${dir}/a-file/secrets.json`,
          PROXMOX_MCP_HTTP_TOKENS_FILE: `${dir}/a-dir`,
          PROXMOX_MCP_AUDIT_PATH: `${dir}/a-file/audit/log`,
        },
        // tools and role read none of these paths: they succeed.
        codes: [EXIT.OK, EXIT.FAILURE, EXIT.USAGE],
      },
    ];
    const problems: string[] = [];
    const jobs = cases.flatMap((c) => COMMANDS.map((words) => ({ c, words: [...words, ...(c.extra ?? [])] })));
    for (let i = 0; i < jobs.length; i += 4) {
      await Promise.all(
        jobs.slice(i, i + 4).map(async ({ c, words }) => {
          const r = await run(words, c.env, dir);
          const what = `${words.join(" ")} (${c.name}): exit ${r.code}`;
          // `config status|encrypt|…` read the file they are given (an invalid one is a run-time failure for them).
          const codes = words.includes("c.json") ? [EXIT.FAILURE, EXIT.USAGE] : c.codes;
          if (STACK.test(r.out)) problems.push(`${what}: stack trace:\n${r.out.slice(0, 600)}`);
          else if (!codes.includes(r.code)) {
            problems.push(`${what}, expected ${codes.join(" or ")}:\n${r.out.slice(0, 400)}`);
          } else if (r.out.trim() === "") problems.push(`${what}: no message`);
        }),
      );
    }
    strictEqual(problems.join("\n\n"), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: a missing CA file is a configuration error for serve (exit 2) and a failed step for config check", async () => {
  await using sim = await startSimulator({ nodes: 1, guests: 1 });
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-broken-" });
  try {
    const token = sim.tokens.admin!;
    const env = {
      PROXMOX_HOST: "127.0.0.1",
      PROXMOX_PORT: String(sim.port),
      PROXMOX_TOKEN_ID: token.tokenId,
      PROXMOX_TOKEN_SECRET: token.secret,
      PROXMOX_CA_FILE: `${dir}/missing.pem`,
    };
    const serve = await run(["serve"], env, dir);
    ok(!STACK.test(serve.out), serve.out);
    strictEqual(serve.code, EXIT.USAGE, serve.out);
    ok(/Invalid configuration: 1 problem\n.*missing\.pem/.test(serve.out), serve.out);
    const check = await run(["config", "check"], env, dir);
    ok(!STACK.test(check.out), check.out);
    strictEqual(check.code, EXIT.FAILURE, check.out);
    ok(check.out.includes(`cannot read the CA file ${dir}/missing.pem`), check.out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
