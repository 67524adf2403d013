import { ALL_TOOLS } from "../../src/tools/all.ts";
import { TOOLSETS } from "../../src/core/mod.ts";
import { renderToolsDoc, requiredPrivileges, roleCommands } from "../../src/tools/docs.ts";
import { selectTools } from "../../src/tools/registry.ts";

Deno.test("docs/tools.md is generated from the current registry (run deno task gen:docs)", async () => {
  const committed = await Deno.readTextFile(new URL("../../docs/tools.md", import.meta.url));
  if (committed !== renderToolsDoc(ALL_TOOLS)) {
    throw new Error("docs/tools.md is out of date: run `deno task gen:docs` and commit the result");
  }
  for (const t of ALL_TOOLS) {
    if (!committed.includes(`## ${t.name}`)) throw new Error(`docs/tools.md misses ${t.name}`);
  }
});

Deno.test("role: read-only tools need only audit-style privileges; admin mode needs more", () => {
  const all = { toolsets: TOOLSETS, allowTools: [], denyTools: [] };
  const ro = requiredPrivileges(selectTools(ALL_TOOLS, { mode: "read-only", ...all }));
  const admin = requiredPrivileges(selectTools(ALL_TOOLS, { mode: "admin", ...all }));
  if (ro.length === 0) throw new Error("no privileges for read-only tools");
  for (const p of ro) {
    if (!/\.(Audit|Monitor|Console)$|^Sys\.Syslog$|^VM\.GuestAgent\.Audit$|^Datastore\.AllocateSpace$/.test(p)) {
      // Reading may need a few non-Audit privileges (e.g. Sys.Syslog); anything that modifies must not appear.
      if (/Allocate$|Modify|PowerMgmt|Migrate|Clone|Backup|Snapshot$|Config\./.test(p)) {
        throw new Error(`read-only tools ask for a privilege that changes things: ${p}`);
      }
    }
  }
  if (!(admin.length > ro.length)) throw new Error("admin mode should need more privileges than read-only");
  const cmds = roleCommands(selectTools(ALL_TOOLS, { mode: "read-only", ...all }));
  if (!cmds.includes(`--privs "${ro.join(",")}"`)) throw new Error(cmds);
  if (!cmds.includes("--privsep 1")) throw new Error("token must use privilege separation");
});

Deno.test("role: operator mode leaves out what only destructive actions use; every admin-only privilege is one the tool lists", () => {
  const all = { toolsets: TOOLSETS, allowTools: [], denyTools: [] };
  const operator = requiredPrivileges(selectTools(ALL_TOOLS, { mode: "operator", ...all }), "operator");
  const admin = requiredPrivileges(selectTools(ALL_TOOLS, { mode: "admin", ...all }), "admin");
  for (const p of ["VM.Snapshot.Rollback"]) {
    if (operator.includes(p)) throw new Error(`operator role includes ${p}, which only admin actions use`);
    if (!admin.includes(p)) throw new Error(`admin role misses ${p}`);
  }
  for (const p of ["VM.Snapshot", "VM.Migrate", "VM.PowerMgmt"]) {
    if (!operator.includes(p)) throw new Error(`operator role misses ${p}`);
  }
  for (const t of ALL_TOOLS) {
    for (const p of t.adminPrivileges ?? []) {
      if (!t.privileges.includes(p)) throw new Error(`${t.name}: admin-only privilege ${p} is not in its privileges`);
    }
  }
  const cmds = roleCommands(selectTools(ALL_TOOLS, { mode: "operator", ...all }), { mode: "operator" });
  if (!cmds.includes(`--privs "${operator.join(",")}"`) || !cmds.includes("in operator mode")) throw new Error(cmds);
});
