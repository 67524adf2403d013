import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { NetworkList } from "../../../src/server/http/cidr.ts";
import { networkGuard } from "../../../src/server/http/network.ts";
import { ctx, req } from "./guards_test_helpers.ts";

Deno.test("network guard: allowed networks pass, others get 403; an empty list refuses all", async () => {
  const guard = networkGuard({ allow: new NetworkList(["127.0.0.0/8", "::1/128", "192.168.0.0/16"]) });
  assertEquals(await guard(req(), ctx("127.0.0.1")), undefined);
  assertEquals(await guard(req(), ctx("::1")), undefined);
  assertEquals(await guard(req(), ctx("192.168.4.4")), undefined);
  const refused = await guard(req(), ctx("203.0.113.1"));
  assertEquals(refused?.status, 403);
  assertEquals((await refused?.json()).error.message.includes("http.allowNetworks"), true);
  assertEquals((await networkGuard({ allow: new NetworkList([]) })(req(), ctx()))?.status, 403);
});
