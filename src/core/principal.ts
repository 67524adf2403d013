/**
 * Who is calling: the identity every layer (transports, policy, rate limits, audit) shares.
 * @module
 */
import type { Mode } from "./modes.ts";

/** Who is calling: a stdio session or an authenticated HTTP client. */
export interface Principal {
  id: string;
  transport: "stdio" | "http";
  /** Cap on the mode (a device token's mode); the server mode still applies. */
  mode?: Mode;
  /** Cap on toolsets (a device token's toolsets). */
  toolsets?: readonly string[];
  client?: { name: string; version: string };
}
