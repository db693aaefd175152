// Cache reads that notice a latest cache which lost its keys (flushed, evicted, a new Redis) and have it
// rebuilt from the history, so that the API and the page answer from the history's newest ticks at once
// instead of 404 and "waiting" until each pair's next tick.
import { SinkError } from "../errors.ts";
import { withTimeout } from "../retry.ts";
import type { CacheReader, HistoryReader } from "./sinks.ts";

/**
 * Waits for `repair` at most `timeoutMs`, then goes on either way; never throws, since the reads that follow
 * answer with whatever the cache holds by then.
 * @example const repairLatest = boundedRepair(repair, 3000); await repairLatest();
 */
export function boundedRepair(repair: () => Promise<unknown>, timeoutMs: number): () => Promise<void> {
  return async () => {
    await withTimeout(timeoutMs, repair, () => new Error("repair still running")).catch(() => {});
  };
}

/**
 * The cache reader with misses repaired: an empty pair list, or a pair the cache lacks but the history knows,
 * runs `repairLatest` and reads again. A pair the repair did not bring back (skipped by its rate limit, the
 * cache refusing writes) is answered with the history's newest tick, so a known pair is never a 404. A pair
 * the history does not know costs one indexed history read and no repair; a history failure leaves the miss.
 * @example const cache = repairOnMiss(guardCache(redis), guardHistory(postgres), boundedRepair(repair, 3000));
 */
export function repairOnMiss(
  cache: CacheReader,
  history: Pick<HistoryReader, "recent">,
  repairLatest: () => Promise<void>,
): CacheReader {
  const newestInHistory = async (asset: string, currency: string) => {
    try {
      return (await history.recent(asset, currency, 1))[0] ?? null;
    } catch (error) {
      if (error instanceof SinkError) return null;
      throw error;
    }
  };
  return {
    async get(asset, currency) {
      const cached = await cache.get(asset, currency);
      if (cached) return cached;
      const known = await newestInHistory(asset, currency);
      if (!known) return null;
      await repairLatest();
      return (await cache.get(asset, currency)) ?? known;
    },
    async pairs() {
      const pairs = await cache.pairs();
      if (pairs.length > 0) return pairs;
      await repairLatest();
      return cache.pairs();
    },
    ping: () => cache.ping(),
  };
}
