/**
 * Endpoints `pve_api` never sends, whatever the mode and whoever confirms: guest-agent commands other than ping,
 * consoles, files read out of backups, cloud-init dumps, host hooks, new secrets handed back; and URL fetching
 * pointed at loopback, link-local or metadata addresses unless the operator allows it. Admin mode, no fencing, a
 * human who accepts everything: only the raw tool's own table stands in the way. Asserted on the simulator.
 */
import { assert, assertEquals, changesSent, rawStack, refusedUnsent } from "./raw_helpers.ts";
import type { Sim } from "../e2e/harness.ts";

/** Requests to paths containing `part` the simulator received (GETs included). */
const reached = (sim: Sim, part: string) => sim.requests.filter((r) => r.path.includes(part));

Deno.test("adversarial raw: refused endpoints are never sent, even in admin mode with a willing human", async (t) => {
  const s = await rawStack("admin");
  const { sim, raw } = s;
  try {
    await t.step("guest agent: ping goes through (control), every other agent endpoint does not", async () => {
      sim.clearRequests();
      const ping = await raw("POST", "/nodes/pve1/qemu/106/agent/ping");
      assert(!ping.isError, ping.content[0]?.text ?? "");
      assertEquals(changesSent(sim), ["POST /nodes/pve1/qemu/106/agent/ping"]);
      sim.clearRequests();
      for (
        const [m, path, params] of [
          ["POST", "/nodes/pve1/qemu/106/agent/exec", { command: ["id"] }],
          ["POST", "/nodes/pve1/qemu/106/agent/fsfreeze-freeze", undefined],
          ["POST", "/nodes/pve1/qemu/106/agent/set-user-password", { username: "root", password: "hunter22" }],
          ["GET", "/nodes/pve1/qemu/106/agent/network-get-interfaces", undefined],
          ["GET", "/nodes/pve1/qemu/106/agent/file-read", { file: "/etc/shadow" }],
        ] as const
      ) {
        refusedUnsent(sim, await raw(m, path, params), `${m} ${path}`, /agent toolset/);
      }
      assertEquals(reached(sim, "/agent/"), []);
    });

    await t.step("consoles, monitor, keystrokes, files out of backups, cloud-init dumps", async () => {
      sim.clearRequests();
      refusedUnsent(sim, await raw("POST", "/nodes/pve1/termproxy"), "node shell", /console/);
      refusedUnsent(sim, await raw("POST", "/nodes/pve1/qemu/106/vncproxy"), "VNC", /console/);
      refusedUnsent(sim, await raw("POST", "/nodes/pve1/qemu/106/monitor", { command: "info" }), "monitor", /commands/);
      refusedUnsent(sim, await raw("PUT", "/nodes/pve1/qemu/106/sendkey", { key: "ctrl-alt-delete" }), "keys");
      refusedUnsent(
        sim,
        await raw("GET", "/nodes/pve1/storage/nas/file-restore/list", {
          volume: "nas:backup/vzdump-qemu-100-2026_01_01-00_00_00.vma.zst",
          filepath: "/",
        }),
        "file-restore list",
        /backups/,
      );
      refusedUnsent(
        sim,
        await raw("GET", "/nodes/pve1/storage/nas/file-restore/download", {
          volume: "nas:backup/vzdump-qemu-100-2026_01_01-00_00_00.vma.zst",
          filepath: "/etc/shadow",
        }),
        "file-restore download",
        /backups/,
      );
      refusedUnsent(sim, await raw("GET", "/nodes/pve1/qemu/106/cloudinit/dump", { type: "user" }), "ci", /cloud-init/);
      assertEquals([...reached(sim, "file-restore"), ...reached(sim, "cloudinit")], []);
    });

    await t.step("host hooks and secrets handed back", async () => {
      sim.clearRequests();
      const before = JSON.stringify(sim.state.guests.get(106)!.config);
      refusedUnsent(
        sim,
        await raw("PUT", "/nodes/pve1/qemu/106/config", { args: "-fw_cfg name=x,file=/etc/shadow" }),
        "args",
      );
      refusedUnsent(
        sim,
        await raw("PUT", "/nodes/pve1/qemu/106/config", { hookscript: "local:snippets/hook.sh" }),
        "hookscript",
      );
      refusedUnsent(
        sim,
        await raw("POST", "/nodes/pve1/vzdump", { vmid: "106", storage: "nas", remove: 0, script: "/tmp/x.sh" }),
        "vzdump script",
      );
      refusedUnsent(sim, await raw("POST", "/access/users/root@pam/token/leak", { privsep: 0 }), "token", /secret/);
      assertEquals(JSON.stringify(sim.state.guests.get(106)!.config), before);
    });

    await t.step("URL fetching at loopback, link-local and metadata addresses, in any spelling", async () => {
      sim.clearRequests();
      for (
        const url of [
          "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
          "http://2852039166/latest/",
          "http://[::ffff:169.254.169.254]/",
          "http://127.0.0.1:8006/api2/json/access/ticket",
          "http://[fe80::1]/x.iso",
          "http://metadata.google.internal/computeMetadata/v1/",
        ]
      ) {
        refusedUnsent(
          sim,
          await raw("POST", "/nodes/pve1/storage/local/download-url", { url, content: "iso", filename: "x.iso" }),
          `download-url ${url}`,
          /internal address/,
        );
      }
      refusedUnsent(
        sim,
        await raw("GET", "/nodes/pve1/query-url-metadata", { url: "http://169.254.169.254/" }),
        "query-url-metadata",
        /internal address/,
      );
      refusedUnsent(
        sim,
        await raw("POST", "/storage", { storage: "meta", type: "nfs", server: "127.0.0.1", export: "/x" }),
        "NFS storage on the loopback address",
        /internal address/,
      );
      refusedUnsent(
        sim,
        await raw("GET", "/nodes/pve1/scan/nfs", { server: "169.254.169.254" }),
        "NFS scan of the metadata address",
        /internal address/,
      );
      assertEquals(
        [...reached(sim, "download-url"), ...reached(sim, "query-url-metadata"), ...reached(sim, "/scan/")],
        [],
      );
      // Control: a public URL is fetched.
      const res = await raw("POST", "/nodes/pve1/storage/local/download-url", {
        url: "https://cdimage.example.org/debian.iso",
        content: "iso",
        filename: "debian.iso",
      });
      assert(!res.isError, res.content[0]?.text ?? "");
      assertEquals(changesSent(sim), ["POST /nodes/pve1/storage/local/download-url"]);
    });
  } finally {
    await s.close();
  }
});

Deno.test("adversarial raw: the operator can allow internal URLs (PROXMOX_MCP_ALLOW_INTERNAL_URLS)", async () => {
  const s = await rawStack("admin", { PROXMOX_MCP_ALLOW_INTERNAL_URLS: "true" });
  try {
    s.sim.clearRequests();
    const res = await s.raw("POST", "/nodes/pve1/storage/local/download-url", {
      url: "http://169.254.169.254/x.iso",
      content: "iso",
      filename: "x.iso",
    });
    assert(!res.isError, res.content[0]?.text ?? "");
    assertEquals(changesSent(s.sim), ["POST /nodes/pve1/storage/local/download-url"]);
  } finally {
    await s.close();
  }
});
