import assert from "node:assert/strict";
import { LegacyError, openLegacyValue, sealLegacyValue } from "../../src/crypto/legacy_python.ts";
import { fernetDecrypt, fernetEncrypt, FernetError } from "../../src/crypto/fernet.ts";
import { generateKeyBytes } from "../../src/crypto/keys.ts";

// Made with Python's `cryptography` 48 exactly as the Python Proxmox MCP server's encryption.py does
// (PBKDF2-HMAC-SHA256, 100,000 iterations, master key = urlsafe base64 of bytes 0..31).
const MASTER = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const NEW_FORMAT =
  "enc:ZGVmZ2hpamtsbW5vcHFycw==:Z0FBQUFBQnJBanJ6OGNGWHNOYVMtTkVCWmNFSldVZ2pFZmJyV2RzcWNELW9tUHo3NUhDMXJfaXlxVS1sR2FmRDlsOWpuTEFzRzBEdnh1T3NXWlJ0d0VJbTU4SU9WV19qYkE9PQ==";
const OLD_FORMAT =
  "enc:Z0FBQUFBQnJBanJ6Z0N1SUY2R1V4Znd6Z1FsNzJ3NmRnLW1qWEZTYkFyQlRhY0tPRGQtcEFHandCeEhNdHdxcEJsYUhuS21iV09uTGxnQmJFakN6akQzZi1FNXdEclUyZ2lkQk1JdFpxVzFBclJWd3hQYkF1dWc9";

Deno.test("legacy: opens values made by the Python server (per-value salt and the old static salt)", async () => {
  assert.equal(await openLegacyValue(NEW_FORMAT, MASTER), "py-token-9f8e");
  assert.equal(await openLegacyValue(OLD_FORMAT, MASTER), "old-format-secret");
});

Deno.test("legacy: wrong key and damaged values are errors without the value", async () => {
  const wrong = btoa(String.fromCharCode(...generateKeyBytes()));
  await assert.rejects(
    openLegacyValue(NEW_FORMAT, wrong),
    (e: unknown) => e instanceof LegacyError && /does not open/.test(e.message),
  );
  const damaged = NEW_FORMAT.slice(0, 60) + (NEW_FORMAT[60] === "A" ? "B" : "A") + NEW_FORMAT.slice(61);
  await assert.rejects(openLegacyValue(damaged, MASTER), LegacyError);
  await assert.rejects(openLegacyValue("enc:v1:x:y:z", MASTER), LegacyError);
});

Deno.test("legacy: our sealer of the Python format round-trips", async () => {
  for (const withSalt of [true, false]) {
    const v = await sealLegacyValue("round-trip", MASTER, withSalt);
    assert.equal(await openLegacyValue(v, MASTER), "round-trip");
  }
});

Deno.test("fernet: round trip, HMAC checked before decryption", async () => {
  const key = generateKeyBytes();
  const token = await fernetEncrypt(new TextEncoder().encode("hello"), key, { timeSeconds: 1 });
  assert.equal(new TextDecoder().decode(await fernetDecrypt(token, key)), "hello");
  await assert.rejects(fernetDecrypt(token, generateKeyBytes()), FernetError);
  await assert.rejects(fernetDecrypt("bm90IGEgdG9rZW4=", key), FernetError);
});
