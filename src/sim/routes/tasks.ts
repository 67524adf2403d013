/**
 * Task endpoints of a node: list (with PVE's filters and paging), status, log, and stopping a running task.
 * @module
 */
import { bool, int, nodeOf, type SimContext, SimError, type SimRoute, str } from "../router.ts";
import { isErrorStatus, parseUpid, type SimTask } from "../tasks.ts";

function splitUser(user: string): { user: string; tokenid?: string } {
  const i = user.indexOf("!");
  return i < 0 ? { user } : { user: user.slice(0, i), tokenid: user.slice(i + 1) };
}

/** The fields every view of a task starts with. */
function taskFields(t: SimTask): Record<string, unknown> {
  return {
    upid: t.upid,
    node: t.node,
    pid: t.pid,
    pstart: t.pstart,
    starttime: t.starttime,
    type: t.type,
    id: t.id,
    ...splitUser(t.user),
  };
}

/** A task as list items show it (`status` holds the exit status once finished). */
export function taskListItem(t: SimTask): Record<string, unknown> {
  const o = taskFields(t);
  if (t.exitstatus !== undefined) {
    o.status = t.exitstatus;
    o.endtime = t.endtime;
  }
  return o;
}

function visible(ctx: SimContext, t: SimTask): boolean {
  const owner = t.user === ctx.principal.id || t.user === ctx.principal.userid;
  return owner || ctx.sim.hasPriv(ctx.principal, `/nodes/${t.node}`, "Sys.Audit");
}

function listTasks(ctx: SimContext): unknown[] {
  const node = nodeOf(ctx);
  const vmid = str(ctx, "vmid");
  const typefilter = str(ctx, "typefilter");
  const userfilter = str(ctx, "userfilter");
  const source = str(ctx, "source") ?? "archive";
  const errorsOnly = bool(ctx, "errors") ?? false;
  const since = int(ctx, "since");
  const until = int(ctx, "until");
  const statuses = (str(ctx, "statusfilter") ?? "").split(/[\s,;]+/).filter(Boolean).map((s) => s.toLowerCase());
  const start = int(ctx, "start") ?? 0;
  const limit = int(ctx, "limit") ?? 50;
  const rows = ctx.sim.tasks.onNode(node.name).filter((t) => {
    const running = t.exitstatus === undefined;
    if (source === "archive" && running) return false;
    if (source === "active" && !running) return false;
    if (vmid !== undefined && t.id !== vmid) return false;
    if (typefilter !== undefined && t.type !== typefilter) return false;
    if (userfilter !== undefined && !t.user.includes(userfilter)) return false;
    if (since !== undefined && t.starttime < since) return false;
    if (until !== undefined && t.starttime > until) return false;
    if (errorsOnly && !isErrorStatus(t.exitstatus)) return false;
    if (statuses.length) {
      const kind = running
        ? "running"
        : t.exitstatus === "OK"
        ? "ok"
        : t.exitstatus?.startsWith("WARNINGS")
        ? "warning"
        : "error";
      if (!statuses.includes(kind)) return false;
    }
    return visible(ctx, t);
  });
  ctx.total = rows.length;
  return rows.slice(start, start + limit).map(taskListItem);
}

function taskOf(ctx: SimContext): SimTask {
  const node = nodeOf(ctx);
  const upid = str(ctx, "upid") ?? "";
  const parsed = parseUpid(upid);
  if (!parsed) throw new SimError(500, `unable to parse worker upid '${upid}'`);
  const t = ctx.sim.tasks.get(upid);
  if (!t || parsed.node !== node.name) {
    throw new SimError(
      500,
      `unable to open file '/var/log/pve/tasks/${upid.split(":")[5] ?? "0"}/${upid}' - No such file or directory`,
    );
  }
  if (!visible(ctx, t)) throw new SimError(403, `Permission check failed (/nodes/${t.node}, Sys.Audit)`);
  return t;
}

function taskStatus(ctx: SimContext): Record<string, unknown> {
  const t = taskOf(ctx);
  const o: Record<string, unknown> = { ...taskFields(t), status: t.exitstatus === undefined ? "running" : "stopped" };
  if (t.exitstatus !== undefined) o.exitstatus = t.exitstatus;
  return o;
}

function taskLog(ctx: SimContext): unknown[] {
  const t = taskOf(ctx);
  if (bool(ctx, "download") && (ctx.params.start !== undefined || ctx.params.limit !== undefined)) {
    throw new SimError(400, "Parameter verification failed.", {
      download: "'download' and 'start'/'limit' are mutually exclusive",
    });
  }
  const start = int(ctx, "start") ?? 0;
  const limit = int(ctx, "limit") ?? 50;
  const lines = t.log.length ? t.log : ["no content"];
  ctx.total = lines.length;
  return lines.slice(start, start + limit).map((text, i) => ({ n: start + i + 1, t: text }));
}

function stopTask(ctx: SimContext): null {
  const t = taskOf(ctx);
  const owner = t.user === ctx.principal.id || t.user === ctx.principal.userid;
  if (!owner && !ctx.sim.hasPriv(ctx.principal, `/nodes/${t.node}`, "Sys.Modify")) {
    throw new SimError(403, `Permission check failed (/nodes/${t.node}, Sys.Modify)`);
  }
  ctx.sim.tasks.stop(t.upid);
  return null;
}

/** Routes of this file. */
export const taskRoutes: SimRoute[] = [
  { method: "GET", path: "/nodes/{node}/tasks", handler: listTasks },
  {
    method: "GET",
    path: "/nodes/{node}/tasks/{upid}",
    handler: (ctx) => (taskOf(ctx), [{ name: "log" }, { name: "status" }]),
  },
  { method: "GET", path: "/nodes/{node}/tasks/{upid}/status", handler: taskStatus },
  { method: "GET", path: "/nodes/{node}/tasks/{upid}/log", handler: taskLog },
  { method: "DELETE", path: "/nodes/{node}/tasks/{upid}", handler: stopTask },
];
