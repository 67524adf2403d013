/**
 * Dependency advisories for CI: runs `deno audit --level=high` over deno.lock and decides.
 * - The advisory service cannot be reached (offline, a TLS proxy, an error answer): say so, exit 0.
 * - A high or critical advisory affects a runtime dependency (reachable from an import-map entry that src/ imports):
 *   print it, exit 1.
 * - Advisories only in development dependencies (tests, scripts): print them as warnings, exit 0.
 *
 * Usage: deno run --allow-run --allow-read --allow-env scripts/audit_deps.ts [--timeout-ms 60000]
 * @module
 */
import { parseArgs } from "node:util";

/** One advisory as `deno audit` prints it. */
export interface Advisory {
  title: string;
  severity: string;
  package: string;
}

/** What the audit output says. */
export type AuditOutcome =
  | { kind: "clean" }
  | { kind: "unreachable"; reason: string }
  | { kind: "advisories"; advisories: Advisory[] };

const UNREACHABLE =
  /Failed to get data from the registry|error sending request|dns error|certificate|UnknownIssuer|timed out|connection (refused|reset)|tcp connect error|Temporary failure|status code [45]\d\d/i;

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** Parses `deno audit` output (its boxed advisory blocks and summary). */
export function parseAuditOutput(text: string, exitCode: number): AuditOutcome {
  const advisories: Advisory[] = [];
  for (const block of text.split(/^╭ /m).slice(1)) {
    const title = block.split("\n")[0]!.trim();
    const severity = /Severity:\s*(\w+)/.exec(block)?.[1]?.toLowerCase() ?? "unknown";
    const pkg = /Package:\s*(\S+)/.exec(block)?.[1] ?? "unknown";
    advisories.push({ title, severity, package: pkg });
  }
  if (advisories.length) return { kind: "advisories", advisories };
  if (exitCode === 0 && !UNREACHABLE.test(text)) return { kind: "clean" };
  const line = text.split("\n").find((l) => UNREACHABLE.test(l)) ?? text.trim().split("\n")[0] ?? "";
  return { kind: "unreachable", reason: line.replace(ANSI, "").trim().slice(0, 300) };
}

interface Lock {
  specifiers?: Record<string, string>;
  npm?: Record<string, { dependencies?: string[] }>;
}

/** Name of an npm package from a lock key such as `@scope/name@1.2.3` or `name@1.2.3_peer@4.5.6`. */
export function packageName(key: string): string {
  return /^(@?[^@]+)@/.exec(key)?.[1] ?? key;
}

/**
 * npm packages the program itself loads: everything reachable in deno.lock from the import-map entries that `src/`
 * imports (the rest serve tests and scripts only).
 */
export function runtimePackages(
  lock: Lock,
  importMap: Record<string, string>,
  srcSpecifiers: Set<string>,
): Set<string> {
  const npm = lock.npm ?? {};
  const keysByName = new Map<string, string[]>();
  for (const key of Object.keys(npm)) {
    const name = packageName(key);
    keysByName.set(name, [...(keysByName.get(name) ?? []), key]);
  }
  const resolve = (
    dep: string,
  ): string[] => (npm[dep] ? [dep] : keysByName.get(dep) ?? keysByName.get(packageName(dep)) ?? []);
  const seen = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    for (const d of npm[key]?.dependencies ?? []) resolve(d).forEach(visit);
  };
  for (const [alias, target] of Object.entries(importMap)) {
    if (!srcSpecifiers.has(alias)) continue;
    // `npm:@scope/name@1.2.3/sub/path` → name and version requirement (the sub-path is the same package).
    const m = /^npm:(@?[^@/]+(?:\/[^@/]+)?)(?:@([^/]+))?/.exec(target);
    if (!m) continue;
    const [, name, req] = m as unknown as [string, string, string | undefined];
    const resolved = req === undefined ? undefined : lock.specifiers?.[`npm:${name}@${req}`];
    for (const key of keysByName.get(name) ?? []) if (!resolved || key.startsWith(`${name}@${resolved}`)) visit(key);
  }
  return new Set([...seen].map(packageName));
}

/** Bare specifiers imported by the files under `dir` (`from "zod"`, `import("@x/y/stdio")`). */
export async function importedSpecifiers(dir: string): Promise<Set<string>> {
  const out = new Set<string>();
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (/\.(ts|js|mjs)$/.test(e.name)) {
        for (const m of (await Deno.readTextFile(p)).matchAll(/(?:from|import\()\s*["']([^"'.\/][^"']*)["']/g)) {
          out.add(m[1]!);
        }
      }
    }
  };
  await walk(dir);
  return out;
}

/** Decides the exit code and the lines to print. */
export function decide(outcome: AuditOutcome, runtime: Set<string>): { code: number; lines: string[] } {
  if (outcome.kind === "clean") return { code: 0, lines: ["deno audit: no known high or critical advisories"] };
  if (outcome.kind === "unreachable") {
    return {
      code: 0,
      lines: [`deno audit: skipped, the advisory service could not be reached (${outcome.reason}); not a failure`],
    };
  }
  const serious = outcome.advisories.filter((a) => a.severity === "high" || a.severity === "critical");
  const inRuntime = serious.filter((a) => runtime.has(a.package));
  const lines = outcome.advisories.map((a) =>
    `deno audit: ${a.severity} advisory in ${a.package} (${
      runtime.has(a.package) ? "runtime" : "development only"
    }): ${a.title}`
  );
  if (inRuntime.length) {
    lines.push(
      `deno audit: ${inRuntime.length} high or critical advisory(ies) affect runtime dependencies: update them ` +
        "(deno audit --fix) or pin a patched version",
    );
    return { code: 1, lines };
  }
  lines.push("deno audit: no high or critical advisory affects a runtime dependency");
  return { code: 0, lines };
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { "timeout-ms": { type: "string", default: "60000" } } });
  const root = new URL("..", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["audit", "--level=high"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), Number(values["timeout-ms"]));
  const out = await child.output();
  clearTimeout(timer);
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const outcome = out.signal === "SIGKILL"
    ? { kind: "unreachable" as const, reason: `no answer within ${values["timeout-ms"]} ms` }
    : parseAuditOutput(text, out.code);
  const config = JSON.parse(await Deno.readTextFile(`${root}deno.json`)) as { imports?: Record<string, string> };
  const lock = JSON.parse(await Deno.readTextFile(`${root}deno.lock`)) as Lock;
  const runtime = runtimePackages(lock, config.imports ?? {}, await importedSpecifiers(`${root}src`));
  const { code, lines } = decide(outcome, runtime);
  for (const l of lines) console.log(l);
  Deno.exit(code);
}
