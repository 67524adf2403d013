/**
 * A size guard in front of the SDK's stdio transport. The SDK closes the whole session when one message exceeds its
 * read buffer (10 MiB); this guard passes only complete lines of at most {@linkcode STDIO_MAX_MESSAGE_BYTES}, drops a
 * longer line without buffering it, and reports it so the server can answer with a JSON-RPC error and carry on.
 * @module
 */
import { Buffer } from "node:buffer";
import { type Readable, Transform } from "node:stream";

/** Largest stdio message (one JSON-RPC line) the server reads: 4 MiB, well above any tool's arguments. */
export const STDIO_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** The SDK read-buffer size to pair with the guard: a passed line always fits. */
export const SDK_BUFFER_BYTES = 2 * STDIO_MAX_MESSAGE_BYTES;

/** A dropped line: its size and the JSON-RPC id when it could be read from the line's start or end. */
export interface OversizedMessage {
  bytes: number;
  id: string | number | null;
}

const KEEP = 512;
const ID = String.raw`(-?\d{1,15}|"(?:[^"\\]|\\.){0,200}")`;
/** `{"jsonrpc":"2.0","id":7,…` or `{"id":7,…`: the id is a top-level key at the start. */
const ID_AT_START = new RegExp(String.raw`^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*${ID}\s*,`);
/** `…,"jsonrpc":"2.0","id":7}`: the id is the last top-level key (a nested one would be followed by two braces). */
const ID_AT_END = new RegExp(String.raw`,\s*"id"\s*:\s*${ID}\s*\}\s*$`);

function findId(head: string, tail: string): string | number | null {
  const m = ID_AT_START.exec(head) ?? ID_AT_END.exec(tail);
  if (!m?.[1]) return null;
  try {
    const id: unknown = JSON.parse(m[1]);
    return typeof id === "number" || typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}

/**
 * Wraps `input` (stdin) so that only lines of at most `maxBytes` reach the reader; `onOversized` hears about each
 * longer line, which is discarded as it streams by (memory stays bounded by `maxBytes` plus one chunk).
 */
export function guardStdin(
  input: Readable,
  onOversized: (message: OversizedMessage) => void,
  maxBytes = STDIO_MAX_MESSAGE_BYTES,
): Readable {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let dropping = false;
  let dropped = 0;
  let head = "";
  let tail = Buffer.alloc(0);

  const startDropping = (seg: Buffer) => {
    const all = Buffer.concat([...pending, seg]);
    dropping = true;
    dropped = all.length;
    head = all.subarray(0, KEEP).toString("utf8");
    tail = Buffer.from(all.subarray(Math.max(0, all.length - KEEP)));
    pending = [];
    pendingBytes = 0;
  };
  const keepDropping = (seg: Buffer) => {
    dropped += seg.length;
    tail = Buffer.from(Buffer.concat([tail, seg]).subarray(-KEEP));
  };

  const guard = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      let start = 0;
      while (start < chunk.length) {
        const nl = chunk.indexOf(10, start);
        const end = nl === -1 ? chunk.length : nl;
        const seg = chunk.subarray(start, end);
        if (dropping) keepDropping(seg);
        else if (pendingBytes + seg.length > maxBytes) startDropping(seg);
        else {
          pending.push(seg);
          pendingBytes += seg.length;
        }
        if (nl === -1) break;
        if (dropping) {
          onOversized({ bytes: dropped, id: findId(head, tail.toString("utf8")) });
          dropping = false;
          tail = Buffer.alloc(0);
        } else {
          this.push(Buffer.concat([...pending, Buffer.from("\n")]));
        }
        pending = [];
        pendingBytes = 0;
        start = nl + 1;
      }
      done();
    },
  });
  input.on("error", (e) => guard.destroy(e));
  return input.pipe(guard);
}
