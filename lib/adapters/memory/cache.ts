import type { LatestCache } from "../../ports.ts";
import type { Tick } from "../../tick.ts";
import { newestPerPair, tickKey, tickTime } from "../../tick.ts";
import { sortPairs } from "../redis/latest-script.ts";

/**
 * Latest cache in process memory, with the same write-if-newer rule as Redis; for tests and zero-setup runs.
 * @example const cache = createMemoryCache();
 */
export function createMemoryCache(): LatestCache & { entries: Map<string, Tick> } {
  const entries = new Map<string, Tick>();
  return {
    entries,
    async putIfNewer(ticks) {
      let updated = 0;
      for (const tick of newestPerPair(ticks)) {
        const held = entries.get(tickKey(tick));
        if (!held || tickTime(tick) > tickTime(held)) {
          entries.set(tickKey(tick), tick);
          updated++;
        }
      }
      return { updated };
    },
    async get(asset, currency) {
      return entries.get(tickKey({ asset, currency })) ?? null;
    },
    async pairs() {
      return sortPairs([...entries.keys()]);
    },
    async ping() {},
    async close() {},
  };
}
