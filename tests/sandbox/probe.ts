/**
 * Sandbox probe: tries forbidden (and, as controls, allowed) operations inside a Deno process and reports what the
 * runtime said. Loaded with `deno run <profile flags> --preload <file> dist/pve-mcp.js …`, it runs in the same
 * process, under the same permissions, as the program. The result is one line on stderr: `PVE_MCP_PROBE {json}`.
 * @module
 */

/** What to try. */
export interface ProbeSpec {
  spawn?: boolean;
  ffi?: boolean;
  sys?: boolean;
  envAllowed?: string[];
  envDenied?: string[];
  connectAllowed?: { hostname: string; port: number }[];
  connectDenied?: { hostname: string; port: number }[];
  readAllowed?: string[];
  readDenied?: string[];
  writeAllowed?: string[];
  writeDenied?: string[];
  importDenied?: string[];
}

/** Outcome of one attempt: `allowed`, `denied` (the runtime's NotCapable) or another `error`. */
export interface ProbeOutcome {
  outcome: "allowed" | "denied" | "error";
  error?: string;
  message?: string;
  value?: string;
}

/** Marker that starts the probe's stderr line. */
export const PROBE_MARKER = "PVE_MCP_PROBE ";

async function attempt(fn: () => unknown): Promise<ProbeOutcome> {
  try {
    const value = await fn();
    return { outcome: "allowed", ...(typeof value === "string" ? { value } : {}) };
  } catch (error) {
    const e = error as Error;
    // NotCapable is the permission system's error. PermissionDenied would be the OS (EACCES): reported as "error".
    const denied = e instanceof Deno.errors.NotCapable ||
      (e instanceof TypeError && /^Requires import access/.test(e.message));
    return { outcome: denied ? "denied" : "error", error: e.name, message: e.message };
  }
}

/** Runs every attempt in `spec` and returns the outcomes keyed by a readable name. */
export async function runProbe(spec: ProbeSpec): Promise<Record<string, ProbeOutcome>> {
  const out: Record<string, ProbeOutcome> = {};
  if (spec.spawn) {
    out["spawn Deno.Command"] = await attempt(() =>
      new Deno.Command(Deno.execPath(), { args: ["--version"], clearEnv: true, stdout: "null" }).output()
    );
    const cp = await import("node:child_process");
    out["spawn node:child_process"] = await attempt(() =>
      new Promise((resolve, reject) => {
        const child = cp.spawn(Deno.execPath(), ["--version"], { env: {}, stdio: "ignore" });
        child.on("error", reject);
        child.on("exit", resolve);
      })
    );
  }
  if (spec.ffi) {
    const lib = Deno.build.os === "windows" ? "kernel32.dll" : Deno.build.os === "darwin" ? "libc.dylib" : "libc.so.6";
    out["ffi Deno.dlopen"] = await attempt(() => Deno.dlopen(lib, { getpid: { parameters: [], result: "i32" } }));
    const process = (await import("node:process")).default as unknown as { dlopen(m: object, p: string): void };
    out["ffi process.dlopen"] = await attempt(() => process.dlopen({ exports: {} }, "/nonexistent/addon.node"));
  }
  if (spec.sys) out["sys hostname"] = await attempt(() => Deno.hostname());
  for (const name of spec.envAllowed ?? []) out[`env ${name}`] = await attempt(() => String(Deno.env.get(name)));
  for (const name of spec.envDenied ?? []) {
    out[`env ${name}`] = await attempt(async () => {
      const state = (await Deno.permissions.query({ name: "env", variable: name })).state;
      const value = Deno.env.get(name);
      // --ignore-env makes a forbidden variable read as undefined: the runtime refused it.
      if (state !== "granted" && value === undefined) throw new Deno.errors.NotCapable(`env ${name} is ${state}`);
      return `state=${state}`;
    });
  }
  const connect = async (t: { hostname: string; port: number }) => {
    const conn = await Deno.connect(t);
    conn.close();
    return "connected";
  };
  for (const t of spec.connectAllowed ?? []) out[`connect ${t.hostname}:${t.port}`] = await attempt(() => connect(t));
  for (const t of spec.connectDenied ?? []) out[`connect ${t.hostname}:${t.port}`] = await attempt(() => connect(t));
  for (const p of [...(spec.readAllowed ?? []), ...(spec.readDenied ?? [])]) {
    out[`read ${p}`] = await attempt(async () => `${(await Deno.readFile(p)).length} bytes`);
  }
  for (const p of [...(spec.writeAllowed ?? []), ...(spec.writeDenied ?? [])]) {
    out[`write ${p}`] = await attempt(() => Deno.writeTextFile(p, "probe\n"));
  }
  for (const url of spec.importDenied ?? []) out[`import ${url}`] = await attempt(() => import(url));
  return out;
}

/** Runs the probe and writes its single result line to stderr. */
export async function runProbeAndReport(spec: ProbeSpec): Promise<void> {
  const results = await runProbe(spec);
  Deno.stderr.writeSync(new TextEncoder().encode(PROBE_MARKER + JSON.stringify(results) + "\n"));
}

/** Finds and parses the probe line in a process's stderr. */
export function parseProbeOutput(stderr: string): Record<string, ProbeOutcome> {
  const line = stderr.split("\n").find((l) => l.startsWith(PROBE_MARKER));
  if (line === undefined) throw new Error(`No probe result in stderr:\n${stderr.slice(0, 2000)}`);
  return JSON.parse(line.slice(PROBE_MARKER.length));
}

/**
 * Writes a preload file that runs the probe with `spec`; returns its path. The file lives in `dir` (a temp dir).
 */
export async function writeProbePreload(dir: string, spec: ProbeSpec): Promise<string> {
  const path = `${dir}/probe_preload_${crypto.randomUUID()}.ts`;
  const probeUrl = new URL("./probe.ts", import.meta.url).href;
  await Deno.writeTextFile(
    path,
    `import { runProbeAndReport } from ${JSON.stringify(probeUrl)};\nawait runProbeAndReport(${
      JSON.stringify(spec)
    });\n`,
  );
  return path;
}
