/**
 * Input and output of the CLI commands (`config`, `secrets`, `tokens`, `audit`), so tests drive them in-process:
 * stdout/stderr writers, stdin, isTerminal, env, plus a few optional extras.
 * @module
 */
import { createOutput, type Output } from "./output.ts";

/** Where a CLI command reads and writes; tests pass their own. */
export interface CliIo {
  /** Writes text to standard output as is (add "\n" yourself). */
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdin?: ReadableStream<Uint8Array>;
  /** Whether a person is at the terminal (stdout is a terminal). */
  isTerminal: boolean;
  /** Whether stdin is a terminal (for no-echo prompts); default `isTerminal`. */
  stdinIsTerminal?: boolean;
  /** Turns terminal echo off/on for secret prompts (Deno.stdin.setRaw). */
  setRaw?: (raw: boolean) => void;
  /** Environment for configuration lookup; default the process environment. */
  env?: Record<string, string | undefined>;
  /** Working directory for `.env` and relative paths; default the process's. */
  cwd?: string;
  /** Clock; default `Date.now`. */
  now?: () => number;
  /** Stops long-running commands (`audit tail -f`); default: Ctrl-C. */
  signal?: AbortSignal;
}

/** The process's own standard streams. */
export function processIo(): CliIo {
  const enc = new TextEncoder();
  const write = (stream: typeof Deno.stdout | typeof Deno.stderr) => (text: string) => {
    const bytes = enc.encode(text);
    let written = 0;
    while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
  };
  return {
    stdout: write(Deno.stdout),
    stderr: write(Deno.stderr),
    stdin: Deno.stdin.readable,
    isTerminal: Deno.stdout.isTerminal(),
    stdinIsTerminal: Deno.stdin.isTerminal(),
    setRaw: (raw) => Deno.stdin.setRaw(raw),
  };
}

/** The house output helper (tables, ✔/⚠/✖ messages on stderr) over an io. */
export function outputFor(io: CliIo, json = false): Output {
  return createOutput({
    json,
    stdout: { write: io.stdout, isTerminal: io.isTerminal },
    stderr: { write: io.stderr, isTerminal: io.isTerminal },
  });
}

/** Reads all of stdin as text (for values piped in). */
export async function readAllStdin(io: CliIo): Promise<string> {
  if (!io.stdin) return "";
  return await new Response(io.stdin).text();
}

/** Thrown when the person at the terminal presses Ctrl-C at a prompt. */
export class PromptCancelled extends Error {
  override readonly name = "PromptCancelled";
}

/** Keystrokes read past the end of one prompt's line, kept for the next prompt on the same input. */
const pending = new WeakMap<ReadableStream<Uint8Array>, string[]>();

/**
 * Asks for a secret on the terminal without echo (raw mode), one line. Ctrl-C cancels, backspace edits.
 * The value is never written anywhere.
 */
export async function promptHidden(io: CliIo, question: string): Promise<string> {
  const stdin = io.stdin;
  if (!stdin) throw new PromptCancelled("no terminal to ask on");
  io.stderr(question);
  io.setRaw?.(true);
  const queue = pending.get(stdin) ?? [];
  pending.set(stdin, queue);
  const chars: string[] = [];
  const decoder = new TextDecoder();
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    for (;;) {
      while (queue.length > 0) {
        const ch = queue.shift()!;
        if (ch === "\r" || ch === "\n") {
          if (ch === "\r" && queue[0] === "\n") queue.shift();
          return chars.join("");
        }
        if (ch === "\x03" || ch === "\x04") throw new PromptCancelled("cancelled");
        if (ch === "\x7f" || ch === "\b") chars.pop();
        else if (ch >= " ") chars.push(ch);
      }
      reader ??= stdin.getReader();
      const { value, done } = await reader.read();
      if (done) return chars.join("");
      queue.push(...decoder.decode(value, { stream: true }));
    }
  } finally {
    reader?.releaseLock();
    io.setRaw?.(false);
    io.stderr("\n");
  }
}
