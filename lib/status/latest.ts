// The latest tick of every cached pair, read once per request by the page, /readyz and /metrics.
import type { Tick } from "../tick.ts";
import type { CacheReader } from "./sinks.ts";

/**
 * The latest tick of every pair the cache knows, sorted by asset then currency; throws SinkError like the cache.
 * @example const ticks = await latestTicks(ctx.cache);
 */
export async function latestTicks(cache: CacheReader): Promise<Tick[]> {
  const pairs = await cache.pairs();
  const ticks = await Promise.all(pairs.map(({ asset, currency }) => cache.get(asset, currency)));
  return ticks.filter((tick): tick is Tick => tick !== null);
}
