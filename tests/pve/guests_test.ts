/**
 * GuestResolver: a vmid missing from `/cluster/resources` is settled by PVE's `/cluster/nextid?vmid=N` — absent
 * (`not_found`), created since the cached list (found on a fresh read), or present but invisible (`not_visible`).
 */
import { GuestResolver } from "../../src/pve/guests.ts";
import { type PveApi, PveError, type PveRequest } from "../../src/pve/types.ts";
import { assertEquals, errorOf } from "../assert.ts";

/** A PVE whose token sees `visible` of the guests in `all`. */
function fakePve(all: Set<number>, visible: Set<number>) {
  const sent: string[] = [];
  const api: PveApi = {
    host: "fake:8006",
    request<T>(req: PveRequest) {
      const vmid = req.params?.vmid;
      sent.push(`${req.path}${vmid === undefined ? "" : `?vmid=${vmid}`}`);
      if (req.path === "/cluster/resources") {
        const rows = [...all].filter((v) => visible.has(v)).map((v) => ({
          id: `qemu/${v}`,
          type: "qemu",
          vmid: v,
          node: "pve1",
          status: "running",
        }));
        return Promise.resolve({ data: rows as T });
      }
      if (req.path === "/cluster/nextid" && typeof vmid === "number") {
        if (!all.has(vmid)) return Promise.resolve({ data: vmid as T });
        return Promise.reject(
          new PveError("invalid", "Invalid parameters", { status: 400, errors: { vmid: `VM ${vmid} already exists` } }),
        );
      }
      return Promise.reject(new PveError("server", `unexpected ${req.path}`));
    },
  };
  return { api, sent };
}

Deno.test("GuestResolver: listed guests resolve from one list request, without asking nextid", async () => {
  const { api, sent } = fakePve(new Set([100, 101]), new Set([100, 101]));
  const r = new GuestResolver(api);
  assertEquals((await r.resolve(100)).node, "pve1");
  assertEquals((await r.resolve(101)).vmid, 101);
  assertEquals(sent, ["/cluster/resources"]);
});

Deno.test("GuestResolver: absent → not_found, invisible → not_visible, both decided by /cluster/nextid", async () => {
  const { api, sent } = fakePve(new Set([100, 105]), new Set([100]));
  const r = new GuestResolver(api);
  const absent = await r.resolve(999).catch((e) => e);
  assertEquals(absent instanceof PveError && absent.kind, "not_found");
  const hidden = await r.resolve(105).catch((e) => e);
  assertEquals(hidden instanceof PveError && hidden.kind, "not_visible");
  assertEquals(/not visible to this token/.test(hidden.message), true);
  assertEquals(sent.filter((s) => s.startsWith("/cluster/nextid")), [
    "/cluster/nextid?vmid=999",
    "/cluster/nextid?vmid=105",
  ]);
});

Deno.test("GuestResolver: a guest created since the cached list is found on a fresh read", async () => {
  const all = new Set([100]);
  const { api } = fakePve(all, all);
  const r = new GuestResolver(api, 60_000);
  await r.resolve(100);
  all.add(200);
  assertEquals((await r.resolve(200)).vmid, 200);
});

Deno.test("GuestResolver: other failures of the nextid question propagate", async () => {
  const api: PveApi = {
    host: "fake:8006",
    request<T>(req: PveRequest) {
      if (req.path === "/cluster/resources") return Promise.resolve({ data: [] as T });
      return Promise.reject(new PveError("connection", "Cannot reach PVE"));
    },
  };
  const msg = await errorOf(() => new GuestResolver(api).resolve(100));
  assertEquals(msg, "Cannot reach PVE");
});
