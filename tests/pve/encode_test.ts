import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { encodeParams, encodePath, paramNames, pvePath, sensitiveValues } from "../../src/pve/encode.ts";
import { PveError } from "../../src/pve/types.ts";

const isInvalid = (e: unknown) => e instanceof PveError && e.kind === "invalid";

Deno.test("pvePath encodes each raw segment and refuses traversal", () => {
  const upid = "UPID:pve1:00000001:00000002:00000003:qmstart:100:monitor@pve!mcp:";
  assertEquals(
    pvePath("nodes", "pve1", "tasks", upid, "status"),
    `/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`,
  );
  assertEquals(pvePath("nodes", "pve1", "qemu", 100), "/nodes/pve1/qemu/100");
  assertEquals(pvePath("access", "users", "a b@pve"), "/access/users/a%20b%40pve");
  for (const bad of ["..", ".", "", "a/b", "x\ny"]) assertThrows(() => pvePath("nodes", bad), isInvalid, bad);
});

Deno.test("encodePath keeps escapes, escapes what a URL path cannot carry, refuses traversal", () => {
  assertEquals(encodePath("/version"), "/version");
  assertEquals(encodePath("/"), "/");
  assertEquals(
    encodePath("/nodes/pve1/tasks/UPID:pve1:1:2:3:t::root@pam!x:/log"),
    "/nodes/pve1/tasks/UPID:pve1:1:2:3:t::root@pam!x:/log",
  );
  assertEquals(encodePath("/a/UPID%3Apve1"), "/a/UPID%3Apve1");
  assertEquals(encodePath("/a/b c#d?e"), "/a/b%20c%23d%3Fe");
  assertEquals(encodePath("/a/100%"), "/a/100%25");
  assertEquals(encodePath("/a/grün"), "/a/gr%C3%BCn");
  for (
    const bad of ["version", "/a/../b", "/a/./b", "/a//b", "/a/", "/a/%2e%2E", "/a/x%2Fy", "/a/x%0Ay", "/a/\u0000"]
  ) {
    assertThrows(() => encodePath(bad), isInvalid, bad);
  }
});

Deno.test("encodeParams: booleans 0/1, arrays repeated, undefined/null dropped, numbers checked", () => {
  const p = encodeParams({ a: true, b: false, c: undefined, d: [1, "x"], e: 0, f: "", g: "a=b&c" });
  assertEquals([...p], [["a", "1"], ["b", "0"], ["d", "1"], ["d", "x"], ["e", "0"], ["f", ""], ["g", "a=b&c"]]);
  assertEquals(p.toString(), "a=1&b=0&d=1&d=x&e=0&f=&g=a%3Db%26c");
  assertEquals(encodeParams(undefined).toString(), "");
  assertThrows(() => encodeParams({ n: NaN }), isInvalid);
  assertThrows(() => encodeParams({ n: Infinity }), isInvalid);
  assertEquals(paramNames({ a: 1, b: undefined, c: "x" }), ["a", "c"]);
});

Deno.test("sensitiveValues picks values of secret parameters (the shared classifier, with the path's context)", () => {
  assertEquals(
    sensitiveValues({
      password: "hunter22",
      comment: "hello world",
      "tfa-challenge": "abcd",
      keys: ["k1k1k1"],
      apiKey: "xy",
      keyring: "AQBmK9Fk==",
      sshkeys: "ssh-ed25519 AAAA",
    }),
    ["hunter22", "abcd", "k1k1k1", "AQBmK9Fk==", "ssh-ed25519 AAAA"],
  );
  assertEquals(sensitiveValues({ data: "Q0ZfVG9rZW49", api: "cf" }, "/cluster/acme/plugins/cf"), ["Q0ZfVG9rZW49"]);
  assertEquals(sensitiveValues({ data: "127.0.0.1 localhost" }, "/nodes/pve1/hosts"), []);
});
