import { deepStrictEqual as assertEquals, ok as assert, throws as assertThrows } from "node:assert/strict";
import { isUpid, parseUpid } from "../../src/pve/upid.ts";

Deno.test("parseUpid: a typical qmstart by a user", () => {
  const upid = "UPID:pve1:000A1B2C:0012D687:65A1B2C3:qmstart:100:root@pam:";
  const u = parseUpid(upid);
  assertEquals(u, {
    upid,
    node: "pve1",
    pid: 0x000a1b2c,
    pstart: 0x0012d687,
    starttime: 0x65a1b2c3,
    startedAt: new Date(0x65a1b2c3 * 1000),
    type: "qmstart",
    id: "100",
    user: "root@pam",
  });
  assertEquals(u.startedAt.toISOString(), "2024-01-12T21:44:35.000Z");
});

Deno.test("parseUpid: 9-digit pstart (long uptime), token user, empty id, lower-case hex, hyphenated node", () => {
  const u = parseUpid("UPID:node-a1:0000abcd:1ABCDEF01:6500000F:vzdump::monitor@pve!mcp:");
  assertEquals([u.node, u.pid, u.pstart, u.starttime, u.type, u.id, u.user, u.tokenId], [
    "node-a1",
    0xabcd,
    0x1abcdef01,
    0x6500000f,
    "vzdump",
    "",
    "monitor@pve",
    "mcp",
  ]);
  assert(!("tokenId" in parseUpid("UPID:pve1:00000001:00000002:00000003:srvreload:networking:root@pam:")));
});

Deno.test("parseUpid refuses malformed ids with a reason; isUpid agrees", () => {
  const good = "UPID:pve1:00000001:00000002:00000003:qmstart:100:root@pam:";
  const bad: [string, RegExp][] = [
    ["upid:pve1:00000001:00000002:00000003:qmstart:100:root@pam:", /must start with "UPID:"/],
    ["UPID:pve1:00000001:00000002:00000003:qmstart:100:root@pam", /must end with ':'/],
    ["UPID:pve1:0000001:00000002:00000003:qmstart:100:root@pam:", /expected UPID:<node>/], // 7-digit pid
    ["UPID:pve1:00000001:0000002:00000003:qmstart:100:root@pam:", /expected/], // 7-digit pstart
    ["UPID:pve1:00000001:00000000002:00000003:qmstart:100:root@pam:", /expected/], // 11-digit pstart
    ["UPID:-pve1:00000001:00000002:00000003:qmstart:100:root@pam:", /expected/], // node starts with '-'
    ["UPID:pve1:00000001:00000002:00000003:qm/start:100:root@pam:", /expected/], // '/' in type
    ["UPID:pve1:00000001:00000002:00000003:qmstart:10 0:root@pam:", /expected/], // space in id
    ["UPID:pve1:00000001:00000002:00000003:qmstart:100::", /expected/], // empty user
    ["UPID:pve1:0000000G:00000002:00000003:qmstart:100:root@pam:", /expected/], // not hex
    ["", /must start/],
  ];
  assert(isUpid(good));
  for (const [text, re] of bad) {
    assertThrows(() => parseUpid(text), (e: unknown) => e instanceof TypeError && re.test(e.message), text);
    assertEquals(isUpid(text), false, text);
  }
  assertEquals(isUpid(42), false);
  assertEquals(isUpid(undefined), false);
});

Deno.test("parseUpid's message shows hostile input safely (control characters replaced, length capped)", () => {
  const hostile = "UPID:\u001b[31mred\u0007" + "x".repeat(500);
  const e = (() => {
    try {
      parseUpid(hostile);
    } catch (err) {
      return err as Error;
    }
  })();
  assert(e);
  // deno-lint-ignore no-control-regex
  assert(!/[\u0000-\u001f]/.test(e.message), e.message);
  assert(e.message.length < 250, String(e.message.length));
});
