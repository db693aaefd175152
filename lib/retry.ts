/**
 * The one vocabulary for waiting, retrying and stopping, shared by the price source, the producer loop, the
 * consumer's sink writes, the lag probe and the in-process bus: a stop reason, one abortable sleep, one
 * deadline race, full-jitter backoff, Retry-After parsing and one retry loop.
 */

/**
 * Why a loop stopped: its signal aborted because the process is stopping (SIGTERM, Ctrl-C, a test's stop).
 * `reason` says who asked, e.g. "SIGTERM".
 */
export class StoppedError extends Error {
  override name = "StoppedError";
  constructor(
    readonly reason?: string,
    options?: { cause?: unknown },
  ) {
    super(reason ? `stopped: ${reason}` : "stopped", options);
  }
}

/**
 * The stop reason of an aborted signal: its own reason when that is a {@link StoppedError}, else a
 * StoppedError carrying it (an `abort()` without a reason says only "stopped").
 */
export function stopReason(signal: AbortSignal): StoppedError {
  const reason: unknown = signal.reason;
  if (reason instanceof StoppedError) return reason;
  const said = reason instanceof Error && reason.name !== "AbortError" ? reason.message : undefined;
  return new StoppedError(said, { cause: reason });
}

/**
 * Waits `ms` (at least 0) on Bun's timers; rejects with the signal's {@link stopReason} as soon as it aborts.
 * @example await sleep(1_000, controller.signal);
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(stopReason(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(stopReason(signal as AbortSignal));
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Waits for `work` unless the signal aborts first, then rejects with its stop reason at once: a start-up step
 * (connecting to an unreachable broker, say) never delays a SIGTERM. `work` is left to finish unobserved.
 * @example const bus = await unlessStopped(signal, openKafkaConsumerBus(config.kafka, log));
 */
export function unlessStopped<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(stopReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(stopReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * Runs `work` until it settles or `timeoutMs` passes; on timeout aborts the signal `work` got and rejects with
 * `onTimeout()`. The one deadline race of the project (doctor checks, status reads).
 * @example await withTimeout(3000, (signal) => cache.ping(), () => new SinkError("cache", "no answer"));
 */
export async function withTimeout<T>(
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
  onTimeout: () => Error,
): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = onTimeout();
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([(async () => work(controller.signal))(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Default first backoff ceiling: 1 s. */
export const DEFAULT_BACKOFF_BASE_MS = 1_000;
/** Default largest backoff ceiling: 60 s. */
export const DEFAULT_BACKOFF_CAP_MS = 60_000;

/** Shape of the backoff curve. */
export interface BackoffOptions {
  /** Ceiling of the first retry's delay. Default 1000 ms. */
  baseMs?: number;
  /** Largest ceiling, however many attempts failed. Default 60000 ms. */
  capMs?: number;
  /** Uniform random number in [0, 1). Default Math.random; inject a constant in tests. */
  random?: () => number;
}

/**
 * Full-jitter exponential backoff: a uniform delay in [0, min(cap, base * 2^(attempt-1))).
 * Full jitter spreads retries of many clients, so that they do not hit a recovering server in lockstep.
 * `attempt` is 1 for the first retry. Defaults: base 1 s, cap 60 s, Math.random.
 * @example backoffDelay(3, { baseMs: 1000, capMs: 60000, random: () => 0.5 }) // 2000
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const cap = options.capMs ?? DEFAULT_BACKOFF_CAP_MS;
  const random = options.random ?? Math.random;
  // Clamp the exponent so that 2^n stays finite for absurd attempt counts.
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const ceiling = Math.min(cap, base * 2 ** exponent);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(ceiling * r);
}

/**
 * Reads a Retry-After header (delay-seconds or an HTTP-date) as milliseconds from `now`.
 * Returns undefined when the header is absent or unreadable; a date in the past gives 0.
 * @example parseRetryAfter("30") // 30000
 * @example parseRetryAfter("Wed, 26 Nov 2026 18:00:30 GMT", new Date("2026-11-26T18:00:00Z")) // 30000
 */
export function parseRetryAfter(
  header: string | null | undefined,
  now: Date | number = Date.now(),
): number | undefined {
  if (header === null || header === undefined) return undefined;
  const value = header.trim();
  if (value === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  // Only accept something that looks like an HTTP-date: Date.parse alone would take "1 2" as a date.
  if (!/[a-z]{3}/i.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  const from = typeof now === "number" ? now : now.getTime();
  return Math.max(0, at - from);
}

/** A sleep like {@link sleep}: rejects as soon as the signal aborts; tests inject one that records delays. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** What {@link retry} tells `onRetry` before it waits. */
export interface RetryEvent {
  /** The error of the attempt that just failed. */
  error: unknown;
  /** Number of the attempt that failed, 1 for the first call. */
  attempt: number;
  /** How long it will wait before the next attempt. */
  delayMs: number;
}

/** How {@link retry} decides, waits and reports. */
export interface RetryOptions {
  /** Attempts after the first one; 0 means call once. */
  retries: number;
  /** Whether this error is worth another attempt. `attempt` is the number of the failed attempt. Default: always. */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Delay before retry number `attempt` (1-based). Default {@link backoffDelay} with its defaults. */
  delayFor?: (error: unknown, attempt: number) => number;
  /** Default {@link sleep}; inject one that records delays in tests. */
  sleep?: Sleep;
  /** Stops retrying: an aborted signal rejects with its reason, before an attempt or during a wait. */
  signal?: AbortSignal;
  /** Called before each wait, e.g. to log the reason. */
  onRetry?: (event: RetryEvent) => void;
}

/**
 * Calls `fn` until it resolves, it throws an error that `shouldRetry` rejects, or `retries` retries failed;
 * then rethrows the last error unchanged, so callers can tell what happened from the error itself.
 * `fn` gets the attempt number (1-based).
 * @example
 * const value = await retry(() => send(batch), {
 *   retries: 5,
 *   shouldRetry: (error) => isRetriable(error),
 *   delayFor: (_error, attempt) => backoffDelay(attempt, { baseMs: 500, capMs: 30_000 }),
 *   onRetry: ({ error, attempt, delayMs }) => log.warn("send failed, retrying", { attempt, delayMs, error }),
 *   signal,
 * });
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const wait = options.sleep ?? sleep;
  const shouldRetry = options.shouldRetry ?? (() => true);
  const delayFor = options.delayFor ?? ((_error: unknown, attempt: number) => backoffDelay(attempt));
  const retries = Math.max(0, options.retries);
  const { signal } = options;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw stopReason(signal);
    try {
      return await fn(attempt);
    } catch (error) {
      if (signal?.aborted) throw stopReason(signal);
      if (attempt > retries || !shouldRetry(error, attempt)) throw error;
      const delayMs = Math.max(0, delayFor(error, attempt));
      options.onRetry?.({ error, attempt, delayMs });
      await wait(delayMs, signal);
    }
  }
}
