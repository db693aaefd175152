// Read access to the sinks for the status app, bounded in time and with one error type, so that every route
// can turn any sink trouble into a 503 without leaking the adapter's message.
import { SinkError } from "../errors.ts";
import type { HistoryStore, LatestCache } from "../ports.ts";
import { withTimeout } from "../retry.ts";

/** How long a status request waits for a sink before answering 503. */
export const DEFAULT_SINK_TIMEOUT_MS = 3000;

/** The cache methods the status app reads. */
export type CacheReader = Pick<LatestCache, "get" | "pairs" | "ping">;
/** The history methods the status app reads. */
export type HistoryReader = Pick<HistoryStore, "recent" | "range" | "candles" | "ping">;

// Any failure, the deadline included, becomes a SinkError naming the sink: routes answer it with a 503.
async function guarded<T>(sink: "cache" | "history", call: () => Promise<T>, timeoutMs: number): Promise<T> {
  try {
    return await withTimeout(timeoutMs, call, () => new SinkError(sink, `no answer within ${timeoutMs} ms`));
  } catch (error) {
    throw error instanceof SinkError ? error : new SinkError(sink, "read failed", { cause: error });
  }
}

/**
 * The cache's read methods, each failing with {@link SinkError} ("cache") on error or after `timeoutMs`.
 * @example const cache = guardCache(redisCache, 3000);
 */
export function guardCache(cache: LatestCache, timeoutMs = DEFAULT_SINK_TIMEOUT_MS): CacheReader {
  return {
    get: (asset, currency) => guarded("cache", () => cache.get(asset, currency), timeoutMs),
    pairs: () => guarded("cache", () => cache.pairs(), timeoutMs),
    ping: () => guarded("cache", () => cache.ping(), timeoutMs),
  };
}

/**
 * The history's read methods, each failing with {@link SinkError} ("history") on error or after `timeoutMs`.
 * @example const history = guardHistory(postgresHistory, 3000);
 */
export function guardHistory(history: HistoryStore, timeoutMs = DEFAULT_SINK_TIMEOUT_MS): HistoryReader {
  return {
    recent: (asset, currency, limit) =>
      guarded("history", () => history.recent(asset, currency, limit), timeoutMs),
    range: (query) => guarded("history", () => history.range(query), timeoutMs),
    candles: (query) => guarded("history", () => history.candles(query), timeoutMs),
    ping: () => guarded("history", () => history.ping(), timeoutMs),
  };
}
