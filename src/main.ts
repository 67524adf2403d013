/**
 * pve-mcp entry point: runs the command line (src/cli/main.ts) and sets the exit code.
 * @module
 */
import { main } from "./cli/main.ts";

if (import.meta.main) {
  // Exit explicitly: open upstream keep-alive connections must not hold the process once the command is done.
  Deno.exit(await main(Deno.args));
}
