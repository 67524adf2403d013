/**
 * The e2e referee watches a simulator and reports every request the official apidata.json refuses, including ones
 * the simulator answered (and ones `clearRequests` dropped). Needs ../shared (skipped with a warning otherwise).
 */
import { Api } from "../sim/helpers.ts";
import { apidataPresent } from "./apidata_check.ts";
import { assertRequestsValid, watchRequests } from "./requests.ts";
import { assert, assertEquals, errorOf } from "../assert.ts";

Deno.test({
  name: "referee: valid requests pass; unknown parameters, bad values and unknown paths are reported",
  ignore: !apidataPresent(),
  async fn() {
    await using api = await Api.start({ nodes: 1, guests: 3 });
    const auth = api.sim.tokens.admin.header;
    const good = watchRequests(api.sim);
    await api.call("GET", "/cluster/resources", { auth, query: "type=vm" });
    await api.call("GET", "/cluster/nextid", { auth, query: "vmid=100" }); // 400 "already exists", a valid request
    await api.call("POST", "/access/ticket", { form: { username: "root@pam", password: "wrong" } });
    assertEquals(await good.stop(), []);

    const bad = watchRequests(api.sim);
    await api.call("GET", "/cluster/resources", { auth, query: "type=vms" });
    api.sim.clearRequests();
    await api.call("GET", "/nodes", { auth, query: "bogus=1" });
    await api.call("GET", "/nodes/pve1/no-such-thing", { auth });
    await api.call("POST", "/nodes/pve1/qemu", { auth, form: { vmid: "99" } });
    const problems = await bad.stop();
    const has = (re: RegExp) => assert(problems.some((p) => re.test(p)), `${re} in:\n${problems.join("\n")}`);
    has(/^GET \/cluster\/resources: type: "vms" not one of/);
    has(/^GET \/nodes: bogus: not in the schema/);
    has(/^GET \/nodes\/pve1\/no-such-thing: /); // no such endpoint (or, read as {node}, no valid node name)
    has(/^POST \/nodes\/pve1\/qemu: vmid: 99 below the minimum 100/);

    const watch = watchRequests(api.sim);
    await api.call("GET", "/version", { auth, query: "verbose=1" });
    const msg = await errorOf(() => assertRequestsValid(watch, "test stack"));
    assert(msg.includes("test stack: 1 upstream request problem(s)") && msg.includes("verbose"), msg);
  },
});
