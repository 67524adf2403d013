/**
 * Fault injection per route: latency, forced status codes, connection resets, malformed or truncated bodies and
 * expired tickets, optionally for a limited number of matching requests.
 * @module
 */

/** Status codes a fault can force (5xx of PVE and its proxy layer; 595/596 = forwarding to a node failed). */
export type FaultStatus = 500 | 502 | 503 | 504 | 595 | 596;

/**
 * What happens to a matching request. Parts combine: e.g. `{latencyMs: 200, status: 503}` waits, then fails.
 * - `latencyMs`     wait (wall-clock) before answering;
 * - `status`        answer with this status instead of running the handler (no state change);
 * - `reset`         run the handler (state changes!), then abort the connection instead of answering;
 * - `malformed`     run the handler, answer 200 with a body that is not valid JSON;
 * - `truncated`     run the handler, send half of the body, then abort the connection;
 * - `expiredTicket` treat a ticket as expired (401) — requests authenticated by API token are not affected.
 */
export interface SimFault {
  latencyMs?: number;
  status?: FaultStatus;
  /** Message for a forced status (500 carries it in JSON, 502-504 as plain text, 595/596 send no body). */
  message?: string;
  reset?: boolean;
  malformed?: boolean;
  truncated?: boolean;
  expiredTicket?: boolean;
}

/** One registered fault. */
export interface FaultRule {
  id: number;
  /** As given: `"*"`, `"/path"`, `"METHOD /path"`; paths may be templates (`/nodes/{node}/qemu`) or concrete, `*` globs. */
  pattern: string;
  fault: SimFault;
  /** Matching requests left before the rule removes itself; undefined = forever. */
  remaining?: number;
}

interface Compiled extends FaultRule {
  method?: string;
  re: RegExp;
}

function compile(pattern: string): { method?: string; re: RegExp } {
  const m = /^(GET|POST|PUT|DELETE)\s+(.*)$/i.exec(pattern.trim());
  const method = m?.[1]?.toUpperCase();
  const path = (m ? m[2] ?? "" : pattern).trim();
  const source = path.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return method === undefined ? { re: new RegExp(`^${source}$`) } : { method, re: new RegExp(`^${source}$`) };
}

/** The fault registry of one simulator. */
export class FaultRegistry {
  #rules: Compiled[] = [];
  #next = 1;

  /**
   * Adds a fault for requests matching `pattern` (see {@linkcode FaultRule.pattern}); with `times`, only for that
   * many matching requests. Later rules win over earlier ones. Returns the rule id for {@linkcode clear}.
   */
  set(pattern: string, fault: SimFault, opts: { times?: number } = {}): number {
    const rule: Compiled = { id: this.#next++, pattern, fault, ...compile(pattern) };
    if (opts.times !== undefined) rule.remaining = opts.times;
    this.#rules.push(rule);
    return rule.id;
  }

  /** Removes one rule, or every rule when no id is given. */
  clear(id?: number): void {
    this.#rules = id === undefined ? [] : this.#rules.filter((r) => r.id !== id);
  }

  /** The active rules. */
  list(): FaultRule[] {
    return this.#rules.map(({ id, pattern, fault, remaining }) =>
      remaining === undefined ? { id, pattern, fault } : { id, pattern, fault, remaining }
    );
  }

  /**
   * The fault for a request (matching its concrete path or its template), consuming one use of a limited rule.
   * `filter` lets the caller skip rules that do not apply (e.g. `expiredTicket` on token requests).
   */
  take(
    method: string,
    path: string,
    template: string | undefined,
    filter?: (f: SimFault) => boolean,
  ): SimFault | undefined {
    for (let i = this.#rules.length - 1; i >= 0; i--) {
      const r = this.#rules[i] as Compiled;
      if (r.method !== undefined && r.method !== method) continue;
      if (!r.re.test(path) && (template === undefined || !r.re.test(template))) continue;
      if (filter && !filter(r.fault)) continue;
      if (r.remaining !== undefined && --r.remaining <= 0) this.#rules.splice(i, 1);
      return r.fault;
    }
    return undefined;
  }

  /** True when no rule is set (the fast path). */
  get empty(): boolean {
    return this.#rules.length === 0;
  }
}
