/**
 * An abortable sleep: the default wait between retries (client) and task polls (tasks). Tests inject their own.
 * @module
 */

/** Waits `ms` milliseconds; rejects with the signal's reason as soon as `signal` aborts (at once if it has). */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
