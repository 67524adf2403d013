/**
 * CLI polish, checked on the shipped program (the bundle under the release flags, nothing configured): `--version`,
 * `--help` for every command and sub-command the top-level help lists, the exit codes of bad usage, and that help and
 * usage errors keep stdout and stderr apart.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { bundleRunArgs } from "../../scripts/bundle.ts";
import { EXIT } from "../../src/cli/exit_codes.ts";
import { VERSION } from "../../src/version.ts";
import { sandboxBundle } from "./bundle_cache.ts";
import { denoEnv } from "./mcp_stdio.ts";

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const bundle = await sandboxBundle();
  const cwd = await Deno.makeTempDir({ prefix: "pve-mcp-cli-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: bundleRunArgs(bundle, { profile: "release" }, args),
      env: denoEnv(),
      clearEnv: true,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

/** Commands and their sub-commands as the top-level help lists them (`config <sub>   a, b, c`). */
function commandsOf(help: string): { command: string; subs: string[] }[] {
  const section = help.split(/\n\s*\n/).find((block) => /^Commands:/m.test(block)) ?? "";
  const out: { command: string; subs: string[] }[] = [];
  for (const line of section.split("\n").slice(1)) {
    const m = /^\s{2}([a-z][a-z-]*)((?:\s+(?:<sub>|\[[^\]]*\]))*)\s{2,}(.*)$/.exec(line);
    if (m === null) continue;
    const subs = m[2]?.includes("<sub>")
      ? (m[3]?.split(/\s*\(/)[0] ?? "").split(",").map((s) => s.trim()).filter((s) => s)
      : [];
    out.push({ command: m[1] as string, subs });
  }
  return out;
}

Deno.test("cli: --version and -V print the version alone", async () => {
  for (const flag of ["--version", "-V"]) {
    const r = await run([flag]);
    deepStrictEqual({ code: r.code, stdout: r.stdout.trim(), stderr: r.stderr }, {
      code: EXIT.OK,
      stdout: VERSION,
      stderr: "",
    });
  }
});

Deno.test("cli: every command and sub-command the help lists has its own --help", async () => {
  const top = await run(["--help"]);
  strictEqual(top.code, EXIT.OK);
  match(top.stdout, /^Usage: pve-mcp <command>/m);
  const commands = commandsOf(top.stdout);
  ok(commands.length >= 5 && commands.some((c) => c.command === "serve"), JSON.stringify(commands));
  const invocations = commands.flatMap(({ command, subs }) => [[command], ...subs.map((sub) => [command, sub])]);
  const problems: string[] = [];
  for (let i = 0; i < invocations.length; i += 4) {
    await Promise.all(
      invocations.slice(i, i + 4).map(async (words) => {
        const r = await run([...words, "--help"]);
        if (r.code !== EXIT.OK) problems.push(`${words.join(" ")} --help: exit ${r.code}: ${r.stderr.trim()}`);
        else if (!new RegExp(`^Usage: pve-mcp ${words[0]}\\b`, "m").test(r.stdout)) {
          problems.push(`${words.join(" ")} --help: no "Usage: pve-mcp ${words[0]}" line`);
        } else if (r.stderr.trim() !== "") problems.push(`${words.join(" ")} --help: wrote to stderr: ${r.stderr}`);
      }),
    );
  }
  deepStrictEqual(problems, []);
});

Deno.test("cli: an unknown command is bad usage: exit 2, a message on stderr, nothing on stdout", async () => {
  const r = await run(["frobnicate"]);
  strictEqual(r.code, EXIT.USAGE);
  strictEqual(r.stdout, "");
  match(r.stderr, /frobnicate/);
});
