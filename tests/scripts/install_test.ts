/**
 * `deno task install` (scripts/install.ts) through the task itself: it installs an executable `pve-mcp` into a temp
 * DENO_INSTALL_ROOT that runs from any directory and carries exactly a profile's flags; bad `locked` options install
 * nothing. And `deno task start` runs under the release profile's flags (deno.json must not drift from profiles.ts).
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pinDeno, shimPath } from "../../scripts/install.ts";
import { permissionFlags, type ProfileOptions } from "../../src/permissions/profiles.ts";
import { VERSION } from "../../src/version.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Splits a command line written with single quotes only (the shim's and deno.json's style). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? "");
}

/** The Deno flags in the installed shim (POSIX `sh` shim: `exec '/path/to/deno' run FLAGS URL "$@"`). */
function shimFlags(shim: string): string[] {
  const line = shim.split("\n").find((l) => l.startsWith("exec "));
  ok(line, `no exec line in\n${shim}`);
  const [deno, run, ...all] = words(line.slice("exec ".length));
  deepStrictEqual([deno, run], [Deno.execPath(), "run"], "starts this Deno by its absolute path");
  const url = all.findIndex((w) => w.startsWith("file://"));
  strictEqual(all[url], new URL("../../src/main.ts", import.meta.url).href, "runs this checkout's src/main.ts");
  const flags = all.slice(0, url);
  const config = flags.indexOf("--config");
  ok(config >= 0, "the shim names its copy of deno.json");
  flags.splice(config, 2);
  return flags;
}

async function installTask(root: string, args: string[]): Promise<Deno.CommandOutput> {
  return await new Deno.Command(Deno.execPath(), {
    args: ["task", "install", ...args],
    cwd: ROOT,
    env: { DENO_INSTALL_ROOT: root, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
}

const LOCKED: ProfileOptions = {
  profile: "locked",
  pveHosts: ["pve1.lan:8006"],
  configDir: "/etc/pve-mcp",
  dataDir: "/var/lib/pve-mcp",
};

for (
  const [profile, args] of [
    [{ profile: "release" }, []],
    [LOCKED, [
      "--profile",
      "locked",
      "--pve-host",
      "pve1.lan:8006",
      "--config-dir",
      "/etc/pve-mcp",
      "--data-dir",
      "/var/lib/pve-mcp",
    ]],
  ] as [ProfileOptions, string[]][]
) {
  Deno.test({
    name:
      `deno task install ${profile.profile}: pve-mcp in $DENO_INSTALL_ROOT/bin runs anywhere with the profile's flags`,
    ignore: Deno.build.os === "windows", // the shim there is a .cmd file; the flags check reads the sh shim
    fn: async () => {
      const root = await Deno.makeTempDir({ prefix: "pve-mcp-install-" });
      const elsewhere = await Deno.makeTempDir({ prefix: "pve-mcp-elsewhere-" });
      try {
        const out = await installTask(root, args);
        strictEqual(out.code, 0, decode(out.stderr));
        match(decode(out.stdout), new RegExp(`Installed .*bin/pve-mcp \\(${profile.profile} profile\\)`));
        const shim = shimPath(root);
        strictEqual(shim, join(root, "bin", "pve-mcp"));
        ok(((await Deno.stat(shim)).mode ?? 0) & 0o111, "executable");
        deepStrictEqual(shimFlags(await Deno.readTextFile(shim)).sort(), permissionFlags(profile).sort());
        // By name, through PATH, from a directory that is not the checkout, with no deno in PATH (a desktop client).
        const run = await new Deno.Command("sh", {
          args: ["-c", "pve-mcp --version"],
          cwd: elsewhere,
          env: { PATH: `${join(root, "bin")}:/usr/bin:/bin`, NO_COLOR: "1", HOME: elsewhere },
          clearEnv: true,
          stdout: "piped",
          stderr: "piped",
        }).output();
        strictEqual(decode(run.stdout).trim(), VERSION, decode(run.stderr));
      } finally {
        await Deno.remove(root, { recursive: true });
        await Deno.remove(elsewhere, { recursive: true });
      }
    },
  });
}

Deno.test("deno task install with incomplete locked options: one message, exit 2, nothing installed", async () => {
  const root = await Deno.makeTempDir({ prefix: "pve-mcp-install-" });
  try {
    const out = await installTask(root, ["--profile", "locked", "--pve-host", "pve1.lan:8006"]);
    strictEqual(out.code, 2);
    const stderr = decode(out.stderr);
    match(stderr, /Cannot build the locked profile:\n {2}- Missing --config-dir[^]*Missing --data-dir/);
    ok(!/^\s+at |Uncaught/m.test(stderr), stderr);
    deepStrictEqual([...Deno.readDirSync(root)], []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: "the shim names Deno by its absolute path, shell-quoted; an unknown shim format is refused",
  ignore: Deno.build.os === "windows",
  fn: () => {
    const shim = "#!/bin/sh\n# generated by deno install\nexec deno run --no-prompt 'file:///x/src/main.ts' \"$@\"\n";
    strictEqual(
      pinDeno(shim, "/opt/it's here/deno"),
      "#!/bin/sh\n# generated by deno install\nexec '/opt/it'\\''s here/deno' run --no-prompt 'file:///x/src/main.ts' \"$@\"\n",
    );
    let message = "";
    try {
      pinDeno("#!/bin/sh\nexec /usr/bin/env deno run x\n", "/deno");
    } catch (error) {
      message = (error as Error).message;
    }
    match(message, /Unexpected shim written by deno install/);
  },
});

Deno.test("deno task start runs src/main.ts serve under exactly the release profile's flags", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).tasks as Record<string, string>;
  const expected = ["deno", "run", ...permissionFlags({ profile: "release" }), "src/main.ts", "serve"];
  deepStrictEqual(
    words(tasks.start ?? ""),
    expected,
    `deno.json's start task must be: ${expected.map((w) => /[*\[]/.test(w) ? `'${w}'` : w).join(" ")}`,
  );
});
