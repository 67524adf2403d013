import { deepStrictEqual, match, ok, throws } from "node:assert/strict";
import {
  ALLOWED_ENV,
  DENIED_NETWORKS,
  parseHostPort,
  parseLockedArgs,
  permissionFlags,
  validateLockedOptions,
} from "../../src/permissions/profiles.ts";

const LOCKED = {
  profile: "locked" as const,
  pveHosts: ["PVE1.example.com:8006", "10.0.0.5:8006"],
  listen: ["127.0.0.1:8080"],
  configDir: "/etc/pve-mcp/",
  dataDir: "/var/lib/pve-mcp",
  extraRead: ["/run/secrets"],
  os: "linux" as const,
};

Deno.test("release profile: exact flags, nothing that opens run, ffi, sys or all", () => {
  const flags = permissionFlags({ profile: "release" });
  deepStrictEqual(flags, [
    "--no-prompt",
    "--allow-env=PROXMOX_*,HOME,USERPROFILE,XDG_CONFIG_HOME",
    "--ignore-env",
    "--allow-net",
    "--deny-net=169.254.0.0/16,[fd00:ec2::254],100.100.100.200",
    "--allow-read",
    "--allow-write",
    "--deny-run",
    "--deny-ffi",
    "--deny-sys",
    "--allow-import=invalid:1",
    "--deny-import",
    "--v8-flags=--max-semi-space-size=4,--heap-growing-percent=10",
  ]);
  for (const flag of flags) {
    ok(!/^--allow-(run|ffi|sys|all)\b|^-A$/.test(flag), `release must not contain ${flag}`);
  }
});

Deno.test("env allow-list: the project's own prefix and the home directory for ~/ paths", () => {
  deepStrictEqual([...ALLOWED_ENV], ["PROXMOX_*", "HOME", "USERPROFILE", "XDG_CONFIG_HOME"]);
  ok(DENIED_NETWORKS.includes("169.254.0.0/16"), "link-local (cloud metadata) must stay denied");
});

Deno.test("locked profile: only the given hosts, listen addresses and directories", () => {
  deepStrictEqual(permissionFlags(LOCKED), [
    "--no-prompt",
    "--allow-env=PROXMOX_*,HOME,USERPROFILE,XDG_CONFIG_HOME",
    "--ignore-env",
    "--allow-net=pve1.example.com:8006,10.0.0.5:8006,127.0.0.1:8080",
    "--allow-read=/etc/pve-mcp,/var/lib/pve-mcp,/run/secrets",
    "--allow-write=/var/lib/pve-mcp",
    "--deny-run",
    "--deny-ffi",
    "--deny-sys",
    "--allow-import=invalid:1",
    "--deny-import",
    "--v8-flags=--max-semi-space-size=4,--heap-growing-percent=10",
  ]);
});

Deno.test("locked profile: stdio-only build has no listen address", () => {
  const flags = permissionFlags({ ...LOCKED, listen: [], pveHosts: ["[fd00::5]:8006"] });
  ok(flags.includes("--allow-net=[fd00::5]:8006"), flags.join(" "));
});

Deno.test("locked profile: Windows paths on a Windows target", () => {
  const flags = permissionFlags({
    ...LOCKED,
    os: "windows",
    configDir: "C:\\ProgramData\\pve-mcp\\config",
    dataDir: "C:\\ProgramData\\pve-mcp\\data",
    extraRead: [],
  });
  ok(flags.includes("--allow-write=C:\\ProgramData\\pve-mcp\\data"), flags.join(" "));
  throws(() => permissionFlags({ ...LOCKED, os: "windows" }), /must be absolute on windows/);
});

Deno.test("locked profile: every problem is reported at once", () => {
  throws(
    () =>
      validateLockedOptions({
        pveHosts: ["pve1", "pve2:99999", "bad_host:8006"],
        listen: ["0.0.0.0"],
        configDir: "etc/pve-mcp",
        dataDir: "/var/lib/a,b",
        extraRead: ["/"],
        os: "linux",
      }),
    (error: Error) => {
      for (
        const part of [
          '--pve-host "pve1": not in host:port form',
          '--pve-host "pve2:99999": the port must be 1-65535',
          '--pve-host "bad_host:8006": not a valid host name',
          '--listen "0.0.0.0"',
          '--config-dir "etc/pve-mcp": the path must be absolute',
          '--data-dir "/var/lib/a,b"',
          '--extra-read "/": the path must not be a filesystem root',
        ]
      ) ok(error.message.includes(part), `missing "${part}" in:\n${error.message}`);
      return true;
    },
  );
  throws(() => validateLockedOptions({ pveHosts: [], configDir: "", dataDir: "", os: "linux" }), (e: Error) => {
    match(e.message, /Missing --pve-host/);
    match(e.message, /Missing --config-dir/);
    match(e.message, /Missing --data-dir/);
    return true;
  });
  throws(() => validateLockedOptions({ ...LOCKED, dataDir: "/var/../etc" }), /must not contain "\.\."/);
});

Deno.test("parseHostPort normalises and rejects", () => {
  deepStrictEqual(parseHostPort(" PVE.Lan:8006 "), "pve.lan:8006");
  deepStrictEqual(parseHostPort("[FD00::1]:443"), "[fd00::1]:443");
  throws(() => parseHostPort("256.1.1.1:8006"), /not a valid IPv4 address/);
  throws(() => parseHostPort("[zz::1]:8006"), /not a valid IPv6 address/);
  throws(() => parseHostPort("-bad.lan:8006"), /not a valid host name/);
  throws(() => parseHostPort("pve.lan:0"), /1-65535/);
});

Deno.test("parseLockedArgs accepts repeated and comma-separated values", () => {
  const opts = parseLockedArgs(
    {
      "pve-host": ["a.lan:8006,b.lan:8006", "c.lan:8006"],
      listen: ["127.0.0.1:8080"],
      "config-dir": "/etc/pve-mcp",
      "data-dir": "/var/lib/pve-mcp",
    },
    "linux",
  );
  deepStrictEqual(validateLockedOptions(opts).pveHosts, ["a.lan:8006", "b.lan:8006", "c.lan:8006"]);
});

Deno.test("both profiles' flags are accepted by `deno run` and deny run/ffi/sys at run time", async () => {
  const { parseProbeOutput, writeProbePreload } = await import("../sandbox/probe.ts");
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-profiles-" });
  try {
    const probe = await writeProbePreload(dir, { spawn: true, ffi: true, sys: true, envDenied: ["PATH"] });
    for (
      const flags of [
        permissionFlags({ profile: "release" }),
        permissionFlags({ ...LOCKED, configDir: dir, dataDir: dir, extraRead: [] }),
      ]
    ) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-config", ...flags, probe],
        env: { PATH: "/usr/bin", NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const results = parseProbeOutput(new TextDecoder().decode(out.stderr));
      for (const [name, r] of Object.entries(results)) ok(r.outcome === "denied", `${name}: ${JSON.stringify(r)}`);
      ok(Object.keys(results).length === 6, JSON.stringify(results));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
