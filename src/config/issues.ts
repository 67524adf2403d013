/**
 * Turns zod issues into problems named by the variable, flag or file key that set the value — or, for a missing
 * value, by where it can be set. Messages never contain values.
 * @module
 */
import type { z } from "zod";
import { NO_CREDENTIAL } from "./schema.ts";
import { SETTINGS } from "./settings.ts";
import type { Origin } from "./tree.ts";

/** What the formatter needs to know about the sources. */
export interface IssueContext {
  origins: ReadonlyMap<string, Origin>;
  /** Cluster the `PROXMOX_*` variables apply to. */
  target: string | undefined;
  /** The file uses the `proxmox`/`auth` layout. */
  legacy: boolean;
}

/** One problem line per issue (unknown keys: one per key). */
export function formatIssues(issues: readonly z.core.$ZodIssue[], ctx: IssueContext): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const parts = issue.path.map(String);
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const hint = suggest(key, knownKeys(parts));
        out.push(`${labelFor([...parts, key], ctx)}: unknown setting${hint ? ` (did you mean ${hint}?)` : ""}`);
      }
    } else if (issue.code === "invalid_key") {
      out.push(`${labelFor(parts, ctx)}: ${issue.issues[0]?.message ?? "invalid name"}`);
    } else if (issue.message === NO_CREDENTIAL && parts[0] === "clusters") {
      const where = parts[1] === ctx.target
        ? "PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET, or PROXMOX_USER and PROXMOX_PASSWORD; config file: " +
          `clusters.${parts[1]}.tokenId and .tokenSecret`
        : `config file: clusters.${parts[1]}.tokenId and .tokenSecret, or .user and .password`;
      out.push(`cluster "${parts[1]}": ${NO_CREDENTIAL} (${where})`);
    } else {
      out.push(`${labelFor(parts, ctx)}: ${issue.message}`);
    }
  }
  return out;
}

/** Names a value by its origin, or says where a missing one can be set. */
export function labelFor(parts: readonly string[], ctx: IssueContext): string {
  for (let i = parts.length; i > 0; i--) {
    const origin = ctx.origins.get(parts.slice(0, i).join("."));
    if (!origin) continue;
    if (i === parts.length) return origin.label;
    const rest = parts.slice(i);
    if (rest.length === 1 && /^\d+$/.test(rest[0]!)) return `${origin.label} (item ${Number(rest[0]) + 1})`;
    return `${parts.join(".")} (${origin.label})`;
  }
  if (parts.length === 0) return "configuration";
  if (parts[0] === "clusters" && parts.length === 2) return `cluster "${parts[1]}"`;
  const isCluster = parts[0] === "clusters" && parts.length >= 3;
  const specPath = isCluster ? ["clusters", "*", ...parts.slice(2)].join(".") : parts.join(".");
  const spec = SETTINGS.find((s) => s.path === specPath);
  const filePaths = [parts.join(".")];
  if (ctx.legacy && spec?.legacy && (!isCluster || parts[1] === ctx.target)) filePaths.push(...spec.legacy);
  const env = spec?.env[0];
  if (env && (!isCluster || parts[1] === ctx.target)) return `${env} (config file: ${filePaths.join(" or ")})`;
  return `${filePaths.join(" or ")} (config file)`;
}

function knownKeys(parts: readonly string[]): string[] {
  const prefix = parts[0] === "clusters" ? ["clusters", "*", ...parts.slice(2)].join(".") : parts.join(".");
  const depth = prefix === "" ? 0 : prefix.split(".").length;
  const keys = SETTINGS.map((s) => s.path.split("."))
    .filter((p) => p.slice(0, depth).join(".") === prefix && p.length > depth)
    .map((p) => p[depth]!);
  return [...new Set(keys)];
}

/** The closest known name within a small edit distance, if any. */
export function suggest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const candidate of known) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = current;
    }
  }
  return row[b.length]!;
}
