import type { Candle, CandleInterval, RangeQuery } from "./ports.ts";
import { CANDLE_INTERVALS } from "./ports.ts";
import type { Tick } from "./tick.ts";
import { tickTime } from "./tick.ts";

/** Default and largest number of ticks a range query returns. */
export const RANGE_LIMIT = { default: 1000, max: 10_000 } as const;

/** The effective limit of a range query: default 1000, at most 10000. */
export function rangeLimit(query: RangeQuery): number {
  return Math.min(Math.max(1, Math.floor(query.limit ?? RANGE_LIMIT.default)), RANGE_LIMIT.max);
}

/** Whether a tick falls in the query's pair and window. */
export function inRange(tick: Tick, query: RangeQuery): boolean {
  const at = tickTime(tick);
  return (
    tick.asset === query.asset &&
    tick.currency === query.currency &&
    (!query.from || at >= query.from.getTime()) &&
    (!query.to || at < query.to.getTime())
  );
}

/**
 * Folds ticks (any order) into OHLC candles on UTC multiples of the interval; the reference for every store.
 * @example candlesOf(ticks, "1h")
 */
export function candlesOf(ticks: Tick[], interval: CandleInterval): Candle[] {
  const width = CANDLE_INTERVALS[interval];
  const buckets = new Map<number, Candle>();
  for (const tick of [...ticks].sort((a, b) => tickTime(a) - tickTime(b))) {
    const start = Math.floor(tickTime(tick) / width) * width;
    const candle = buckets.get(start);
    if (!candle)
      buckets.set(start, {
        start: new Date(start).toISOString(),
        open: tick.price,
        high: tick.price,
        low: tick.price,
        close: tick.price,
        count: 1,
      });
    else {
      candle.high = Math.max(candle.high, tick.price);
      candle.low = Math.min(candle.low, tick.price);
      candle.close = tick.price;
      candle.count++;
    }
  }
  return [...buckets.values()];
}
