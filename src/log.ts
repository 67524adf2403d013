/**
 * Logging: JSON lines on stderr through LogTape. Nothing here ever writes to stdout.
 * @module
 */
import { configure, getLogger, type Logger, type LogLevel, type LogRecord } from "@logtape/logtape";

/** Log levels operators can choose. */
export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;
/** One of {@linkcode LOG_LEVELS}. */
export type LogLevelName = (typeof LOG_LEVELS)[number];

const encoder = new TextEncoder();

function stderrJsonSink(record: LogRecord): void {
  const msg = record.message.map((part) => (typeof part === "string" ? part : JSON.stringify(part))).join("");
  const line = JSON.stringify({
    time: new Date(record.timestamp).toISOString(),
    level: record.level,
    logger: record.category.join("."),
    msg,
    ...record.properties,
  });
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
