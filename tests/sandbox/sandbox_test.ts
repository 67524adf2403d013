/**
 * The sandbox, proven on the shipped program: the bundle (dist/pve-mcp.js, the same code `deno compile` embeds) runs
 * under each profile's exact flags, with a probe preloaded into the same process. The runtime — not our code — must
 * refuse subprocesses, FFI, OS information, other environment variables, remote imports; and a `locked` build must
 * refuse a second loopback port and files outside its directories. Controls show the allowed side works.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { bundleRunArgs } from "../../scripts/bundle.ts";
import type { ProfileOptions } from "../../src/permissions/profiles.ts";
import { VERSION } from "../../src/version.ts";
import { sandboxBundle } from "./bundle_cache.ts";
import { denoEnv } from "./mcp_stdio.ts";
import { parseProbeOutput, type ProbeOutcome, type ProbeSpec, writeProbePreload } from "./probe.ts";

/** Runs `bundle --version` under the profile's flags with the probe preloaded; returns stdout and the probe. */
async function runProbed(profile: ProfileOptions, spec: ProbeSpec, tmp: string, env: Record<string, string> = {}) {
  const bundle = await sandboxBundle();
  const preload = await writeProbePreload(tmp, spec);
  const [run, ...rest] = bundleRunArgs(bundle, profile, ["--version"]);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [run as string, "--preload", preload, ...rest],
    env: { ...denoEnv(), ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout).trim(),
    probe: parseProbeOutput(stderr),
    stderr,
  };
}

function outcomes(results: Record<string, ProbeOutcome>): Record<string, string> {
  return Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.outcome]));
}

/** A TCP listener that accepts and closes, standing in for "something else on loopback". */
function listener(): { port: number; close: () => void } {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of l) conn.close();
  })().catch(() => {});
  return { port: (l.addr as Deno.NetAddr).port, close: () => l.close() };
}

const CLOSED: ProbeSpec = {
  spawn: true,
  ffi: true,
  sys: true,
  envDenied: ["PATH", "AWS_SECRET_ACCESS_KEY"],
  importDenied: ["https://deno.land/x/anything/mod.ts"],
};

Deno.test("sandbox/release: the bundle runs; subprocess, FFI, sys, foreign env and remote imports are refused", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "pve-mcp-sandbox-" });
  const other = listener();
  try {
    const r = await runProbed(
      { profile: "release" },
      {
        ...CLOSED,
        envAllowed: ["PROXMOX_MCP_LOG_LEVEL"],
        connectAllowed: [{ hostname: "127.0.0.1", port: other.port }],
        connectDenied: [{ hostname: "169.254.169.254", port: 80 }],
      },
      tmp,
      { AWS_SECRET_ACCESS_KEY: "not-for-us", PROXMOX_MCP_LOG_LEVEL: "info" },
    );
    strictEqual(r.code, 0, r.stderr);
    strictEqual(r.stdout, VERSION);
    deepStrictEqual(outcomes(r.probe), {
      "spawn Deno.Command": "denied",
      "spawn node:child_process": "denied",
      "ffi Deno.dlopen": "denied",
      "ffi process.dlopen": "denied",
      "sys hostname": "denied",
      "env PROXMOX_MCP_LOG_LEVEL": "allowed",
      "env PATH": "denied",
      "env AWS_SECRET_ACCESS_KEY": "denied",
      [`connect 127.0.0.1:${other.port}`]: "allowed",
      "connect 169.254.169.254:80": "denied",
      "import https://deno.land/x/anything/mod.ts": "denied",
    });
    strictEqual(r.probe["env PROXMOX_MCP_LOG_LEVEL"]?.value, "info");
    for (const key of ["spawn Deno.Command", "ffi Deno.dlopen", "sys hostname"]) {
      ok(r.probe[key]?.error === "NotCapable", `${key}: ${JSON.stringify(r.probe[key])}`);
    }
  } finally {
    other.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("sandbox/locked: only its PVE host and its directories; a second loopback port and other files are refused", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "pve-mcp-sandbox-" });
  const pve = listener();
  const other = listener();
  try {
    const configDir = join(tmp, "etc");
    const dataDir = join(tmp, "data");
    const outside = join(tmp, "outside");
    for (const d of [configDir, dataDir, outside]) await Deno.mkdir(d);
    await Deno.writeTextFile(join(configDir, "config.json"), "{}");
    await Deno.writeTextFile(join(outside, "secret.txt"), "not for the server");
    const profile: ProfileOptions = {
      profile: "locked",
      pveHosts: [`127.0.0.1:${pve.port}`],
      listen: [],
      configDir,
      dataDir,
    };
    const r = await runProbed(profile, {
      ...CLOSED,
      connectAllowed: [{ hostname: "127.0.0.1", port: pve.port }],
      connectDenied: [{ hostname: "127.0.0.1", port: other.port }, { hostname: "localhost", port: pve.port }],
      readAllowed: [join(configDir, "config.json")],
      readDenied: [join(outside, "secret.txt"), "/etc/hostname"],
      writeAllowed: [join(dataDir, "audit.jsonl")],
      writeDenied: [join(configDir, "config.json"), join(outside, "new.txt")],
    }, tmp);
    strictEqual(r.code, 0, r.stderr);
    strictEqual(r.stdout, VERSION);
    deepStrictEqual(outcomes(r.probe), {
      "spawn Deno.Command": "denied",
      "spawn node:child_process": "denied",
      "ffi Deno.dlopen": "denied",
      "ffi process.dlopen": "denied",
      "sys hostname": "denied",
      "env PATH": "denied",
      "env AWS_SECRET_ACCESS_KEY": "denied",
      [`connect 127.0.0.1:${pve.port}`]: "allowed",
      [`connect 127.0.0.1:${other.port}`]: "denied",
      [`connect localhost:${pve.port}`]: "denied",
      [`read ${join(configDir, "config.json")}`]: "allowed",
      [`read ${join(outside, "secret.txt")}`]: "denied",
      "read /etc/hostname": "denied",
      [`write ${join(dataDir, "audit.jsonl")}`]: "allowed",
      [`write ${join(configDir, "config.json")}`]: "denied",
      [`write ${join(outside, "new.txt")}`]: "denied",
      "import https://deno.land/x/anything/mod.ts": "denied",
    });
    const refused = r.probe[`connect 127.0.0.1:${other.port}`];
    ok(refused?.error === "NotCapable" && /net access/.test(refused.message ?? ""), JSON.stringify(refused));
    strictEqual(await Deno.readTextFile(join(configDir, "config.json")), "{}", "the config file was not changed");
  } finally {
    pve.close();
    other.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
