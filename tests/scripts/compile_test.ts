/**
 * scripts/compile.ts: runtime resolution, the message naming DENORT_BIN, and a real `deno compile` run. The real
 * `denort` is not available here, so the test stands the `deno` executable in for it: the output is not a working
 * pve-mcp, but its embedded metadata (the baked permissions, the absence of env-file values) and the checksums and
 * SBOM are the real thing.
 */
import { deepStrictEqual, match, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileAll, compileArgs, outputName, resolveDenort, TARGETS, verifyVersion } from "../../scripts/compile.ts";
import { verifySha256Sums } from "../../scripts/checksums.ts";
import { permissionFlags, type ProfileOptions } from "../../src/permissions/profiles.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

Deno.test("output names: pve-mcp-<version>-<target>, .exe for Windows", () => {
  strictEqual(outputName("1.2.3", "aarch64-apple-darwin"), "pve-mcp-1.2.3-aarch64-apple-darwin");
  strictEqual(outputName("1.2.3", "x86_64-pc-windows-msvc"), "pve-mcp-1.2.3-x86_64-pc-windows-msvc.exe");
  strictEqual(TARGETS.length, 6);
});

Deno.test("compile arguments never carry --env-file", () => {
  const args = compileArgs({ target: "x86_64-unknown-linux-gnu", output: "o", flags: ["--no-prompt"] });
  ok(!args.some((a) => a.startsWith("--env")), args.join(" "));
  throws(() => compileArgs({ target: "x86_64-unknown-linux-gnu", output: "o", flags: ["--env-file=.env"] }), /embed/);
});

Deno.test("no runtime anywhere: stops with a message naming DENORT_BIN and every missing target", async () => {
  const empty = await Deno.makeTempDir({ prefix: "pve-mcp-denodir-" });
  try {
    const { problem, sources } = resolveDenort(TARGETS, { denortBin: undefined, denoDir: empty, allowDownload: false });
    deepStrictEqual(sources, []);
    match(problem ?? "", /DENORT_BIN/);
    for (const t of TARGETS) ok(problem?.includes(t), t);
    // The CLI end to end: exit code 1, same message, nothing built.
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/compile.ts", "--out-dir", join(empty, "dist")],
      cwd: ROOT,
      env: { DENO_DIR: empty, DENORT_BIN: "", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    strictEqual(out.code, 1);
    match(new TextDecoder().decode(out.stderr), /Cannot compile for x86_64-unknown-linux-gnu, .*DENORT_BIN/s);
    ok(![...Deno.readDirSync(empty)].some((e) => e.name === "dist"), "no dist/ left behind");
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("runtime resolution: one file serves one target; a directory and the cache serve many", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-denort-" });
  try {
    const file = join(dir, "denort-x86_64-unknown-linux-gnu");
    await Deno.writeTextFile(file, "stand-in");
    match(
      resolveDenort(TARGETS, { denortBin: file, denoDir: dir, allowDownload: false }).problem ?? "",
      /serves one target/,
    );
    deepStrictEqual(
      resolveDenort(["x86_64-unknown-linux-gnu"], { denortBin: file, denoDir: dir, allowDownload: false }).sources,
      [{ target: "x86_64-unknown-linux-gnu", kind: "file", path: file }],
    );
    const cache = join(dir, "dl", "release", `v${Deno.version.deno}`);
    await Deno.mkdir(cache, { recursive: true });
    await Deno.writeTextFile(join(cache, "denort-aarch64-apple-darwin.zip"), "zip");
    await Deno.writeTextFile(join(dir, "denort-x86_64-pc-windows-msvc.zip"), "zip");
    const r = resolveDenort(["x86_64-unknown-linux-gnu", "aarch64-apple-darwin", "x86_64-pc-windows-msvc"], {
      denortBin: dir,
      denoDir: dir,
      allowDownload: false,
    });
    deepStrictEqual(r.sources.map((s) => [s.target, s.kind]), [
      ["x86_64-unknown-linux-gnu", "file"],
      ["aarch64-apple-darwin", "cache"],
    ]);
    match(r.problem ?? "", /Cannot compile for x86_64-pc-windows-msvc/);
    match(r.problem ?? "", /denort-x86_64-pc-windows-msvc\.zip is a zip: unzip it/);
    const dl = resolveDenort(["x86_64-pc-windows-msvc"], { denortBin: undefined, denoDir: dir, allowDownload: true });
    deepStrictEqual(dl, { sources: [{ target: "x86_64-pc-windows-msvc", kind: "download" }] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** What `deno compile` writes into the binary's metadata for our flags. */
function expectedMetadata(flags: string[]): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  for (const flag of flags) {
    if (flag === "--no-prompt") meta.prompt = false;
    const m = /^--(allow|deny|ignore)-(\w+)(?:=(.*))?$/.exec(flag);
    if (m) meta[`${m[1]}_${m[2]}`] = m[3] === undefined ? [] : m[3].split(",");
  }
  return meta;
}

function bakedMetadata(bytes: Uint8Array): Record<string, unknown> {
  const text = new TextDecoder("latin1").decode(bytes);
  const perms = /"permissions":(\{[^}]*\})/.exec(text);
  const envFile = /"env_vars_from_env_file":(\{[^}]*\})/.exec(text);
  ok(perms?.[1] && envFile?.[1], "the binary carries deno compile metadata");
  return { ...JSON.parse(perms[1]), envFile: JSON.parse(envFile[1]) };
}

for (
  const profile of [
    { profile: "release" },
    {
      profile: "locked",
      pveHosts: ["pve1.example.com:8006"],
      listen: ["127.0.0.1:8080"],
      configDir: "/etc/pve-mcp",
      dataDir: "/var/lib/pve-mcp",
    },
  ] as ProfileOptions[]
) {
  Deno.test({
    name: `deno compile (stand-in runtime) bakes the ${profile.profile} flags, writes SHA256SUMS and an SBOM`,
    ignore: Deno.build.os !== "linux" || Deno.build.arch !== "x86_64",
    fn: async () => {
      const out = await Deno.makeTempDir({ prefix: "pve-mcp-compile-" });
      try {
        const result = await compileAll({
          profile,
          targets: ["x86_64-unknown-linux-gnu"],
          outDir: out,
          version: "9.9.9-test",
          denortBin: Deno.execPath(), // stand-in: see the file comment
          denoDir: out,
          allowDownload: false,
          entry: "src/version.ts",
          verifyHost: false, // the stand-in runtime is not a pve-mcp; see the test below
          report: () => {},
        });
        strictEqual(result.binaries[0]?.path, join(out, "pve-mcp-9.9.9-test-x86_64-unknown-linux-gnu"));
        const meta = bakedMetadata(await Deno.readFile(result.binaries[0].path));
        const flags = permissionFlags(profile);
        for (const [key, value] of Object.entries(expectedMetadata(flags))) deepStrictEqual(meta[key], value, key);
        for (const key of ["allow_run", "allow_ffi", "allow_sys"]) strictEqual(meta[key], null, key);
        deepStrictEqual(meta.envFile, {}, "no env file values embedded");
        const sums = await Deno.readTextFile(result.sums);
        strictEqual(sums.trim().split("\n").length, 3, sums);
        deepStrictEqual(await verifySha256Sums(out, sums), []);
        const bom = JSON.parse(await Deno.readTextFile(result.sbom));
        strictEqual(bom.bomFormat, "CycloneDX");
        ok(bom.components.some((c: { name: string }) => c.name === "denort"), "the runtime is in the SBOM");
        const baked = JSON.parse(await Deno.readTextFile(result.permissions));
        deepStrictEqual(baked.flags["x86_64-unknown-linux-gnu"], flags);
      } finally {
        await Deno.remove(out, { recursive: true });
      }
    },
  });
}

Deno.test("the host binary's --version is checked: a wrong runtime is caught", async () => {
  // The stand-in runtime (the deno executable) answers --version with Deno's own banner, not pve-mcp's version.
  await rejects(() => verifyVersion(Deno.execPath(), "9.9.9-test"), /printed "deno \d[^"]*" for --version/);
});

Deno.test({
  name: "a binary that fails its --version check is removed: a failed compile leaves nothing in dist/",
  ignore: Deno.build.os !== "linux" || Deno.build.arch !== "x86_64",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "pve-mcp-compile-fail-" });
    try {
      const dist = join(dir, "dist");
      await Deno.mkdir(dist);
      await Deno.writeTextFile(join(dist, "keep.txt"), "not ours");
      // `deno` standing in for `denort` makes a file that is really plain deno: its --version is Deno's banner.
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "scripts/compile.ts",
          "--target",
          "x86_64-unknown-linux-gnu",
          "--out-dir",
          dist,
          "--entry",
          "src/version.ts",
        ],
        cwd: ROOT,
        env: { DENO_DIR: dir, DENORT_BIN: Deno.execPath(), NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      strictEqual(out.code, 1);
      const stderr = new TextDecoder().decode(out.stderr);
      match(
        stderr,
        /printed "deno \d[^"]*" for --version \(exit 0\), expected "\d+\.\d+\.\d+": the runtime used is not a denort/,
      );
      ok(!/^\s+at |Uncaught/m.test(stderr), stderr);
      deepStrictEqual([...Deno.readDirSync(dist)].map((e) => e.name), ["keep.txt"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
