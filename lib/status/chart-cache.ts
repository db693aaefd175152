// Reuse of the chart's data (and the recent-points read) per pair until that pair's next tick, so that a page
// request costs no history read between two ticks however many requests come.
//
// A tick is told by the pair's newest source time in the latest cache, which every page request reads anyway
// (its snapshot), rather than by the in-process tick feed: the feed only carries the ticks this process
// consumed, while with several consumers (one per partition group) another one may store the pair's next tick;
// the latest cache sees them all. It also leaves the feed's listener count to the live streams it counts.

/** Reads kept per pair and key until the pair's newest tick changes, or until they are `maxAgeMs` old. */
export interface ChartCache {
  /**
   * The value kept for `pair` and `key` when it was built for the same `stamp` (the pair's newest tick time,
   * or null when unknown) less than `maxAgeMs` ago; else `build()`'s, kept in its place. Concurrent callers
   * share one build; a failed build is not kept.
   */
  get<T>(pair: string, key: string, stamp: number | null, build: () => Promise<T>): Promise<T>;
  /** How many builds ran (each a history read), for tests and benchmarks. */
  readonly builds: number;
}

interface Entry {
  stamp: number | null;
  at: number;
  value: Promise<unknown>;
}

/**
 * A chart cache. `maxAgeMs` bounds how far a kept chart's axis lags the clock while no tick comes (a stalled
 * pipeline); the status app passes its fetch interval. At most `maxPairs` pairs are kept (oldest dropped).
 * @example const charts = createChartCache({ maxAgeMs: 600_000, now: Date.now });
 */
export function createChartCache(options: {
  maxAgeMs: number;
  now: () => number;
  maxPairs?: number;
}): ChartCache {
  const maxPairs = options.maxPairs ?? 1000;
  const pairs = new Map<string, Map<string, Entry>>();
  let builds = 0;
  return {
    get<T>(pair: string, key: string, stamp: number | null, build: () => Promise<T>): Promise<T> {
      const now = options.now();
      let entries = pairs.get(pair);
      // A newer tick of the pair makes every kept read of it stale at once (each range, the table).
      if (entries && [...entries.values()].some((entry) => entry.stamp !== stamp)) {
        pairs.delete(pair);
        entries = undefined;
      }
      const kept = entries?.get(key);
      if (kept && now - kept.at < options.maxAgeMs) return kept.value as Promise<T>;
      if (!entries) {
        if (pairs.size >= maxPairs) pairs.delete(pairs.keys().next().value as string);
        entries = new Map();
        pairs.set(pair, entries);
      }
      builds++;
      const value = build();
      const entry: Entry = { stamp, at: now, value };
      entries.set(key, entry);
      value.catch(() => {
        if (pairs.get(pair)?.get(key) === entry) pairs.get(pair)?.delete(key);
      });
      return value;
    },
    get builds() {
      return builds;
    },
  };
}
