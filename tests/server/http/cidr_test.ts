import { deepStrictEqual as assertEquals, ok as assert, throws as assertThrows } from "node:assert/strict";
import { clientAddress, NetworkList, normalizeIp, parseIp, parseNetwork } from "../../../src/server/http/cidr.ts";

Deno.test("cidr: IPv4 and IPv6 networks match their members only", () => {
  const list = new NetworkList(["10.0.0.0/8", "192.168.1.0/24", "fd00::/8", "2001:db8::1"]);
  for (const ip of ["10.1.2.3", "192.168.1.77", "fd12:3456::1", "2001:db8::1", "[2001:db8:0:0:0:0:0:1]"]) {
    assert(list.contains(ip), ip);
  }
  for (const ip of ["11.0.0.1", "192.168.2.1", "fe80::1", "2001:db8::2", "not-an-ip", ""]) {
    assert(!list.contains(ip), ip);
  }
});

Deno.test("cidr: IPv4-mapped IPv6 addresses count as IPv4; /0 and odd prefixes work", () => {
  assert(new NetworkList(["127.0.0.0/8"]).contains("::ffff:127.0.0.1"));
  assert(new NetworkList(["0.0.0.0/0"]).contains("8.8.8.8"));
  assert(!new NetworkList(["0.0.0.0/0"]).contains("::1"), "IPv4 /0 does not cover IPv6");
  assert(new NetworkList(["::/0"]).contains("::1"));
  assert(new NetworkList(["172.16.0.0/12"]).contains("172.31.255.255"));
  assert(!new NetworkList(["172.16.0.0/12"]).contains("172.32.0.0"));
  assert(new NetworkList(["2001:db8::/33"]).contains("2001:db8:7fff::1"));
  assert(!new NetworkList(["2001:db8::/33"]).contains("2001:db8:8000::1"));
});

Deno.test("cidr: malformed networks are refused with a clear message", () => {
  for (
    const bad of ["10.0.0.0/33", "300.1.1.1", "10.0.0/8", "fd00::/129", "1:2:3:4:5:6:7:8:9", "01.2.3.4", "10.0.0.0/x"]
  ) {
    assertThrows(() => parseNetwork(bad), /Invalid network/, bad);
  }
  assertEquals(parseIp("1::2:3::4"), undefined);
});

Deno.test("cidr: normalizeIp gives one text form", () => {
  assertEquals(normalizeIp("::ffff:10.0.0.1"), "10.0.0.1");
  assertEquals(normalizeIp("0:0:0:0:0:0:0:1"), "::1");
  assertEquals(normalizeIp("[fd00:0:0:0:0:0:0:1]"), "fd00::1");
});

Deno.test("clientAddress: X-Forwarded-For only from trusted proxies, walked from the right", () => {
  const none = new NetworkList([]);
  const proxies = new NetworkList(["10.0.0.0/24"]);
  assertEquals(clientAddress("10.0.0.5", "203.0.113.9", none), "10.0.0.5", "no trusted proxies: header ignored");
  assertEquals(clientAddress("198.51.100.7", "127.0.0.1", proxies), "198.51.100.7", "peer is not a proxy");
  assertEquals(clientAddress("10.0.0.5", "203.0.113.9", proxies), "203.0.113.9");
  assertEquals(
    clientAddress("10.0.0.5", "127.0.0.1, 203.0.113.9, 10.0.0.6", proxies),
    "203.0.113.9",
    "spoofed left part",
  );
  assertEquals(clientAddress("10.0.0.5", "10.0.0.7, 10.0.0.6", proxies), "10.0.0.7", "all hops trusted");
  assertEquals(clientAddress("10.0.0.5", "garbage, 203.0.113.9", proxies), "203.0.113.9");
  assertEquals(clientAddress("10.0.0.5", "203.0.113.9, garbage", proxies), "10.0.0.5", "garbage nearest: distrust");
});
