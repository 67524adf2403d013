/**
 * Minimal assertion helpers for tests (no @std in this environment). `assertEquals` compares JSON renderings: key
 * order counts, `undefined` properties do not. Tests that want node's deep equality import `node:assert/strict`.
 */

/** Fails with `msg` unless `cond` is truthy. */
export function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Fails unless `actual` and `expected` have the same JSON rendering. */
export function assertEquals(actual: unknown, expected: unknown, msg = ""): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${msg}\nexpected: ${e}\nactual:   ${a}`);
}

/** Runs `fn` and returns the message of the error it throws (fails when it does not throw). */
export async function errorOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error, got none");
}
