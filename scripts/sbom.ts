/**
 * CycloneDX 1.6 JSON software bill of materials from deno.lock: the npm packages the program actually ships (the
 * closure of the `npm:` modules in src/main.ts's module graph), with versions, purls, SHA-512 hashes from the lock's
 * integrity fields, licenses where Deno's cache holds the package.json, and the dependency graph. With `--runtime`
 * the Deno runtime (`denort`) embedded by `deno compile` is listed too.
 *
 * Usage: deno run -A scripts/sbom.ts [--out FILE] [--runtime] [--entry src/main.ts]
 * Deterministic: set SOURCE_DATE_EPOCH for a reproducible timestamp; the serial number derives from the content.
 * @module
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** The subset of a deno.lock (v4/v5) this script reads. */
export interface DenoLock {
  version: string;
  npm?: Record<string, { integrity?: string; dependencies?: string[] }>;
  jsr?: Record<string, { integrity?: string; dependencies?: string[] }>;
  remote?: Record<string, string>;
}

/** One CycloneDX component (the fields we emit). */
export interface CdxComponent {
  "type": "library" | "application";
  "bom-ref": string;
  name: string;
  group?: string;
  version: string;
  purl: string;
  scope?: "required";
  hashes?: { alg: "SHA-512" | "SHA-256"; content: string }[];
  licenses?: { license: { id: string } | { name: string } }[];
  externalReferences?: { type: string; url: string }[];
}

/** A CycloneDX 1.6 BOM (the fields we emit). */
export interface CdxBom {
  bomFormat: "CycloneDX";
  specVersion: "1.6";
  serialNumber: string;
  version: 1;
  metadata: {
    timestamp: string;
    tools: { components: { type: "application"; name: string; version: string }[] };
    component: CdxComponent;
  };
  components: CdxComponent[];
  dependencies: { ref: string; dependsOn: string[] }[];
}

/** Options of {@linkcode buildSbom}. */
export interface SbomOptions {
  lock: DenoLock;
  /** Version of pve-mcp. */
  version: string;
  /** npm packages the program imports directly, as lock keys (`zod@4.6.7`); default: every npm package in the lock. */
  roots?: string[];
  /** The embedded Deno runtime, for compiled binaries. */
  runtime?: { version: string };
  /** Build time; default now (or SOURCE_DATE_EPOCH). */
  timestamp?: Date;
  /** SPDX license expression or name of an npm package, when known. */
  license?: (name: string, version: string) => string | undefined;
  /** Version of the Deno that produced the BOM. */
  denoVersion?: string;
  /** SPDX id of pve-mcp's own license, when known. */
  appLicense?: string;
}

/** Splits an npm lock key (`@scope/name@1.2.3`, `name@1.2.3_peer@4`) into name and version. */
export function splitNpmKey(key: string): { name: string; version: string } {
  const at = key.indexOf("@", 1);
  if (at < 0) throw new Error(`Cannot read deno.lock npm entry "${key}": expected name@version`);
  return { name: key.slice(0, at), version: key.slice(at + 1).split("_")[0] as string };
}

/** Package URL of an npm package (`pkg:npm/%40scope/name@1.2.3`). */
export function npmPurl(name: string, version: string): string {
  return `pkg:npm/${name.replace(/^@/, "%40")}@${version}`;
}

function integrityToHash(integrity: string | undefined): CdxComponent["hashes"] {
  const m = /^sha512-([A-Za-z0-9+/=]+)$/.exec(integrity ?? "");
  if (m?.[1] === undefined) return undefined;
  const hex = Array.from(atob(m[1]), (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
  return [{ alg: "SHA-512", content: hex }];
}

function resolveDep(dep: string, keys: string[]): string | undefined {
  if (keys.includes(dep)) return dep;
  // v5 lists a dependency by bare name when the lock holds one version of it, "name@version" otherwise.
  return keys.find((k) => splitNpmKey(k).name === dep) ?? keys.find((k) => k.startsWith(`${dep}_`));
}

const SPDX_ID = /^[A-Za-z0-9.+-]+$/;

/** Builds the BOM; pure apart from the clock default. */
export async function buildSbom(opts: SbomOptions): Promise<CdxBom> {
  const npm = opts.lock.npm ?? {};
  const keys = Object.keys(npm).sort();
  const roots = opts.roots ?? keys;
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const key = resolveDep(queue.shift() as string, keys);
    if (key === undefined || seen.has(key)) continue;
    seen.add(key);
    queue.push(...(npm[key]?.dependencies ?? []));
  }
  const appRef = `pkg:generic/pve-mcp@${opts.version}`;
  const components: CdxComponent[] = [];
  const dependencies: CdxBom["dependencies"] = [];
  for (const key of [...seen].sort()) {
    const { name, version } = splitNpmKey(key);
    const purl = npmPurl(name, version);
    const slash = name.startsWith("@") ? name.indexOf("/") : -1;
    const license = opts.license?.(name, version);
    const hashes = integrityToHash(npm[key]?.integrity);
    components.push({
      type: "library",
      "bom-ref": purl,
      ...(slash > 0 ? { group: name.slice(0, slash), name: name.slice(slash + 1) } : { name }),
      version,
      purl,
      scope: "required",
      ...(hashes === undefined ? {} : { hashes }),
      ...(license === undefined
        ? {}
        : { licenses: [{ license: SPDX_ID.test(license) ? { id: license } : { name: license } }] }),
      externalReferences: [{ type: "distribution", url: `https://www.npmjs.com/package/${name}/v/${version}` }],
    });
    const deps = (npm[key]?.dependencies ?? []).map((d) => resolveDep(d, keys)).filter((d) => d !== undefined);
    dependencies.push({ ref: purl, dependsOn: deps.map((d) => npmPurl(splitNpmKey(d).name, splitNpmKey(d).version)) });
  }
  const rootRefs = roots.map((r) => resolveDep(r, keys)).filter((r) => r !== undefined)
    .map((r) => npmPurl(splitNpmKey(r).name, splitNpmKey(r).version));
  if (opts.runtime !== undefined) {
    const ref = `pkg:github/denoland/deno@v${opts.runtime.version}`;
    components.push({
      type: "application",
      "bom-ref": ref,
      name: "denort",
      version: opts.runtime.version,
      purl: ref,
      scope: "required",
      licenses: [{ license: { id: "MIT" } }],
      externalReferences: [{ type: "website", url: "https://deno.com" }],
    });
    rootRefs.push(ref);
  }
  dependencies.unshift({ ref: appRef, dependsOn: [...new Set(rootRefs)].sort() });
  const epoch = Deno.env.get("SOURCE_DATE_EPOCH");
  const timestamp = opts.timestamp ?? (epoch ? new Date(Number(epoch) * 1000) : new Date());
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify([opts.version, components]))),
  );
  const hex = Array.from(digest.slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${
    ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)
  }${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
  return {
    bomFormat: "CycloneDX",
    specVersion: "1.6",
    serialNumber: `urn:uuid:${uuid}`,
    version: 1,
    metadata: {
      timestamp: timestamp.toISOString().replace(/\.\d{3}Z$/, "Z"),
      tools: { components: [{ type: "application", name: "deno", version: opts.denoVersion ?? Deno.version.deno }] },
      component: {
        type: "application",
        "bom-ref": appRef,
        name: "pve-mcp",
        version: opts.version,
        purl: appRef,
        ...(opts.appLicense === undefined ? {} : { licenses: [{ license: { id: opts.appLicense } }] }),
      },
    },
    components,
    dependencies,
  };
}

/** What `deno info --json <entry>` tells about the program's npm packages. */
export interface ProgramNpmInfo {
  /** Lock keys of the npm packages the program's modules import directly. */
  roots: string[];
  /** Cache folder of each npm package (for its package.json). */
  localPaths: Record<string, string>;
}

/** Reads the program's direct npm imports from its module graph (offline: `deno info` uses the cache). */
export async function programNpmInfo(entry: string, cwd: string): Promise<ProgramNpmInfo> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json", entry], cwd, stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(
      `Cannot read the module graph of ${entry}: deno info failed:\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
    npmPackages?: Record<string, { localPath?: string }>;
  };
  const roots = new Set<string>();
  for (const m of info.modules) {
    const match = /^npm:\/?((?:@[^/]+\/)?[^/@]+@[^/]+)/.exec(m.specifier);
    if (match?.[1] !== undefined) roots.add(match[1]);
  }
  const localPaths: Record<string, string> = {};
  for (const [key, pkg] of Object.entries(info.npmPackages ?? {})) {
    if (pkg.localPath !== undefined) localPaths[key] = pkg.localPath;
  }
  return { roots: [...roots].sort(), localPaths };
}

/** License field of a cached package.json, or undefined. */
export function readCachedLicense(localPath: string | undefined): string | undefined {
  if (localPath === undefined) return undefined;
  try {
    const pkg = JSON.parse(Deno.readTextFileSync(`${localPath}/package.json`)) as { license?: unknown };
    return typeof pkg.license === "string" ? pkg.license : undefined;
  } catch {
    return undefined;
  }
}

function appLicense(root: string): { appLicense?: string } {
  try {
    const text = Deno.readTextFileSync(`${root}/LICENSE`);
    if (/MIT License/i.test(text)) return { appLicense: "MIT" };
    if (/Apache License/i.test(text) && /Version 2\.0/.test(text)) return { appLicense: "Apache-2.0" };
  } catch {
    // no LICENSE file: leave the field out rather than guess
  }
  return {};
}

/** Builds the BOM of the program in `root` (deno.json version, deno.lock, src/main.ts graph). */
export async function programSbom(root: string, opts: { runtime?: boolean; entry?: string } = {}): Promise<CdxBom> {
  const denoJson = JSON.parse(await Deno.readTextFile(`${root}/deno.json`)) as { version: string };
  const lock = JSON.parse(await Deno.readTextFile(`${root}/deno.lock`)) as DenoLock;
  const info = await programNpmInfo(opts.entry ?? "src/main.ts", root);
  return await buildSbom({
    lock,
    version: denoJson.version,
    roots: info.roots,
    ...(opts.runtime ? { runtime: { version: Deno.version.deno } } : {}),
    license: (name, version) => readCachedLicense(info.localPaths[`${name}@${version}`]),
    ...appLicense(root),
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string" }, runtime: { type: "boolean" }, entry: { type: "string" } },
  });
  const root = fileURLToPath(new URL("..", import.meta.url));
  const bom = await programSbom(root, {
    ...(values.runtime ? { runtime: true } : {}),
    ...(values.entry ? { entry: values.entry } : {}),
  });
  const text = JSON.stringify(bom, null, 2) + "\n";
  if (values.out) await Deno.writeTextFile(values.out, text);
  else await Deno.stdout.write(new TextEncoder().encode(text));
}
