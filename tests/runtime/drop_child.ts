/**
 * Child process of drop_permissions_test.ts: runs under a profile's flags, probes before and after
 * `dropPermissions(plan)`, prints `{before, report, after, handleWrite}` as JSON on stdout.
 * Argument: JSON `{plan, probe, handle?}`.
 */
import { dropPermissions, type DropPlan } from "../../src/runtime/drop_permissions.ts";
import { type ProbeSpec, runProbe } from "../sandbox/probe.ts";

const { plan, probe, handle } = JSON.parse(Deno.args[0] ?? "{}") as {
  plan: DropPlan;
  probe: ProbeSpec;
  handle?: string;
};
const before = await runProbe(probe);
const file = handle === undefined ? undefined : await Deno.open(handle, { append: true, create: true });
const report = await dropPermissions(plan);
const after = await runProbe(probe);
let handleWrite: string | undefined;
if (file !== undefined) {
  try {
    await file.write(new TextEncoder().encode("after drop\n"));
    handleWrite = "allowed";
  } catch (e) {
    handleWrite = (e as Error).name;
  }
  file.close();
}
console.log(JSON.stringify({ before, report, after, handleWrite }));
