/**
 * Safety end to end: real MCP clients against the real server and the simulator.
 * - confirmation of destructive actions: accept, decline, unchecked box, no elicitation capability (refuse / allow),
 *   dry run, protected guests, a model-typed `confirm` argument, and the 2026-07-28 era (input_required);
 * - tools the mode forbids are not listed, and per-call class checks;
 * - the read credential reads and the write credential changes;
 * - progress notifications while a task runs, and cancellation that stops the task this call started.
 */
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { startSimulator } from "../../src/sim/mod.ts";
import { assert, assertEquals, baseEnv, call, ROOT, type Sim, startStack } from "./harness.ts";

type Elicit = { params: { message: string; requestedSchema: { properties: Record<string, unknown> } } };

/** Guests for the steps: distinct, non-template QEMU VMs in the wanted state. */
function pickVms(sim: Sim, status: "running" | "stopped", count: number, taken: Set<number>): number[] {
  const out: number[] = [];
  for (const g of [...sim.state.guests.values()].sort((a, b) => a.vmid - b.vmid)) {
    if (out.length === count) break;
    if (g.type === "qemu" && !g.template && g.status === status && !taken.has(g.vmid)) {
      out.push(g.vmid);
      taken.add(g.vmid);
    }
  }
  assert(out.length === count, `the simulator has fewer than ${count} ${status} VMs`);
  return out;
}

function powerCalls(sim: Sim, vmid: number, action: string) {
  return sim.requests.filter((r) => r.method === "POST" && r.path.endsWith(`/qemu/${vmid}/status/${action}`));
}

function status(sim: Sim, vmid: number): string {
  return sim.state.guests.get(vmid)?.status ?? "absent";
}

async function until(what: string, cond: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

Deno.test("e2e safety: confirmation, listing by mode, credentials, progress and cancellation", async (t) => {
  const sim = await startSimulator({ taskDurationMs: 1500 });
  const taken = new Set<number>();
  try {
    await t.step(
      "2025 era with elicitation: decline, unchecked, dry run, typed confirm, protected, accept",
      async () => {
        const [target, protectedVm] = pickVms(sim, "running", 2, taken) as [number, number];
        const s = await startStack({
          sim,
          mode: "admin",
          clientCapabilities: { elicitation: {} },
          env: { PROXMOX_MCP_PROTECTED_VMIDS: String(protectedVm) },
        });
        const asked: Elicit[] = [];
        let answer: Record<string, unknown> = { action: "decline" };
        s.client.setRequestHandler("elicitation/create", (req) => {
          asked.push(req as unknown as Elicit);
          return Promise.resolve(answer as never);
        });
        try {
          const name = sim.state.guests.get(target)!.name;
          // Decline.
          let res = await call(s.client, "guest_power", { vmid: target, action: "stop", wait: false });
          assert(res.isError, "a declined stop did not fail");
          assert(res.content[0]!.text.includes("declined"), res.content[0]!.text);
          assertEquals(asked.length, 1, "elicitations");
          const msg = asked[0]!.params.message;
          for (const part of [`stop VM ${target}`, name, "Current state: running", "Effect: hard power-off"]) {
            assert(msg.includes(part), `elicitation message lacks "${part}":\n${msg}`);
          }
          assert("confirm" in asked[0]!.params.requestedSchema.properties, "no confirm field in the form");
          assertEquals(powerCalls(sim, target, "stop").length, 0, "stop requests after decline");
          assertEquals(status(sim, target), "running");

          // Accepted form with the box unchecked is not a yes.
          answer = { action: "accept", content: { confirm: false } };
          res = await call(s.client, "guest_power", { vmid: target, action: "stop", wait: false });
          assert(res.isError && res.content[0]!.text.includes("did not check"), res.content[0]!.text);
          assertEquals(powerCalls(sim, target, "stop").length, 0, "stop requests after unchecked box");

          // Dry run: the plan, no question, no change.
          res = await call(s.client, "guest_power", { vmid: target, action: "stop", dry_run: true });
          assert(!res.isError, res.content[0]?.text ?? "");
          const plan = res.structuredContent?.dry_run as {
            action: string;
            target: string;
            current: string;
            effect: string;
          };
          assertEquals(plan.action, `stop VM ${target}`);
          assert(
            plan.target.includes(name) && plan.current.includes("running") && plan.effect.includes("power-off"),
            JSON.stringify(plan),
          );
          assertEquals(asked.length, 2, "a dry run asked the human");
          assertEquals(powerCalls(sim, target, "stop").length, 0, "a dry run acted");

          // A confirm argument typed by the model is refused by the schema; nothing is asked or done.
          const typed = await s.client.callTool({
            name: "guest_power",
            arguments: { vmid: target, action: "stop", confirm: true },
          })
            .then((r) => r as { isError?: boolean }, (e) => ({ isError: true, error: String(e) }));
          assert(typed.isError, "a typed confirm argument was accepted");
          assertEquals(asked.length, 2, "a typed confirm argument reached the human");

          // Protected guests are refused before anyone is asked.
          answer = { action: "accept", content: { confirm: true } };
          res = await call(s.client, "guest_power", { vmid: protectedVm, action: "stop", wait: false });
          assert(res.isError && res.content[0]!.text.includes("protected"), res.content[0]!.text);
          assertEquals(asked.length, 2, "the human was asked about a protected guest");
          assertEquals(powerCalls(sim, protectedVm, "stop").length, 0);

          // Accept with the box checked: done.
          res = await call(s.client, "guest_power", { vmid: target, action: "stop", wait: true });
          assert(!res.isError, res.content[0]?.text ?? "");
          assertEquals(asked.length, 3, "elicitations");
          assertEquals(powerCalls(sim, target, "stop").length, 1, "stop requests after accept");
          assertEquals(res.structuredContent?.ok, true);
          assertEquals(status(sim, target), "stopped");

          // A write that destroys nothing is not confirmed.
          res = await call(s.client, "guest_power", { vmid: target, action: "start", wait: false });
          assert(!res.isError, res.content[0]?.text ?? "");
          assertEquals(asked.length, 3, "a non-destructive write asked the human");
        } finally {
          await s.close();
        }
      },
    );

    await t.step("no elicitation capability: refused by default, allowed by the operator's setting", async () => {
      const [vm] = pickVms(sim, "running", 1, taken) as [number];
      const refuse = await startStack({ sim, mode: "admin" });
      try {
        const res = await call(refuse.client, "guest_power", { vmid: vm, action: "reset", wait: false });
        assert(res.isError, "a destructive call without elicitation ran");
        const text = res.content[0]!.text;
        assert(text.includes("does not support elicitation"), text);
        assert(text.includes("PROXMOX_MCP_CONFIRM_WITHOUT_ELICITATION=allow"), text);
        assertEquals(powerCalls(sim, vm, "reset").length, 0);
      } finally {
        await refuse.close();
      }
      const allow = await startStack({ sim, mode: "admin", env: { PROXMOX_MCP_CONFIRM_WITHOUT_ELICITATION: "allow" } });
      try {
        const res = await call(allow.client, "guest_power", { vmid: vm, action: "reset", wait: false });
        assert(!res.isError, res.content[0]?.text ?? "");
        assertEquals(powerCalls(sim, vm, "reset").length, 1);
      } finally {
        await allow.close();
      }
    });

    await t.step("2026-07-28 era: input_required with signed state; accept acts, decline does not", async () => {
      const [accepted, declined] = pickVms(sim, "running", 2, taken) as [number, number];
      const token = sim.tokens.admin!;
      const dir = await Deno.makeTempDir({ prefix: "pve-mcp-e2e-modern-" });
      await Deno.writeTextFile(`${dir}/ca.pem`, sim.caCertPem);
      const transport = new StdioClientTransport({
        command: Deno.execPath(),
        args: ["run", "-A", "--quiet", `${ROOT}src/main.ts`, "serve"],
        env: {
          ...baseEnv(),
          PROXMOX_HOST: "127.0.0.1",
          PROXMOX_PORT: String(sim.port),
          PROXMOX_TOKEN_ID: token.tokenId,
          PROXMOX_TOKEN_SECRET: token.secret,
          PROXMOX_CA_FILE: `${dir}/ca.pem`,
          PROXMOX_MCP_MODE: "admin",
        },
        cwd: dir,
        stderr: "pipe",
      });
      const client = new Client(
        { name: "e2e-modern", version: "1.0.0" },
        { capabilities: { elicitation: {} }, versionNegotiation: { mode: "auto" } },
      );
      const asked: Elicit[] = [];
      let answer: Record<string, unknown> = { action: "accept", content: { confirm: true } };
      client.setRequestHandler("elicitation/create", (req) => {
        asked.push(req as unknown as Elicit);
        return Promise.resolve(answer as never);
      });
      try {
        await client.connect(transport);
        assertEquals(client.getNegotiatedProtocolVersion(), "2026-07-28", "negotiated protocol");
        let res = await call(client, "guest_power", { vmid: accepted, action: "stop", wait: false });
        assert(!res.isError, res.content[0]?.text ?? "");
        assertEquals(asked.length, 1, "elicitations");
        assert(asked[0]!.params.message.includes(`stop VM ${accepted}`), asked[0]!.params.message);
        assertEquals(powerCalls(sim, accepted, "stop").length, 1);
        answer = { action: "decline" };
        res = await call(client, "guest_power", { vmid: declined, action: "stop", wait: false });
        assert(res.isError && res.content[0]!.text.includes("declined"), res.content[0]?.text ?? "");
        assertEquals(powerCalls(sim, declined, "stop").length, 0);
      } finally {
        await client.close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    });

    await t.step("tools the mode forbids are not listed; per-call classes are enforced", async () => {
      const lists: Record<
        string,
        {
          name: string;
          annotations?: { readOnlyHint?: boolean | undefined } | undefined;
          inputSchema: { properties?: Record<string, unknown> | undefined };
        }[]
      > = {};
      for (const mode of ["read-only", "operator", "admin"] as const) {
        const s = await startStack({
          sim,
          mode,
          env: { PROXMOX_MCP_TOOLSETS: "cluster,nodes,guests,snapshots,backups,storage,tasks,raw" },
        });
        try {
          lists[mode] = (await s.client.listTools()).tools;
          if (mode === "operator") {
            const [vm] = pickVms(sim, "running", 1, taken) as [number];
            const res = await call(s.client, "guest_power", { vmid: vm, action: "stop", wait: false });
            assert(res.isError && res.content[0]!.text.includes("needs mode admin"), res.content[0]?.text ?? "");
            const raw = await call(s.client, "pve_api", { method: "DELETE", path: `/nodes/pve1/qemu/${vm}` });
            assert(raw.isError && raw.content[0]!.text.includes("needs mode admin"), raw.content[0]?.text ?? "");
            assertEquals(powerCalls(sim, vm, "stop").length, 0);
          }
        } finally {
          await s.close();
        }
      }
      const names = (m: string) => new Set(lists[m]!.map((x) => x.name));
      assert(lists["read-only"]!.length > 0, "read-only lists nothing");
      assert(lists["read-only"]!.every((x) => x.annotations?.readOnlyHint === true), "read-only lists a changing tool");
      assert(!names("read-only").has("guest_power"), "changing tools in read-only");
      // pve_api is listed in read-only mode as its read view: GET only.
      const rawView = lists["read-only"]!.find((x) => x.name === "pve_api");
      const methods = (rawView?.inputSchema.properties as Record<string, { enum?: string[] }> | undefined)?.method;
      assert(JSON.stringify(methods?.enum) === '["GET"]', `pve_api in read-only: ${JSON.stringify(methods)}`);
      assert(names("operator").has("guest_power") && names("operator").has("pve_api"), "operator lacks change tools");
      for (const n of names("read-only")) assert(names("operator").has(n), `${n} missing in operator mode`);
      for (const n of names("operator")) assert(names("admin").has(n), `${n} missing in admin mode`);
    });

    await t.step("read credential reads, write credential changes", async () => {
      const [vm] = pickVms(sim, "stopped", 1, taken) as [number];
      const admin = sim.tokens.admin!;
      const auditor = sim.tokens.auditor!;
      const s = await startStack({
        sim,
        mode: "operator",
        token: "auditor",
        env: { PROXMOX_WRITE_TOKEN_ID: admin.tokenId, PROXMOX_WRITE_TOKEN_SECRET: admin.secret },
      });
      try {
        sim.clearRequests();
        const list = await call(s.client, "guest_list", {});
        assert(!list.isError, list.content[0]?.text ?? "");
        const res = await call(s.client, "guest_power", { vmid: vm, action: "start", wait: true });
        assert(!res.isError, res.content[0]?.text ?? "");
        assertEquals(status(sim, vm), "running");
        const writes = sim.requests.filter((r) => r.method !== "GET");
        const reads = sim.requests.filter((r) => r.method === "GET");
        assert(writes.length === 1 && writes[0]!.authId === admin.tokenId, `writes: ${JSON.stringify(writes)}`);
        assert(reads.length >= 2, "no reads recorded");
        for (const r of reads) assertEquals(r.authId, auditor.tokenId, `read ${r.path} used the wrong credential`);
      } finally {
        await s.close();
      }
    });

    await t.step("progress notifications while waiting; cancellation stops the task this call started", async () => {
      const [slow, cancelled] = pickVms(sim, "stopped", 2, taken) as [number, number];
      const s = await startStack({ sim, mode: "operator" });
      try {
        const progress: { progress: number; message?: string | undefined }[] = [];
        const res = await s.client.callTool(
          { name: "guest_power", arguments: { vmid: slow, action: "start", wait: true } },
          { onprogress: (p) => progress.push(p) },
        ) as { isError?: boolean; structuredContent?: Record<string, unknown> };
        assert(!res.isError, JSON.stringify(res));
        assertEquals(res.structuredContent?.ok, true);
        assert(progress.length >= 1, "no progress notifications");
        assert(
          progress.every((p, i) => i === 0 || p.progress > progress[i - 1]!.progress),
          "progress did not increase",
        );
        assert(progress[0]!.message?.includes(`qmstart ${slow}`), JSON.stringify(progress));

        const abort = new AbortController();
        let sawProgress = false;
        const pending = s.client.callTool(
          { name: "guest_power", arguments: { vmid: cancelled, action: "start", wait: true } },
          {
            signal: abort.signal,
            onprogress: () => {
              sawProgress = true;
            },
          },
        );
        const outcome = pending.then(() => "resolved", () => "rejected");
        await until("a progress notification", () => sawProgress);
        abort.abort("test cancels");
        assertEquals(await outcome, "rejected", "the cancelled call");
        const start = powerCalls(sim, cancelled, "start");
        assertEquals(start.length, 1, "start requests");
        await until(
          "the task stop",
          () => sim.requests.some((r) => r.method === "DELETE" && r.path.includes("/tasks/UPID:")),
        );
        const task = sim.tasks.all().find((x) => x.type === "qmstart" && x.id === String(cancelled));
        assert(task, "no task for the cancelled start");
        assertEquals(task.exitstatus, "received interrupt", "the task was not stopped");
        assertEquals(status(sim, cancelled), "stopped", "the stopped task still took effect");
      } finally {
        await s.close();
      }
    });
  } finally {
    await sim.close();
  }
});
