/**
 * Resolved secret values never leave the server: every argument that accepts `secret://` (ALL_TOOLS' secretArgs)
 * gets a canary secret — a valid value that reaches the simulator, an invalid one that fails validation, and one that
 * PVE "echoes" in an error (a forced 500 quoting the value, base64 and URL-encoded) — through a real MCP client over
 * stdio AND over HTTP (`serve --http` as a subprocess). No canary, whole, in part or encoded, may appear in any result,
 * error, stderr log line or audit record. The use policy (docs/secrets.md) is checked on the same stacks: round
 * trips, arguments, principals, references in other arguments — each refusal asserted on what the simulator got.
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { DeviceTokenStore } from "../../src/auth/device_tokens.ts";
import { toBase64 } from "../../src/crypto/encoding.ts";
import { generateKeyBytes, MasterKey } from "../../src/crypto/keys.ts";
import { createSecretStore, type SecretPolicy } from "../../src/secrets/store.ts";
import { startSimulator } from "../../src/sim/mod.ts";
import { passwordHash } from "../../src/sim/routes/guest_extras.ts";
import { ALL_TOOLS } from "../../src/tools/all.ts";
import { type Canary, findLeaks, textCanary } from "../leak/canaries.ts";
import { assert, assertEquals, baseEnv, call, ROOT, type Sim, startStack } from "./harness.ts";

type Result = Awaited<ReturnType<typeof call>>;
type Caller = (name: string, args: Record<string, unknown>) => Promise<Result>;

/** Every `tool.argument` that accepts `secret://`. */
const TARGETS = ALL_TOOLS.flatMap((t) => Object.keys(t.secretArgs ?? {}).map((a) => `${t.name}.${a}`)).sort();

function sshCanary(label: string): Canary {
  const body = toBase64(crypto.getRandomValues(new Uint8Array(32)));
  const text = textCanary(label);
  const value = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${body} ${text.value}`;
  return { label, value, forms: [body, text.value, ...text.forms, encodeURIComponent(value), btoa(value)] };
}

function isSsh(target: string): boolean {
  return /ssh/.test(target);
}

/** How each target is called with a reference, and which write PVE gets (for forcing an echoing error). */
function cases(
  vm: number,
  agentVm: number,
): Record<string, { args: (ref: string) => Record<string, unknown>; write: string }> {
  return {
    "guest_agent.content": {
      args: (ref) => ({ vmid: agentVm, action: "file_write", path: "/tmp/canary", content: ref }),
      write: "POST /nodes/*/qemu/*/agent/file-write",
    },
    "guest_config.cipassword": { args: (ref) => ({ vmid: vm, cipassword: ref }), write: "PUT /nodes/*/qemu/*/config" },
    "guest_config.sshkeys": { args: (ref) => ({ vmid: vm, sshkeys: ref }), write: "PUT /nodes/*/qemu/*/config" },
    "guest_create.password": {
      args: (ref) => ({ type: "qemu", node: "pve1", password: ref }),
      write: "POST /nodes/*/qemu",
    },
    "guest_create.ssh_keys": {
      args: (ref) => ({ type: "qemu", node: "pve1", ssh_keys: ref }),
      write: "POST /nodes/*/qemu",
    },
  };
}

interface Fixture {
  sim: Sim;
  dir: string;
  env: Record<string, string>;
  canaries: Canary[];
  vm: number;
  agentVm: number;
}

/** Simulator, secret store with canaries for every target (valid, invalid, echoed) and the policy secrets. */
async function fixture(prefix: string): Promise<Fixture> {
  const sim = await startSimulator({ nodes: 1, guests: 6, seed: 11, taskDurationMs: 0 });
  const vms = [...sim.state.guests.values()].filter((g) => g.type === "qemu" && !g.template);
  const agent = vms[1]!;
  agent.config.agent = "1";
  agent.status = "running";
  agent.qmpstatus = "running";
  agent.tags = ["agent-ok"];
  sim.state.touch();
  const dir = await Deno.makeTempDir({ prefix });
  const raw = generateKeyBytes();
  const store = createSecretStore(`${dir}/secrets.json`, await MasterKey.fromBytes(raw, { source: "test" }));
  const canaries: Canary[] = [];
  for (const target of TARGETS) {
    for (const kind of ["ok", "bad", "echo"]) {
      if (kind === "bad" && !isSsh(target)) continue; // only SSH keys are validated by the server
      const c = isSsh(target) && kind !== "bad" ? sshCanary(`${kind}.${target}`) : textCanary(`${kind}.${target}`);
      canaries.push(c);
      await store.set(`${kind}.${target}`, c.value, { allow: [target] });
    }
  }
  const policy: Record<string, SecretPolicy> = {
    plain: {},
    "only-create": { allow: ["guest_create.password"] },
    "other-principal": { principals: ["device:someone-else"] },
  };
  for (const [name, p] of Object.entries(policy)) {
    const c = textCanary(name);
    canaries.push(c);
    await store.set(name, c.value, p);
  }
  await Deno.writeTextFile(`${dir}/ca.pem`, sim.caCertPem);
  const env = {
    PROXMOX_MCP_SECRETS_FILE: `${dir}/secrets.json`,
    PROXMOX_MCP_MASTER_KEY: toBase64(raw),
    PROXMOX_MCP_TOOLSETS: "guests,agent",
    PROXMOX_MCP_AGENT_EXEC_TAGS: "agent-ok",
    PROXMOX_MCP_AUDIT_PATH: `${dir}/audit`,
  };
  return { sim, dir, env, canaries, vm: vms[0]!.vmid, agentVm: agent.vmid };
}

function writesSince(sim: Sim, mark: number): string[] {
  return sim.requests.slice(mark).filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);
}

/** Runs every canary case and the policy cases; returns everything the client saw. */
async function exercise(f: Fixture, c: Caller, principal: string): Promise<string[]> {
  const seen: string[] = [];
  const run = async (name: string, args: Record<string, unknown>) => {
    const r = await c(name, args);
    seen.push(JSON.stringify(r));
    return r;
  };
  const table = cases(f.vm, f.agentVm);
  assertEquals(Object.keys(table).sort(), TARGETS, "a case for every argument that accepts secret://");
  for (const target of TARGETS) {
    const name = target.split(".")[0]!;
    const { args, write } = table[target]!;
    const value = f.canaries.find((x) => x.label === `ok.${target}`)!.value;
    // A valid value goes through and reaches PVE.
    const ok = await run(name, args(`secret://ok.${target}`));
    assert(!ok.isError, `${target}: ${ok.content[0]!.text}`);
    // (The simulator's request log redacts passwords; its state holds what PVE would keep: the value or its hash.)
    const state = JSON.stringify([...f.sim.state.guests.values()].map((g) => g.config)) +
      JSON.stringify(f.sim.requests.slice(-20).map((r) => r.params)) +
      JSON.stringify(f.sim.state.guests.get(f.agentVm));
    const forms = [value, encodeURIComponent(value), passwordHash(value)];
    assert(forms.some((x) => state.includes(x)), `${target}: the value reached PVE`);
    // An invalid SSH key fails validation naming the reference.
    if (isSsh(target)) {
      const field = target.split(".")[1]!;
      const bad = await run(name, args(`secret://bad.${target}`));
      assert(bad.isError, `${target}: invalid key accepted`);
      assert(
        bad.content[0]!.text.includes(`${field}: the value of secret://bad.${target} is not an SSH public key line`),
        bad.content[0]!.text,
      );
    }
    // PVE quoting the value in an error (as real PVE does for bad parameters) is scrubbed too.
    const echo = f.canaries.find((x) => x.label === `echo.${target}`)!;
    const rule = f.sim.faults.set(write, {
      status: 500,
      message: `bad value '${echo.value}' (${btoa(echo.value)}) ${encodeURIComponent(echo.value)} ${
        JSON.stringify(echo.value)
      }`,
    });
    const failed = await run(name, args(`secret://echo.${target}`));
    f.sim.faults.clear(rule);
    assert(failed.isError && /\[secret\]/.test(failed.content[0]!.text), `${target}: ${failed.content[0]!.text}`);
  }

  // Use policy: each refusal names the reference and where it may go, and nothing is sent.
  const refused = async (name: string, args: Record<string, unknown>, pattern: RegExp) => {
    const mark = f.sim.requests.length;
    const r = await run(name, args);
    assert(r.isError && pattern.test(r.content[0]!.text), `${name}: ${r.content[0]!.text}`);
    assertEquals(writesSince(f.sim, mark), [], `${name}: nothing was sent`);
  };
  await refused(
    "guest_config",
    { vmid: f.vm, sshkeys: "secret://plain" },
    /sshkeys: secret:\/\/plain may not be used in guest_config\.sshkeys: SSH keys stay readable.*--allow guest_config\.sshkeys/,
  );
  await refused(
    "guest_agent",
    { vmid: f.agentVm, action: "file_write", path: "/tmp/x", content: "secret://plain" },
    /secret:\/\/plain may not be used in guest_agent\.content: the guest can read the file back/,
  );
  await refused(
    "guest_config",
    { vmid: f.vm, cipassword: "secret://only-create" },
    /secret:\/\/only-create may not be used in guest_config\.cipassword: it may be used only in guest_create\.password/,
  );
  await refused(
    "guest_config",
    { vmid: f.vm, notes: "secret://plain" },
    /notes: secret:\/\/plain cannot be used here; guest_config accepts secret:\/\/NAME only in guest_config\.cipassword, guest_config\.sshkeys/,
  );
  await refused(
    "guest_config",
    { vmid: f.vm, cipassword: "secret://other-principal" },
    new RegExp(`secret://other-principal may not be used by ${principal}: it is reserved for device:someone-else`),
  );
  // The default policy allows an argument that does not hand the value back.
  const plain = await run("guest_config", { vmid: f.vm, cipassword: "secret://plain" });
  assert(!plain.isError, plain.content[0]!.text);
  return seen;
}

async function auditText(dir: string): Promise<string> {
  let text = "";
  for await (const e of Deno.readDir(`${dir}/audit`)) {
    if (e.isFile) text += await Deno.readTextFile(`${dir}/audit/${e.name}`);
  }
  assert(text.includes('"guest_config"'), "the audit log recorded the calls");
  return text;
}

function assertNoLeak(f: Fixture, where: Record<string, string>): void {
  const leaks = Object.entries(where).flatMap(([w, text]) => findLeaks(f.canaries, w, text));
  assert(leaks.length === 0, `Canaries leaked:\n${leaks.join("\n")}`);
}

Deno.test("secret canary over stdio: no resolved value in results, errors, logs or the audit log", async () => {
  const f = await fixture("pve-mcp-canary-stdio-");
  const stack = await startStack({
    sim: f.sim,
    mode: "operator",
    env: { ...f.env, PROXMOX_MCP_CONFIRM_WITHOUT_ELICITATION: "allow" },
  });
  let seen: string[] = [];
  try {
    seen = await exercise(f, (n, a) => call(stack.client, n, a), "stdio");
  } finally {
    await stack.close();
  }
  try {
    assertNoLeak(f, {
      "tool results": seen.join("\n"),
      "stderr": stack.stderr(),
      "audit log": await auditText(f.dir),
    });
    assert(stack.stderr().includes('"level"'), "debug logs were captured");
  } finally {
    await f.sim.close();
    await Deno.remove(f.dir, { recursive: true });
  }
});

Deno.test("secret canary over HTTP: no resolved value in results, errors, logs or the audit log", async () => {
  const f = await fixture("pve-mcp-canary-http-");
  const devices = new DeviceTokenStore({ path: `${f.dir}/tokens.json` });
  const ci = await devices.add({ name: "ci", mode: "operator" });
  await devices.flush();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", `${ROOT}src/main.ts`, "serve", "--http"],
    env: {
      ...baseEnv(),
      ...f.env,
      PROXMOX_HOST: "127.0.0.1",
      PROXMOX_PORT: String(f.sim.port),
      PROXMOX_TOKEN_ID: f.sim.tokens.admin.tokenId,
      PROXMOX_TOKEN_SECRET: f.sim.tokens.admin.secret,
      PROXMOX_CA_FILE: `${f.dir}/ca.pem`,
      PROXMOX_MCP_MODE: "operator",
      PROXMOX_MCP_LOG_LEVEL: "debug",
      PROXMOX_MCP_HTTP_PORT: "0",
      PROXMOX_MCP_HTTP_TOKENS_FILE: `${f.dir}/tokens.json`,
      PROXMOX_MCP_RATE_LIMIT_PER_MINUTE: "100000",
      PROXMOX_MCP_RATE_LIMIT_WRITES_PER_MINUTE: "100000",
    },
    clearEnv: true,
    cwd: f.dir,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const url = Promise.withResolvers<string>();
  const drained = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write: (chunk) => {
        stderr += chunk;
        const m = /"url":"(http:\/\/127\.0\.0\.1:\d+\/mcp)"/.exec(stderr);
        if (m) url.resolve(m[1]!);
      },
      close: () => url.reject(new Error(`serve --http stopped:\n${stderr}`)),
    }),
  );
  let seen: string[] = [];
  try {
    const client = new Client({ name: "canary", version: "1" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(await url.promise), {
        requestInit: { headers: { authorization: `Bearer ${ci.token}` } },
      }),
    );
    seen = await exercise(f, (n, a) => call(client, n, a), "device:ci");
    await client.close();
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await drained.catch(() => {});
  }
  try {
    assertNoLeak(f, { "tool results": seen.join("\n"), "stderr": stderr, "audit log": await auditText(f.dir) });
    assert(stderr.includes("MCP over Streamable HTTP"), "logs were captured");
  } finally {
    await f.sim.close();
    await Deno.remove(f.dir, { recursive: true });
  }
});
