/** Builds requests and contexts for guard unit tests. */
import type { HttpRequestContext } from "../../../src/server/http/guard.ts";

export function req(headers: Record<string, string> = {}, init: RequestInit = {}): Request {
  return new Request("http://127.0.0.1:8080/mcp", {
    method: "POST",
    headers: { host: "127.0.0.1:8080", ...headers },
    ...init,
  });
}

export function ctx(client = "127.0.0.1"): HttpRequestContext {
  return { peer: client, client };
}
