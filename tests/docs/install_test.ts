/**
 * docs/install.md and docs/deploy/ say what the code does: the flag lines are the profiles' exact flags, the systemd
 * unit carries the hardening the page promises (and `systemd-analyze verify` accepts it where available), the
 * container examples probe with `config check` and take secrets from mounted files, and the example configurations
 * load with the real configuration loader.
 */
import { deepStrictEqual, match, ok } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { bundleRunArgs } from "../../scripts/bundle.ts";
import { loadConfig } from "../../src/config/load.ts";
import { permissionFlags } from "../../src/permissions/profiles.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const read = (path: string) => Deno.readTextFile(`${ROOT}${path}`);

function block(doc: string, marker: string): string {
  const m = new RegExp(`<!-- ${marker}:begin[^>]*-->\\s*\`\`\`\\n([^\`]*)\`\`\`\\s*<!-- ${marker}:end -->`).exec(doc);
  if (m?.[1] === undefined) throw new Error(`docs/install.md has no ${marker} block`);
  return m[1].trim();
}

Deno.test("install.md shows the release and locked flags exactly as the profiles module builds them", async () => {
  const doc = await read("docs/install.md");
  deepStrictEqual(block(doc, "release-flags"), permissionFlags({ profile: "release" }).join(" "));
  deepStrictEqual(
    block(doc, "locked-flags"),
    permissionFlags({
      profile: "locked",
      pveHosts: ["pve1.example.com:8006", "pve2.example.com:8006"],
      listen: ["127.0.0.1:8080", "127.0.0.1:8081"],
      configDir: "/etc/pve-mcp",
      dataDir: "/var/lib/pve-mcp",
      extraRead: ["/run/credentials/pve-mcp.service"],
      os: "linux",
    }).join(" "),
  );
});

Deno.test("install.md runs the bundle with exactly the release flags", async () => {
  const doc = await read("docs/install.md");
  const command = /<!-- bundle-run[^>]*-->\s*```sh\n([^`]*)```/.exec(doc)?.[1];
  ok(command, "docs/install.md has a bundle-run block");
  const words = [...command.replace(/\\\n/g, " ").matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
  deepStrictEqual(words, ["deno", ...bundleRunArgs("dist/pve-mcp.js", { profile: "release" }, ["serve"])]);
});

Deno.test("the systemd unit is hardened as documented", async () => {
  const unit = await read("docs/deploy/pve-mcp.service");
  for (
    const line of [
      "User=pve-mcp",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "PrivateDevices=yes",
      "CapabilityBoundingSet=",
      "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
      "SystemCallFilter=@system-service",
      "UMask=0077",
      "RestartPreventExitStatus=2",
      "Environment=PROXMOX_TOKEN_SECRET_FILE=%d/pve-token-secret",
    ]
  ) ok(unit.split("\n").includes(line), `missing ${line}`);
  ok(!/^MemoryDenyWriteExecute=yes/m.test(unit), "MemoryDenyWriteExecute would stop V8's JIT");
  ok(!/^Environment=PROXMOX_TOKEN_SECRET=/m.test(unit), "no secret values in the unit");
});

Deno.test({
  name: "systemd-analyze verify accepts the unit",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command("systemd-analyze", {
        args: ["verify", `${ROOT}docs/deploy/pve-mcp.service`],
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch {
      console.log("systemd-analyze is not installed: skipped");
      return;
    }
    // The binary is not installed here; every other complaint is a real problem.
    const problems = new TextDecoder().decode(out.stderr).split("\n")
      .filter((l) => l.trim() !== "" && !/Command \/usr\/local\/bin\/pve-mcp is not executable/.test(l));
    deepStrictEqual(problems, []);
  },
});

Deno.test("container examples: non-root, read-only, probes run config check, secrets are mounted files", async () => {
  const containerfile = await read("docs/deploy/Containerfile");
  match(containerfile, /^FROM gcr\.io\/distroless\/cc-debian12:nonroot$/m);
  match(containerfile, /^USER 65532:65532$/m);
  match(containerfile, /sha256sum -c/);
  match(containerfile, /HEALTHCHECK[^]*"config", "check"/);
  const compose = await read("docs/deploy/compose.yaml");
  for (const text of ["read_only: true", "cap_drop: [ALL]", "no-new-privileges:true", 'user: "65532:65532"']) {
    ok(compose.includes(text), `compose.yaml: missing ${text}`);
  }
  match(compose, /test: \["CMD", "\/usr\/local\/bin\/pve-mcp", "config", "check"\]/);
  match(compose, /PROXMOX_TOKEN_SECRET_FILE: \/run\/secrets\/pve_token_secret/);
  const k8s = await read("docs/deploy/kubernetes.yaml");
  for (const text of ["runAsNonRoot: true", "readOnlyRootFilesystem: true", "allowPrivilegeEscalation: false"]) {
    ok(k8s.includes(text), `kubernetes.yaml: missing ${text}`);
  }
  const probes = k8s.match(/command: \["\/usr\/local\/bin\/pve-mcp", "config", "check"\]/g) ?? [];
  ok(probes.length === 2, "readiness and liveness probes run config check");
  match(k8s, /name: PROXMOX_TOKEN_SECRET_FILE, value: \/run\/secrets\/pve-mcp\/token-secret/);
  match(k8s, /mountPath: \/run\/secrets\/pve-mcp, readOnly: true/);
  for (const doc of [compose, k8s, containerfile]) {
    ok(!/PROXMOX_TOKEN_SECRET:|TOKEN_SECRET=/.test(doc), "no secret value");
  }
});

Deno.test("the example configurations load with the real loader", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-install-doc-" });
  try {
    const k8s = await read("docs/deploy/kubernetes.yaml");
    const embedded = /config\.json: \|\n((?: {4}.*\n)+)/.exec(k8s)?.[1]?.replace(/^ {4}/gm, "");
    ok(embedded, "kubernetes.yaml embeds config.json");
    const examples = { "config.example.json": await read("docs/deploy/config.example.json"), "k8s.json": embedded };
    for (const [name, text] of Object.entries(examples)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
      const config = await loadConfig({
        env: { PROXMOX_MCP_CONFIG: `${dir}/${name}`, PROXMOX_TOKEN_SECRET: "example-secret" },
        cwd: dir,
        scrubEnv: false,
      });
      deepStrictEqual(config.clusters.prod?.host, "pve1.example.com", name);
      deepStrictEqual(config.http.host, "0.0.0.0", name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
