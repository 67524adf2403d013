import { deepStrictEqual as assertEquals, ok as assert, strictEqual } from "node:assert/strict";
import { runSimulateCommand } from "../../src/sim/cli.ts";

function capture() {
  let out = "";
  let err = "";
  let notify: () => void = () => {};
  const changed = () => new Promise<void>((r) => (notify = r));
  return {
    io: {
      write: (t: string) => {
        out += t;
        notify();
      },
      error: (t: string) => {
        err += t;
      },
    },
    out: () => out,
    err: () => err,
    changed,
  };
}

Deno.test("simulate: --json prints connection details; the CA file works; stops on abort and cleans up", async () => {
  const c = capture();
  const stop = new AbortController();
  const printed = c.changed();
  const done = runSimulateCommand(["--nodes", "2", "--guests", "5", "--seed", "3", "--json"], {
    ...c.io,
    signal: stop.signal,
  });
  await printed;
  const info = JSON.parse(c.out().trim());
  assertEquals([info.nodes, info.guests, info.host], [2, 5, "127.0.0.1"]);
  const caPem = await Deno.readTextFile(info.caFile);
  const client = Deno.createHttpClient({ caCerts: [caPem] });
  try {
    const res = await fetch(`${info.url}/api2/json/cluster/resources?type=vm`, {
      client,
      headers: { authorization: info.tokens.auditor.header },
    });
    strictEqual(res.status, 200);
    strictEqual((await res.json()).data.length, 5);
  } finally {
    client.close();
  }
  stop.abort();
  strictEqual(await done, 0);
  let exists = true;
  try {
    await Deno.stat(info.caFile);
  } catch {
    exists = false;
  }
  assert(!exists, "the temporary CA file is removed on exit");
});

Deno.test("simulate: text output names URL, CA file, fingerprint and credentials", async () => {
  const c = capture();
  const stop = new AbortController();
  const printed = c.changed();
  const done = runSimulateCommand([], { ...c.io, signal: stop.signal });
  await printed;
  stop.abort();
  strictEqual(await done, 0);
  const text = c.out();
  for (
    const needle of [
      "listening on https://127.0.0.1:",
      "CA file:",
      "fingerprint:",
      "root@pam!mcp-admin",
      "mcp@pve!auditor",
      "ticket login: root@pam /",
      "PROXMOX_TOKEN_SECRET=",
      "Simulator stopped.",
    ]
  ) {
    assert(text.includes(needle), `output mentions ${needle}`);
  }
});

Deno.test("simulate: the 'point pve-mcp at it' line is shell-safe (a shell reads back the exact values)", async () => {
  const c = capture();
  const stop = new AbortController();
  const printed = c.changed();
  const done = runSimulateCommand(["--nodes", "1", "--guests", "1"], { ...c.io, signal: stop.signal });
  await printed;
  try {
    const line = c.out().split("\n").find((l) => l.includes("PROXMOX_TOKEN_ID="))!.trim();
    assert(line.includes("PROXMOX_TOKEN_ID='root@pam!mcp-admin'"), line);
    assert(line.endsWith(" pve-mcp serve"), line);
    if (Deno.build.os !== "windows") {
      const probe = line.replace(/ pve-mcp serve$/, " env");
      const out = await new Deno.Command("sh", { args: ["-c", probe], env: {}, clearEnv: true }).output();
      const env = new TextDecoder().decode(out.stdout);
      assert(env.includes("PROXMOX_TOKEN_ID=root@pam!mcp-admin\n"), env);
      assert(/PROXMOX_TOKEN_SECRET=[0-9a-f-]{36}\n/.test(env), env);
    }
  } finally {
    stop.abort();
    strictEqual(await done, 0);
  }
});

Deno.test("simulate: help, bad flags and bad values", async () => {
  const help = capture();
  strictEqual(await runSimulateCommand(["--help"], help.io), 0);
  assert(help.out().startsWith("Usage: pve-mcp simulate"));
  const unknown = capture();
  strictEqual(await runSimulateCommand(["--bogus"], unknown.io), 2);
  assert(unknown.err().includes("Usage:"));
  const bad = capture();
  strictEqual(await runSimulateCommand(["--guests", "many"], bad.io), 2);
  assert(bad.err().includes('Invalid value for --guests: expected a whole number, got "many"'));
  const range = capture();
  strictEqual(await runSimulateCommand(["--nodes", "51"], range.io), 2);
  assert(range.err().includes("nodes must be an integer from 1 to 50"));
});

Deno.test("simulate: a real process stops cleanly on SIGTERM", async () => {
  const cli = new URL("../../src/sim/cli.ts", import.meta.url).href;
  const code = `import { runSimulateCommand } from ${
    JSON.stringify(cli)
  }; Deno.exit(await runSimulateCommand(["--json"]));`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", code],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    line += value;
  }
  const info = JSON.parse(line);
  assert(String(info.url).startsWith("https://127.0.0.1:"));
  child.kill("SIGTERM");
  const status = await child.status;
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  const stderr = await new Response(child.stderr).text();
  strictEqual(status.code, 0, stderr);
});
