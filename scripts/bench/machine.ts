/**
 * The machine a benchmark ran on: CPU model, cores, memory, OS, Deno version, load at the start.
 * @module
 */

/** What the benchmark report prints about the machine. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  deno: string;
  v8: string;
  typescript: string;
  loadAverage: string;
  /** Load average when the run ended (set by the caller). */
  loadAverageEnd?: string;
  date: string;
}

async function read(path: string): Promise<string> {
  return await Deno.readTextFile(path).catch(() => "");
}

/** Describes this machine (Linux /proc where present, Deno's APIs elsewhere). */
export async function describeMachine(): Promise<Machine> {
  const cpuinfo = await read("/proc/cpuinfo");
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown CPU";
  const cores = navigator.hardwareConcurrency;
  const memTotal = Number(/^MemTotal:\s*(\d+)/m.exec(await read("/proc/meminfo"))?.[1] ?? NaN);
  const memoryGiB = Number.isFinite(memTotal) ? memTotal / 1024 / 1024 : Deno.systemMemoryInfo().total / 2 ** 30;
  const osRelease = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(await read("/etc/os-release"))?.[1] ?? Deno.build.os;
  const load = Deno.loadavg().map((v) => v.toFixed(2)).join(", ");
  return {
    cpu,
    cores,
    memoryGiB: Math.round(memoryGiB * 10) / 10,
    os: `${osRelease} (${Deno.build.arch}), kernel ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    loadAverage: load,
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  };
}

/** VmRSS of a process in KiB (Linux), or NaN where /proc is absent. */
export async function rssKiB(pid: number): Promise<number> {
  const status = await read(`/proc/${pid}/status`);
  return Number(/^VmRSS:\s*(\d+)\s*kB/m.exec(status)?.[1] ?? NaN);
}

/** VmRSS of an idle `deno` process that loaded nothing (the floor every Deno program starts from). */
export async function idleDenoRss(): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "console.log('ready'); setTimeout(() => {}, 10_000)"],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  await reader.read();
  await new Promise((r) => setTimeout(r, 200));
  const kib = await rssKiB(child.pid);
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  return kib;
}
