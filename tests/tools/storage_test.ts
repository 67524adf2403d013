import {
  checkDownloadUrl,
  checkFilename,
  parseChecksum,
  storageInfo,
  storageVolume,
  volumeOwner,
} from "../../src/tools/storage.ts";
import type { TaskResultT } from "../../src/tools/task_result.ts";
import { effectOf } from "../../src/tools/registry.ts";
import { assert, assertEquals, callTool, errorOf, fakeInfra, upid } from "./infra_fake.ts";

const GiB = 1024 ** 3;

Deno.test("storage_info: list per node or cluster-wide (one /cluster/resources request)", async () => {
  const { ctx, sent } = fakeInfra({
    "GET /nodes/pve1/storage": [
      {
        storage: "local",
        type: "dir",
        content: "iso,vztmpl",
        active: 1,
        enabled: 1,
        shared: 0,
        used: GiB,
        total: 4 * GiB,
      },
    ],
    "GET /cluster/resources": [
      {
        id: "storage/pve2/local",
        type: "storage",
        storage: "local",
        node: "pve2",
        plugintype: "dir",
        disk: GiB,
        maxdisk: 2 * GiB,
        status: "available",
        shared: 0,
        content: "iso",
      },
      {
        id: "storage/pve1/local",
        type: "storage",
        storage: "local",
        node: "pve1",
        plugintype: "dir",
        disk: 0,
        maxdisk: 2 * GiB,
        status: "available",
        shared: 0,
        content: "iso",
      },
    ],
  });
  const node = await callTool(storageInfo, { node: "pve1" }, ctx);
  assertEquals(node.rows, [["local", "dir", "iso,vztmpl", 1, 1, 0, 1, 4, 25]]);
  const all = await callTool(storageInfo, {}, ctx);
  assertEquals(all.rows?.map((r) => r[1]), ["pve1", "pve2"]);
  assertEquals(all.rows?.[1]?.slice(-3), [1, 2, 50]);
  assertEquals(sent.at(-1)?.params, { type: "storage" });
});

Deno.test("storage_info: status and paged content; view needs node and storage", async () => {
  const vols = Array.from({ length: 5 }, (_, i) => ({
    volid: `local:iso/d${i}.iso`,
    content: "iso",
    format: "iso",
    size: (i + 1) * 1048576,
    notes: "never listed",
  }));
  const { ctx, sent } = fakeInfra({
    "GET /nodes/pve1/storage/local/status": {
      type: "dir",
      content: "iso",
      active: 1,
      used: GiB,
      avail: 3 * GiB,
      total: 4 * GiB,
    },
    "GET /nodes/pve1/storage/local/content": vols,
  });
  const st = await callTool(storageInfo, { node: "pve1", storage: "local", view: "status" }, ctx);
  assertEquals(st.info?.used_pct, 25);
  const page = await callTool(storageInfo, { node: "pve1", storage: "local", content: "iso", limit: 2 }, ctx);
  assertEquals(page.total, 5);
  assertEquals(page.rows?.length, 2);
  assertEquals(page.next_cursor, "o2");
  assert(!page.columns?.includes("notes"), "notes are not listed");
  assertEquals(sent.at(-1)?.params, { content: "iso" });
  const msg = await errorOf(() => callTool(storageInfo, { view: "status" }, ctx));
  assert(msg.includes("pass node"), msg);
});

Deno.test("storage_volume: URL and file name checks", () => {
  assertEquals(checkDownloadUrl("https://example.com/a.iso"), "https://example.com/a.iso");
  for (
    const bad of ["ftp://x/a.iso", "file:///etc/passwd", "javascript:alert(1)", "https://u:p@host/a.iso", "not a url"]
  ) {
    let failed = false;
    try {
      checkDownloadUrl(bad);
    } catch {
      failed = true;
    }
    assert(failed, `accepted ${bad}`);
  }
  checkFilename("debian-13.iso", "iso");
  checkFilename("debian-13-standard_13.1-1_amd64.tar.zst", "vztmpl");
  for (
    const [name, content] of [["../x.iso", "iso"], ["a/b.iso", "iso"], ["x.exe", "iso"], ["x.iso", "vztmpl"], [
      ".hidden.iso",
      "iso",
    ]]
  ) {
    let failed = false;
    try {
      checkFilename(name!, content!);
    } catch {
      failed = true;
    }
    assert(failed, `accepted ${name} for ${content}`);
  }
  assertEquals(parseChecksum("SHA256:" + "AB".repeat(32)), { algorithm: "sha256", hex: "ab".repeat(32) });
  let failed = false;
  try {
    parseChecksum("sha256:abcd");
  } catch {
    failed = true;
  }
  assert(failed, "short digest accepted");
});

Deno.test("storage_volume: download sends a contract-valid request and waits for the task", async () => {
  const u = upid("pve1", "download", "local");
  const { ctx, sent, tasks } = fakeInfra({
    "POST /nodes/pve1/storage/local/download-url": u,
    [`GET /nodes/pve1/tasks/${u}/status`]: { status: "stopped", exitstatus: "OK", upid: u },
    [`GET /nodes/pve1/tasks/${u}/log`]: [{ n: 1, t: "downloaded" }, { n: 2, t: "TASK OK" }],
  });
  const args = {
    action: "download",
    node: "pve1",
    storage: "local",
    url: "https://example.com/debian.iso",
    filename: "debian.iso",
    checksum: "sha256:" + "0".repeat(64),
  };
  assertEquals(effectOf(storageVolume as never, storageVolume.input.parse(args)).cls, "write");
  const out = await callTool<TaskResultT>(storageVolume, args, ctx);
  assertEquals(sent[0]?.params, {
    url: "https://example.com/debian.iso",
    filename: "debian.iso",
    content: "iso",
    checksum: "0".repeat(64),
    "checksum-algorithm": "sha256",
  });
  assertEquals([out.status, out.ok], ["stopped", true]);
  assertEquals(tasks, [u]);
});

Deno.test("storage_volume: delete is destructive, targets the owning guest, plans with the current state", async () => {
  const { ctx, sent } = fakeInfra({
    "GET /nodes/pve1/storage/local/content/local:backup/vzdump-qemu-105-2025_01_01-00_00_00.vma.zst": {
      size: 3 * 1048576,
      format: "vma.zst",
      path: "/x",
    },
    "DELETE /nodes/pve1/storage/local/content/local:backup/vzdump-qemu-105-2025_01_01-00_00_00.vma.zst": null,
  });
  const args = storageVolume.input.parse({
    action: "delete",
    node: "pve1",
    storage: "local",
    volume: "local:backup/vzdump-qemu-105-2025_01_01-00_00_00.vma.zst",
  });
  assertEquals(effectOf(storageVolume as never, args).cls, "destructive");
  assertEquals(effectOf(storageVolume as never, args).guests, [{ vmid: 105, role: "volume" }]);
  assert(effectOf(storageVolume as never, { ...args, volume: "local:custom-name" }).undetermined, "unknown owner");
  assertEquals(effectOf(storageVolume as never, { ...args, volume: "local:iso/x.iso" }).guests, []);
  const plan = await storageVolume.plan!(args, ctx);
  assert(plan.current.startsWith("exists, 3 MiB"), plan.current);
  assert(plan.target.includes("guest 105"), plan.target);
  const out = await storageVolume.handler(args, ctx);
  assertEquals(out.ok, true);
  assertEquals(sent.at(-1)?.method, "DELETE");
  const msg = await errorOf(() => storageVolume.handler({ ...args, volume: "other:iso/x.iso" }, ctx));
  assert(msg.includes('not on storage "local"'), msg);
});

Deno.test("volumeOwner: disks, subvols and backups name their guest; ISOs do not", () => {
  assertEquals(volumeOwner("local-lvm:vm-101-disk-0"), 101);
  assertEquals(volumeOwner("local:subvol-2001-disk-1"), 2001);
  assertEquals(volumeOwner("nas:backup/vzdump-lxc-300-2025_01_01.tar.zst"), 300);
  assertEquals(volumeOwner("local:101/vm-101-disk-0.qcow2"), 101);
  assertEquals(volumeOwner("pbs:backup/ct/120/2025-01-01T00:00:00Z"), 120);
  assertEquals(volumeOwner("vm-107-disk-1"), 107);
  assertEquals(volumeOwner("local:iso/vm-101-notes.iso"), undefined);
  assertEquals(volumeOwner("local:112/custom.raw"), 112);
});
