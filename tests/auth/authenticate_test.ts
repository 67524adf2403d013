import { deepStrictEqual as assertEquals, ok as assert, throws as assertThrows } from "node:assert/strict";
import { createAuthenticator } from "../../src/auth/authenticate.ts";
import { DeviceTokenStore } from "../../src/auth/device_tokens.ts";
import { PveTokenVerifier } from "../../src/auth/pve_token.ts";
import { PveError } from "../../src/pve/types.ts";

Deno.test("authenticator: device tokens and PVE tokens side by side; reasons and challenges", async () => {
  const dir = await Deno.makeTempDir();
  const devices = new DeviceTokenStore({ path: `${dir}/t.json` });
  try {
    const { token } = await devices.add({ name: "laptop", mode: "operator" });
    const pve = new PveTokenVerifier({
      connect: (cred) => ({
        host: "h",
        request: <T>() =>
          cred.secret === "good"
            ? Promise.resolve({ data: { "/": { "Sys.Audit": 1 } } as T })
            : Promise.reject(new PveError("auth", "no")),
      }),
    });
    const auth = createAuthenticator({ devices, pve });
    const dev = await auth.authenticate(`Bearer ${token}`);
    assert(dev.ok);
    assertEquals([dev.principal.id, dev.principal.mode, dev.label], ["device:laptop", "operator", "device:laptop"]);
    const p = await auth.authenticate("PVEAPIToken=ops@pve!mcp=good");
    assert(p.ok && p.principal.id === "pve:ops@pve!mcp" && p.pve !== undefined);
    assertEquals(await auth.authenticate(null), { ok: false, status: 401, reason: "no credential" });
    assertEquals((await auth.authenticate("Basic abc")).ok, false);
    const badPve = await auth.authenticate("PVEAPIToken=ops@pve!mcp=bad");
    assert(!badPve.ok && badPve.status === 401 && badPve.label === "pve:ops@pve!mcp");
    assertEquals(
      auth.challenge("invalid_token"),
      'Bearer realm="pve-mcp", error="invalid_token", PVEAPIToken realm="pve-mcp"',
    );
    const devOnly = createAuthenticator({ devices });
    assertEquals(await devOnly.authenticate("PVEAPIToken=ops@pve!mcp=good"), {
      ok: false,
      status: 401,
      reason: "PVE-token mode is off",
    });
    assertEquals(devOnly.challenge(), 'Bearer realm="pve-mcp"');
    assertThrows(() => createAuthenticator({}), /without client credentials/);
  } finally {
    await devices.flush();
    await Deno.remove(dir, { recursive: true });
  }
});
