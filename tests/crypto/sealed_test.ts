import assert from "node:assert/strict";
import { formatKeyFile, generateKeyBytes, KeyError, keyIdOf, MasterKey, parseKeyText } from "../../src/crypto/keys.ts";
import { isLegacySealed, openValue, parseSealed, SealError, sealValue } from "../../src/crypto/sealed.ts";
import { toBase64 } from "../../src/crypto/encoding.ts";

const info = { source: "test key" };
const newKey = async () => await MasterKey.fromBytes(generateKeyBytes(), info);

async function sealError(p: Promise<unknown>): Promise<SealError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SealError, `expected SealError, got ${e}`);
    return e;
  }
  throw new Error("expected the value not to open");
}

Deno.test("round trip: raw key, any text, fresh nonce per value", async () => {
  const key = await newKey();
  for (const text of ["11111111-2222-3333-4444-555555555555", "", "pässwörd ✓ with: colons"]) {
    const sealed = await sealValue(key, text, "auth.token_value");
    assert.match(sealed, /^enc:v1:[0-9a-f]{8}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$/);
    assert.ok(!sealed.includes(text) || text === "");
    assert.equal(await openValue(key, sealed, "auth.token_value"), text);
  }
  const a = await sealValue(key, "same", "f");
  const b = await sealValue(key, "same", "f");
  assert.notEqual(a, b);
  assert.notEqual(parseSealed(a, "f").nonce.join(), parseSealed(b, "f").nonce.join());
  assert.equal(parseSealed(a, "f").keyId, key.id);
});

Deno.test("a flipped byte anywhere in a value is a clear error, never a wrong plaintext", async () => {
  const key = await newKey();
  const sealed = await sealValue(key, "CANARY-flip", "clusters.prod.tokenSecret");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (let i = 0; i < sealed.length; i++) {
    const c = sealed[i]!;
    const replacement = c === ":" ? "x" : alphabet[(alphabet.indexOf(c) + 1) % alphabet.length] ?? "A";
    const damaged = sealed.slice(0, i) + replacement + sealed.slice(i + 1);
    if (damaged === sealed) continue;
    const err = await sealError(openValue(key, damaged, "clusters.prod.tokenSecret"));
    assert.ok(["auth", "format", "wrong_key", "prefix", "legacy"].includes(err.kind), `${i}: ${err.kind}`);
    assert.ok(!err.message.includes("CANARY"));
  }
  const ct = sealed.split(":")[4]!;
  const flipped = sealed.slice(0, sealed.length - ct.length) + (ct[0] === "A" ? "B" : "A") + ct.slice(1);
  const err = await sealError(openValue(key, flipped, "auth.token_value"));
  assert.equal(err.kind, "auth");
  assert.match(err.message, /^value of auth\.token_value failed authentication: the file was changed or damaged/);
});

Deno.test("wrong key: named with both key ids", async () => {
  const key = await newKey();
  const other = await newKey();
  const sealed = await sealValue(key, "x", "f");
  const err = await sealError(openValue(other, sealed, "f"));
  assert.equal(err.kind, "wrong_key");
  assert.equal(
    err.message,
    `the master key does not match: file sealed with key id ${key.id}, the current key has id ${other.id} (value of f)`,
  );
});

Deno.test("moved value: sealed for one field, rejected in another", async () => {
  const key = await newKey();
  const sealed = await sealValue(key, "secret", "PROXMOX_TOKEN_SECRET");
  const err = await sealError(openValue(key, sealed, "PROXMOX_PASSWORD"));
  assert.equal(err.kind, "auth");
  assert.match(err.message, /^value of PROXMOX_PASSWORD failed authentication: the file was changed or damaged/);
});

Deno.test("missing key, bad prefix, legacy format and malformed values", async () => {
  const key = await newKey();
  const sealed = await sealValue(key, "x", "f");
  let err = await sealError(openValue(undefined, sealed, "f"));
  assert.equal(err.kind, "missing_key");
  assert.match(err.message, new RegExp(`^value of f is sealed \\(key id ${key.id}\\) but no master key is set`));
  err = await sealError(openValue(key, "enc:v2:abc", "f"));
  assert.equal(err.kind, "prefix");
  assert.match(err.message, /^value of f has an unknown prefix: expected enc:v1:…/);
  const legacy = "enc:ZGVmZ2hpamtsbW5vcHFycw==:Z0FBQUFBQnJBanJ6OGNG";
  assert.ok(isLegacySealed(legacy));
  err = await sealError(openValue(key, legacy, "auth.token_value"));
  assert.equal(err.kind, "legacy");
  assert.match(err.message, /config migrate/);
  for (
    const bad of [
      "enc:v1:",
      "enc:v1:zz:AAAA:AAAA",
      `enc:v1:${key.id}:AAAA:AAAA`,
      `enc:v1:${key.id}.1000.AAAAAAAAAAAAAAAAAAAAAA:a:b`,
    ]
  ) {
    err = await sealError(openValue(key, bad, "f"));
    assert.equal(err.kind, "format", bad);
  }
});

Deno.test("passphrase: PBKDF2 600,000 iterations, salt stored with the value, wrong passphrase named", async () => {
  const key = MasterKey.fromPassphrase("correct horse battery staple", info);
  const kdf = key.newKdfParams()!;
  assert.equal(kdf.iterations, 600_000);
  const a = await sealValue(key, "one", "a", kdf);
  const b = await sealValue(key, "two", "b", kdf);
  const pa = parseSealed(a, "a");
  assert.equal(pa.kdf?.iterations, 600_000);
  assert.equal(pa.keyId, parseSealed(b, "b").keyId, "one salt per file: one key id");
  const fresh = MasterKey.fromPassphrase("correct horse battery staple", info);
  assert.equal(await openValue(fresh, a, "a"), "one");
  const wrong = MasterKey.fromPassphrase("incorrect horse battery", info);
  const err = await sealError(openValue(wrong, b, "b"));
  assert.equal(err.kind, "wrong_key");
  const raw = await newKey();
  assert.equal((await sealError(openValue(raw, a, "a"))).kind, "wrong_key");
  assert.throws(() => MasterKey.fromPassphrase("short", info), KeyError);
});

Deno.test("key files: header with id and creation time; base64 of 32 bytes; errors never echo the text", async () => {
  const raw = generateKeyBytes();
  const created = new Date("2024-05-01T10:00:00.000Z");
  const text = await formatKeyFile(raw, created);
  assert.match(text, new RegExp(`# id: ${await keyIdOf(raw)}`));
  const parsed = parseKeyText(text, "PROXMOX_MCP_MASTER_KEY_FILE");
  assert.deepEqual(parsed.raw, raw);
  assert.equal(parsed.createdAt?.toISOString(), created.toISOString());
  assert.deepEqual(parseKeyText(toBase64(raw), "k").raw, raw);
  const urlSafe = toBase64(raw).replaceAll("+", "-").replaceAll("/", "_");
  assert.deepEqual(parseKeyText(urlSafe + "\n", "k").raw, raw, "the Python server's URL-safe keys parse too");
  for (const bad of ["CANARY-not-a-key", toBase64(raw.slice(0, 16)), ""]) {
    assert.throws(
      () => parseKeyText(bad, "PROXMOX_MCP_MASTER_KEY"),
      (e: unknown) =>
        e instanceof KeyError && e.message.startsWith("PROXMOX_MCP_MASTER_KEY: not a master key") &&
        !e.message.includes("CANARY"),
    );
  }
  const k1 = await MasterKey.fromBytes(raw, info);
  const k2 = await MasterKey.fromBytes(raw, info);
  assert.equal(k1.id, k2.id);
  assert.match(k1.id!, /^[0-9a-f]{8}$/);
});

Deno.test("isLegacySealed: a Python value whose salt starts with v is still recognised (1 in 64 salts)", () => {
  const python = "enc:vGx1c3RlcnNhbHQxMjM0NQ==:Z0FBQUFBQm5fZXhhbXBsZXRva2Vu";
  if (!isLegacySealed(python)) throw new Error("a Python value with a salt starting with v was not recognised");
  if (isLegacySealed("enc:v1:k3y1d:bm9uY2U:Y2lwaGVy")) throw new Error("our own enc:v1: value taken for Python's");
});

Deno.test("passphrase: an edited iteration count outside 600,000…10,000,000 is refused before any derivation", async () => {
  const key = MasterKey.fromPassphrase("correct horse battery staple", info);
  const sealed = await sealValue(key, "one", "a", key.newKdfParams()!);
  const [ref = "", ...rest] = sealed.slice("enc:v1:".length).split(":");
  const [id, , salt] = ref.split(".");
  assert.ok(rest.length === 2 && salt !== undefined, sealed);
  const withCount = (n: string) => `enc:v1:${id}.${n}.${salt}:${rest.join(":")}`;
  assert.equal(parseSealed(withCount("10000000"), "a").kdf?.iterations, 10_000_000, "the top of the range is accepted");
  for (const n of ["4000000000", "10000001", "599999", "6e5", "0x927c0", "-600000", "600000x", ""]) {
    const err = await sealError(openValue(key, withCount(n), "a"));
    assert.equal(err.kind, "format", n);
    assert.match(err.message, /PBKDF2 iterations, outside the accepted 600000…10000000 .*seal it again/, err.message);
  }
});
