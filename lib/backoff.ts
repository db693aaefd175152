/**
 * Retry helpers shared by the price source, the producer and the consumer: full-jitter backoff,
 * Retry-After parsing and a generic retry loop. Pure except for the default sleep.
 */

import { sleep } from "./sleep.ts";

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

/** A sleep that rejects with `signal.reason` as soon as the signal aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * Waits `ms` milliseconds on {@link sleep}; rejects with the signal's own reason when it aborts, so that a
 * caller can tell its abort from a failure.
 * @example await abortableSleep(1000, controller.signal);
 */
export const abortableSleep: Sleep = (ms, signal) =>
  sleep(Math.max(0, ms), signal).catch((error) => {
    throw signal?.aborted ? signal.reason : error;
  });

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
  /** Default {@link abortableSleep}; inject one that records delays in tests. */
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
 *   shouldRetry: (error) => isTransient(error),
 *   delayFor: (_error, attempt) => backoffDelay(attempt, { baseMs: 500, capMs: 30_000 }),
 *   onRetry: ({ error, attempt, delayMs }) => log.warn("send failed, retrying", { attempt, delayMs, error }),
 *   signal,
 * });
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? abortableSleep;
  const shouldRetry = options.shouldRetry ?? (() => true);
  const delayFor = options.delayFor ?? ((_error: unknown, attempt: number) => backoffDelay(attempt));
  const retries = Math.max(0, options.retries);
  const { signal } = options;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (attempt > retries || !shouldRetry(error, attempt)) throw error;
      const delayMs = Math.max(0, delayFor(error, attempt));
      options.onRetry?.({ error, attempt, delayMs });
      await sleep(delayMs, signal);
    }
  }
}
