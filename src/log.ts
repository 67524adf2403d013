/**
 * Logging: JSON lines on stderr through LogTape. Nothing here ever writes to stdout.
 * @module
 */
import { configure, getLogger, type Logger, type LogLevel, type LogRecord } from "@logtape/logtape";
import { isSecretKey } from "./guard/secret_keys.ts";
import { PROCESS_SECRETS } from "./guard/scrub.ts";

/** Log levels operators can choose. */
export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;
/** One of {@linkcode LOG_LEVELS}. */
export type LogLevelName = (typeof LOG_LEVELS)[number];

const encoder = new TextEncoder();

/**
 * A log record as one JSON line. Properties under secret keys (the classifier of `guard/secret_keys.ts`, as for audit
 * records and plan text) are replaced by `[redacted]`, in the properties and where the message interpolates them;
 * every value a call resolved from `secret://` (and its encodings) is scrubbed from the whole line.
 */
export function formatLogLine(record: LogRecord): string {
  const properties: Record<string, unknown> = {};
  const hidden = new Set<unknown>();
  for (const [key, value] of Object.entries(record.properties)) {
    if (isSecretKey(key) && value !== undefined && value !== null) {
      hidden.add(value);
      properties[key] = "[redacted]";
    } else {
      properties[key] = value;
    }
  }
  const msg = record.message.map((part, i) =>
    i % 2 === 1 && hidden.has(part) ? "[redacted]" : typeof part === "string" ? part : JSON.stringify(part)
  ).join("");
  return PROCESS_SECRETS.scrubText(JSON.stringify({
    time: new Date(record.timestamp).toISOString(),
    level: record.level,
    logger: record.category.join("."),
    msg,
    ...properties,
  }));
}

function stderrJsonSink(record: LogRecord): void {
  const line = formatLogLine(record);
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // stderr closed: nothing sensible left to do.
  }
}

/** Configures logging once per process; later calls change the level. */
export async function setupLogging(level: LogLevelName = "info"): Promise<void> {
  await configure({
    reset: true,
    sinks: { stderr: stderrJsonSink },
    loggers: [
      { category: ["pve-mcp"], lowestLevel: level as LogLevel, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

/** A logger under the `pve-mcp` category, e.g. `log("pve")`. */
export function log(...category: string[]): Logger {
  return getLogger(["pve-mcp", ...category]);
}
