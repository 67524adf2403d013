/**
 * Test helpers for the secrets tests: temp dirs and keys.
 * @module
 */
import { generateKeyBytes, MasterKey } from "../../src/crypto/keys.ts";

/** A fresh raw master key. */
export async function newKey(source = "test key"): Promise<MasterKey> {
  return await MasterKey.fromBytes(generateKeyBytes(), { source });
}

/** Runs `fn` in a fresh temp dir that is removed afterwards. */
export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pve-mcp-secrets-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Permission bits of a file. */
export async function modeOf(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

/** An in-memory CLI io: what a command wrote, and optional stdin text. */
export function captureIo(opts: {
  env?: Record<string, string | undefined>;
  cwd?: string;
  stdin?: string | Uint8Array[];
  terminal?: boolean;
  stdinTerminal?: boolean;
  now?: () => number;
} = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const chunks = typeof opts.stdin === "string" ? [new TextEncoder().encode(opts.stdin)] : opts.stdin ?? [];
  const rawCalls: boolean[] = [];
  const io = {
    stdout: (t: string) => void out.push(t),
    stderr: (t: string) => void err.push(t),
    stdin: new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(chunk);
        c.close();
      },
    }),
    isTerminal: opts.terminal ?? false,
    stdinIsTerminal: opts.stdinTerminal ?? opts.terminal ?? false,
    setRaw: (raw: boolean) => void rawCalls.push(raw),
    env: opts.env ?? {},
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  };
  return {
    io,
    rawCalls,
    get stdout() {
      return out.join("");
    },
    get stderr() {
      return err.join("");
    },
    get all() {
      return out.join("") + err.join("");
    },
  };
}
