/** Thrown by {@link sleep} and the loops that use it when their signal aborts: the process is stopping. */
export class StoppedError extends Error {
  override name = "StoppedError";
  constructor() {
    super("stopped");
  }
}

/**
 * Waits `ms` on Bun's timers; rejects with {@link StoppedError} as soon as `signal` aborts.
 * @example await sleep(1_000, controller.signal);
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new StoppedError());
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new StoppedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
