/**
 * Fault matrix: for each simulator fault (latency past the timeout, 500/502/503/504, connection reset, malformed JSON,
 * truncated body, expired ticket, wrong certificate), through the real pipeline with the audit log on: no crash, GETs
 * retried (and recovered when the fault passes), writes never retried, a clear error naming the host and the cause,
 * and the audit log records the outcome.
 */
import type { InProcessStack } from "../fuzz/stack.ts";
import { startInProcessStack } from "../fuzz/stack.ts";
import { generateCertificate } from "../../src/sim/cert.ts";
import type { SimGuest } from "../../src/sim/mod.ts";
import { auditRecords, FAULTS, startAuditedStack, startPath, statusPath, TIMEOUT_MS } from "./helpers.ts";

type Result = { isError?: boolean; content: { type: string; text: string }[] };

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

async function call(s: InProcessStack, name: string, args: Record<string, unknown>): Promise<Result> {
  return await s.client.callTool({ name, arguments: args }) as Result;
}

const text = (r: Result) => r.content.map((c) => c.text).join("\n");
const count = (s: InProcessStack, method: string, path: string) =>
  s.sim.requests.filter((r) => r.method === method && r.path === path).length;

Deno.test("fault matrix: every fault, GET and write, through the pipeline with the audit log", async (t) => {
  const s = await startAuditedStack({ env: { PROXMOX_MCP_MODE: "operator" }, simOptions: { guests: 80, seed: 3 } });
  try {
    const host = `127.0.0.1:${s.sim.port}`;
    const guests = [...s.sim.state.guests.values()].filter((g) => !g.template);
    const stopped = guests.filter((g) => g.status === "stopped");
    assert(guests.length >= 2 * FAULTS.length + 1 && stopped.length >= FAULTS.length, "not enough guests");
    const warm = await call(s, "guest_info", { vmid: guests[0]!.vmid }); // fills the vmid → node cache
    assert(!warm.isError, text(warm));
    const used = new Set<number>([guests[0]!.vmid]);
    const take = (list: SimGuest[]) => {
      const g = list.find((x) => !used.has(x.vmid))!;
      used.add(g.vmid);
      return g;
    };
    const plan = FAULTS.map((f) => ({ f, transient: take(guests), permanent: take(guests), write: take(stopped) }));
    for (const p of plan) {
      s.sim.faults.set(`GET ${statusPath(p.transient)}`, p.f.fault, { times: 2 });
      s.sim.faults.set(`GET ${statusPath(p.permanent)}`, p.f.fault);
      s.sim.faults.set(`POST ${startPath(p.write)}`, p.f.fault);
    }
    // All faults at once: the server must keep every call apart and stay up.
    const results = await Promise.all(plan.map(async (p) => ({
      transient: await call(s, "guest_info", { vmid: p.transient.vmid }),
      permanent: await call(s, "guest_info", { vmid: p.permanent.vmid }),
      write: await call(s, "guest_power", { vmid: p.write.vmid, action: "start", wait: false }),
    })));
    // Latency faults answer (late) after the client gave up: let them land in the request log.
    await new Promise((r) => setTimeout(r, 4 * TIMEOUT_MS));
    const audit = await auditRecords(s.auditDir);
    const auditOf = (tool: string, vmid: number) =>
      audit.filter((a) => a.tool === tool && (a.args as { vmid?: number } | undefined)?.vmid === vmid);

    for (const [i, p] of plan.entries()) {
      const r = results[i]!;
      await t.step(p.f.name, () => {
        // GET, fault passes after two attempts: retried and recovered when retryable; a plain error otherwise.
        const tPath = statusPath(p.transient);
        if (p.f.retriedGet) {
          assert(!r.transient.isError, `${p.f.name}: a transient GET fault was not recovered: ${text(r.transient)}`);
          assert(count(s, "GET", tPath) === 3, `${p.f.name}: expected 3 GET attempts, saw ${count(s, "GET", tPath)}`);
        } else {
          assert(r.transient.isError, `${p.f.name}: expected an error`);
          assert(count(s, "GET", tPath) === 1, `${p.f.name}: a non-retryable GET was retried`);
        }
        // GET, permanent fault: every attempt used (1 + 3 retries) or none for non-retryable, then a clear error.
        const pPath = statusPath(p.permanent);
        const attempts = count(s, "GET", pPath);
        assert(attempts === (p.f.retriedGet ? 4 : 1), `${p.f.name}: ${attempts} GET attempts`);
        for (const [what, res] of [["GET", r.permanent], ["write", r.write]] as const) {
          const msg = text(res);
          assert(res.isError, `${p.f.name} (${what}): expected a tool error, got ${msg}`);
          assert(msg.includes(host), `${p.f.name} (${what}): the error does not name the host ${host}: ${msg}`);
          assert(p.f.cause.test(msg), `${p.f.name} (${what}): the error does not name the cause: ${msg}`);
          assert(!/internal error|\n\s+at /.test(msg), `${p.f.name} (${what}): unclear error: ${msg}`);
        }
        // Writes are never retried.
        const writes = count(s, "POST", startPath(p.write));
        assert(writes === 1, `${p.f.name}: the write was sent ${writes} times`);
        // The audit log holds the outcome of each call: reads one record, writes intent + result.
        for (
          const [tool, g, outcome] of [
            ["guest_info", p.permanent, "error"],
            ["guest_power", p.write, "error"],
            ["guest_info", p.transient, p.f.retriedGet ? "ok" : "error"],
          ] as const
        ) {
          const recs = auditOf(tool, g.vmid);
          const final = recs.find((a) => a.result !== undefined);
          assert(final?.result === outcome, `${p.f.name}: audit of ${tool} ${g.vmid}: ${JSON.stringify(recs)}`);
          if (outcome === "error") assert(final.errorKind, `${p.f.name}: no error kind in the audit record`);
          if (tool === "guest_power") assert(recs.some((a) => a.phase === "intent"), `${p.f.name}: no intent record`);
        }
      });
    }
    await t.step("no crash: the server still answers after the matrix", async () => {
      s.sim.faults.clear();
      const r = await call(s, "guest_list", { limit: 5 });
      assert(!r.isError, text(r));
    });
  } finally {
    await s.close();
  }
});

Deno.test("fault matrix: expired ticket, once (re-login, GET and write each sent again once) and for good", async () => {
  const s = await startAuditedStack({
    token: "ticket",
    env: { PROXMOX_MCP_MODE: "operator" },
    simOptions: { seed: 4 },
  });
  try {
    const host = `127.0.0.1:${s.sim.port}`;
    const guests = [...s.sim.state.guests.values()].filter((g) => !g.template);
    const g = guests[0]!;
    const w = guests.find((x) => x.status === "stopped")!;
    const first = await call(s, "guest_info", { vmid: g.vmid });
    assert(!first.isError, text(first));
    const logins = () => count(s, "POST", "/access/ticket");
    const before = logins();

    s.sim.faults.set(`GET ${statusPath(g)}`, { expiredTicket: true }, { times: 1 });
    const read = await call(s, "guest_info", { vmid: g.vmid });
    assert(!read.isError, `GET after an expired ticket: ${text(read)}`);
    s.sim.faults.set(`POST ${startPath(w)}`, { expiredTicket: true }, { times: 1 });
    const write = await call(s, "guest_power", { vmid: w.vmid, action: "start", wait: false });
    assert(!write.isError, `write after an expired ticket: ${text(write)}`);
    // The 401 means PVE ran nothing, so sending the write again after a new login is safe: exactly one start ran.
    const starts = s.sim.requests.filter((r) => r.path === startPath(w));
    assert(starts.length === 2 && starts[0]!.status === 401 && starts[1]!.status === 200, JSON.stringify(starts));
    assert(logins() === before + 2, `expected two new logins, saw ${logins() - before}`);

    s.sim.faults.set(`GET ${statusPath(g)}`, { expiredTicket: true });
    const forGood = await call(s, "guest_info", { vmid: g.vmid });
    const msg = text(forGood);
    assert(forGood.isError && msg.includes(host) && /auth|ticket|401|log ?in|permission/i.test(msg), msg);
    const audit = await auditRecords(s.auditDir);
    const last = audit.filter((a) => a.tool === "guest_info").at(-1);
    assert(last?.result === "error" && last.errorKind === "auth", `audit: ${JSON.stringify(last)}`);
  } finally {
    await s.close();
  }
});

Deno.test("fault matrix: wrong certificate (other CA, wrong pin) is refused clearly, never retried into success", async () => {
  const other = await generateCertificate({});
  const s = await startInProcessStack({ env: { PROXMOX_MCP_LOG_LEVEL: "error" } });
  try {
    await Deno.writeTextFile(`${s.dir}/other-ca.pem`, other.caCertPem);
    for (
      const env of [
        { PROXMOX_CA_FILE: `${s.dir}/other-ca.pem` },
        { PROXMOX_FINGERPRINT: other.fingerprint, PROXMOX_CA_FILE: "" },
      ]
    ) {
      const bad = await startAuditedStack({ sim: s.sim, env });
      try {
        const host = `127.0.0.1:${s.sim.port}`;
        const started = performance.now();
        const before = s.sim.requests.length;
        const r = await call(bad, "guest_list", {});
        const msg = text(r);
        assert(r.isError && msg.includes(host) && /certificate|fingerprint|TLS/i.test(msg), msg);
        assert(s.sim.requests.length === before, "a request got through a wrong certificate");
        // Not retried with backoff: a certificate does not fix itself.
        assert(performance.now() - started < 1_500, `took ${performance.now() - started} ms`);
        const audit = await auditRecords(bad.auditDir);
        const rec = audit.find((a) => a.tool === "guest_list" && a.result !== undefined);
        assert(rec?.result === "error" && rec.errorKind !== undefined, JSON.stringify(rec));
      } finally {
        await bad.close();
      }
    }
  } finally {
    await s.close();
  }
});
