import { ok as assert } from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { formatLogLine } from "../src/log.ts";

Deno.test("log lines: properties under secret keys are redacted in the properties and in the message", () => {
  const keyring = "AQBmK9FkAAAAABAAcDEuKmUvVb8JvHg0Qz1h5w==";
  const record: LogRecord = {
    category: ["pve-mcp", "test"],
    level: "info",
    timestamp: 0,
    rawMessage: "Storage {storage} keyring {keyring} password {password}",
    message: ["Storage ", "ceph1", " keyring ", keyring, " password ", "hunter2hunter2", ""],
    properties: { storage: "ceph1", keyring, password: "hunter2hunter2" },
  };
  const line = formatLogLine(record);
  assert(!line.includes(keyring) && !line.includes("hunter2"), line);
  const parsed = JSON.parse(line);
  assert(parsed.msg === "Storage ceph1 keyring [redacted] password [redacted]", parsed.msg);
  assert(parsed.keyring === "[redacted]" && parsed.storage === "ceph1", line);
});
