/** A captured CliIo for in-process CLI tests. */
import type { CliIo } from "../../src/cli/cli_io.ts";

export function captureIo(opts: { isTerminal?: boolean; env?: Record<string, string>; signal?: AbortSignal } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    isTerminal: opts.isTerminal ?? false,
    env: opts.env ?? { HOME: "/nonexistent" },
    ...(opts.signal !== undefined && { signal: opts.signal }),
  };
  return { io, out: () => out.join(""), err: () => err.join("") };
}
