import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { runTokensCommand } from "../../src/cli/tokens_cmd.ts";
import { DeviceTokenStore } from "../../src/auth/device_tokens.ts";
import { Registrations } from "../../src/auth/registration.ts";
import { captureIo } from "./cli_io.ts";

Deno.test("tokens CLI: add prints the token once; list shows it without the token; revoke", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/tokens.json`;
  try {
    const add = captureIo({ isTerminal: true });
    assertEquals(
      await runTokensCommand(["add", "laptop", "--expires", "30d", "--mode", "read-only", "--file", file], add.io),
      0,
    );
    const token = add.out().trim();
    assert(/^pvemcp_[A-Za-z0-9_-]{43}$/.test(token), token);
    assert(add.err().includes("not shown again") && !add.err().includes(token));
    const store = new DeviceTokenStore({ path: file });
    assert((await store.verify(token)).ok);
    await store.flush();

    const list = captureIo();
    assertEquals(await runTokensCommand(["list", "--file", file], list.io), 0);
    assert(list.out().includes("laptop") && list.out().includes("read-only") && list.out().includes("active"));
    assert(!list.out().includes(token));

    const json = captureIo();
    await runTokensCommand(["list", "--json", "--file", file], json.io);
    const parsed = JSON.parse(json.out());
    assertEquals(parsed[0].name, "laptop");
    assert(!("hash" in parsed[0]));

    const rev = captureIo();
    assertEquals(await runTokensCommand(["revoke", "laptop", "--file", file], rev.io), 0);
    const after = captureIo();
    await runTokensCommand(["list", "--file", file], after.io);
    assert(after.out().includes("revoked"));
    assertEquals(await runTokensCommand(["revoke", "laptop", "--file", file], captureIo().io), 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tokens CLI: usage errors exit 2 with a hint; --help exits 0", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/tokens.json`;
  try {
    for (
      const args of [
        ["add"],
        ["add", "x", "--mode", "root"],
        ["add", "x", "--toolsets", "nope"],
        ["add", "x", "--expires", "soon"],
        ["frobnicate"],
        ["list", "--bogus"],
      ]
    ) {
      const c = captureIo();
      assertEquals(await runTokensCommand([...args, "--file", file], c.io), 2, args.join(" "));
      assert(c.err().includes("--help"), c.err());
    }
    const help = captureIo();
    assertEquals(await runTokensCommand(["--help"], help.io), 0);
    assert(help.out().includes("Usage: pve-mcp tokens"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tokens CLI: the tokens file comes from the configuration when --file is absent", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const c = captureIo({ env: { HOME: dir, PROXMOX_MCP_HTTP_TOKENS_FILE: `${dir}/from-env.json` } });
    assertEquals(await runTokensCommand(["add", "ci"], c.io), 0, c.err());
    assertEquals((await new DeviceTokenStore({ path: `${dir}/from-env.json` }).list()).length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tokens CLI: requests, approve with caps, deny, purge", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/tokens.json`;
  try {
    const reg = new Registrations(new DeviceTokenStore({ path: file }));
    const a = await reg.request({ name: "phone", mode: "admin" });
    const b = await reg.request({ name: "tablet" });
    const list = captureIo();
    assertEquals(await runTokensCommand(["requests", "--file", file], list.io), 0);
    assert(list.out().includes(a.code) && list.out().includes("phone") && list.out().includes("admin"));
    const ok = captureIo();
    assertEquals(await runTokensCommand(["approve", a.code, "--toolsets", "guests", "--file", file], ok.io), 0);
    assert(ok.out().includes("mode read-only"), ok.out());
    assertEquals(await runTokensCommand(["deny", b.id, "--file", file], captureIo().io), 0);
    const got = await reg.fetch(a.id, a.pollSecret);
    assert(got.status === "approved");
    assertEquals(got.toolsets, ["guests"]);
    assertEquals((await reg.fetch(b.id, b.pollSecret)).status, "denied");
    await reg.request({ name: "flood", remote: "192.0.2.7" });
    const purged = captureIo();
    assertEquals(await runTokensCommand(["purge", "--file", file], purged.io), 0);
    assertEquals(purged.out(), "Removed 2 registration requests.\n");
    assertEquals((await reg.list()).map((r) => r.name), ["phone"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
