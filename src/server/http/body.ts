/**
 * Reading a request body with a size limit and a time limit, so a slow or huge upload cannot tie the server up.
 * @module
 */

/** Outcome of {@linkcode readBody}. */
export type BodyRead =
  | { ok: true; bytes: Uint8Array<ArrayBuffer> }
  | { ok: false; status: 413 | 408 | 400; message: string };

/** Reads the whole body, refusing more than `maxBytes` (413) or taking longer than `timeoutMs` (408). */
export async function readBody(req: Request, maxBytes: number, timeoutMs: number): Promise<BodyRead> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    return { ok: false, status: 413, message: `Request body too large: the limit is ${maxBytes} bytes` };
  }
  if (req.body === null) return { ok: true, bytes: new Uint8Array(new ArrayBuffer(0)) };
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), timeout]);
      if (next === "timeout") {
        reader.cancel().catch(() => {});
        return { ok: false, status: 408, message: `Request body not received within ${timeoutMs} ms` };
      }
      if (next.done) break;
      total += next.value.length;
      if (total > maxBytes) {
        reader.cancel().catch(() => {});
        return { ok: false, status: 413, message: `Request body too large: the limit is ${maxBytes} bytes` };
      }
      chunks.push(next.value);
    }
  } catch {
    return { ok: false, status: 400, message: "Request body could not be read" };
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return { ok: true, bytes };
}
