/**
 * A small metrics registry for the admin port's `/metrics` (Prometheus text format 0.0.4): tool calls by tool and
 * outcome, a latency histogram, rate-limit hits, authentication failures, HTTP answers by status.
 * @module
 */

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const MAX_SERIES = 5_000;

function esc(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

class Counter {
  readonly values = new Map<string, { labels: Record<string, string>; value: number }>();
  constructor(readonly name: string, readonly help: string) {}
  inc(l: Record<string, string>, by = 1): void {
    const key = labels(l);
    const v = this.values.get(key);
    if (v !== undefined) v.value += by;
    else if (this.values.size < MAX_SERIES) this.values.set(key, { labels: l, value: by });
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, v] of this.values) lines.push(`${this.name}${key} ${v.value}`);
    return lines.join("\n");
  }
}

class Histogram {
  readonly series = new Map<string, { labels: Record<string, string>; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string) {}
  observe(l: Record<string, string>, seconds: number): void {
    const key = labels(l);
    let s = this.series.get(key);
    if (s === undefined) {
      if (this.series.size >= MAX_SERIES) return;
      s = { labels: l, counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= (BUCKETS[i] as number)) s.counts[i]!++;
    s.sum += seconds;
    s.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      BUCKETS.forEach((b, i) =>
        lines.push(`${this.name}_bucket${labels({ ...s.labels, le: String(b) })} ${s.counts[i]}`)
      );
      lines.push(`${this.name}_bucket${labels({ ...s.labels, le: "+Inf" })} ${s.count}`);
      lines.push(`${this.name}_sum${labels(s.labels)} ${s.sum}`);
      lines.push(`${this.name}_count${labels(s.labels)} ${s.count}`);
    }
    return lines.join("\n");
  }
}

/** The registry; hand its hooks to the pipeline (`App.onCall`), the rate limiter and the HTTP guards. */
export class Metrics {
  readonly calls = new Counter("pve_mcp_tool_calls_total", "Tool calls by tool and outcome.");
  readonly latency = new Histogram("pve_mcp_tool_call_duration_seconds", "Tool call duration by tool.");
  readonly limited = new Counter("pve_mcp_rate_limited_total", "Requests or calls refused by a rate limit.");
  readonly authFailures = new Counter("pve_mcp_auth_failures_total", "HTTP authentication failures by reason.");
  readonly http = new Counter("pve_mcp_http_responses_total", "HTTP responses of the MCP endpoint by status.");
  readonly started = Date.now() / 1000;

  /** `App.onCall` hook. */
  onCall = (tool: string, outcome: string, durationMs: number): void => {
    this.calls.inc({ tool, outcome });
    this.latency.observe({ tool }, durationMs / 1000);
  };
  /** A rate-limit refusal: `principal` (tool calls) or `pre_auth` (per-address HTTP bucket). */
  rateLimited = (scope: "principal" | "pre_auth"): void => this.limited.inc({ scope });
  /** An authentication failure. */
  authFailure = (reason: string): void => this.authFailures.inc({ reason });
  /** An HTTP answer of the MCP endpoint. */
  httpResponse = (status: number): void => this.http.inc({ status: String(status) });

  /** Prometheus text exposition. */
  render(): string {
    return [
      "# HELP pve_mcp_up 1 while the server runs.",
      "# TYPE pve_mcp_up gauge",
      "pve_mcp_up 1",
      "# HELP pve_mcp_start_time_seconds Start time of the process since the epoch.",
      "# TYPE pve_mcp_start_time_seconds gauge",
      `pve_mcp_start_time_seconds ${this.started}`,
      this.calls.render(),
      this.latency.render(),
      this.limited.render(),
      this.authFailures.render(),
      this.http.render(),
    ].join("\n") + "\n";
  }
}
