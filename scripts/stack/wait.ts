import { HOST } from "./config.ts";

/** Reports one step of a service, e.g. `("kafka", "ready in 8.2s")`. */
export type Progress = (service: string, message: string) => void;

/** Progress that prints nothing. */
export const quietProgress: Progress = () => {};

/** Seconds since `start` (a `performance.now()` value), one decimal, e.g. "8.2s". */
export function elapsed(start: number): string {
  return `${((performance.now() - start) / 1000).toFixed(1)}s`;
}

/**
 * Whether something accepts TCP connections on `host:port`.
 * Defaults: host 127.0.0.1, give up after 1000 ms.
 */
export async function isPortOpen(port: number, host: string = HOST, timeoutMs = 1000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const attempt = Bun.connect({
    hostname: host,
    port,
    socket: { data() {}, error() {} },
  }).then(
    (socket) => {
      socket.end();
      return true;
    },
    () => false,
  );
  const timeout = new Promise<boolean>((done) => {
    timer = setTimeout(() => done(false), timeoutMs);
  });
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `probe` until it returns true, or throws once `timeoutMs` has passed.
 * A probe that throws counts as "not yet"; the last error is kept for the failure message.
 * `abort` is checked between polls so that a dead process fails fast instead of waiting out the deadline.
 * Defaults: poll every 250 ms.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; abort?: () => string | undefined },
): Promise<void> {
  const deadline = performance.now() + options.timeoutMs;
  let lastError: unknown;
  while (performance.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    const reason = options.abort?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    await Bun.sleep(options.intervalMs ?? 250);
  }
  const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
  throw new Error(`${what}: not ready after ${options.timeoutMs / 1000}s${detail}`);
}
