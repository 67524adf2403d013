/**
 * pve-mcp entry point: runs the command line (src/cli/main.ts) and sets the exit code.
 * @module
 */
import { main } from "./cli/main.ts";

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
