import { candlesOf, inRange, rangeLimit } from "../../candles.ts";
import { type HistoryStore, LATEST_MAX_PAIRS } from "../../ports.ts";
import type { Tick } from "../../tick.ts";
import { newestPerPair, tickIdentity, tickTime } from "../../tick.ts";

/**
 * History store in process memory, idempotent on the tick identity like the real ones; for unit tests.
 * @example const history = createMemoryHistory();
 */
export function createMemoryHistory(): HistoryStore & { rows: Map<string, Tick> } {
  const rows = new Map<string, Tick>();
  return {
    rows,
    async upsert(ticks) {
      let inserted = 0;
      for (const tick of ticks) {
        const id = tickIdentity(tick);
        if (!rows.has(id)) {
          rows.set(id, tick);
          inserted++;
        }
      }
      return { inserted };
    },
    async recent(asset, currency, limit = 100) {
      return [...rows.values()]
        .filter((tick) => tick.asset === asset && tick.currency === currency)
        .sort((a, b) => tickTime(b) - tickTime(a))
        .slice(0, limit);
    },
    async range(query) {
      const hits = [...rows.values()].filter((tick) => inRange(tick, query));
      return hits.sort((a, b) => tickTime(a) - tickTime(b)).slice(-rangeLimit(query));
    },
    async candles(query) {
      return candlesOf(
        [...rows.values()].filter((tick) => inRange(tick, query)),
        query.interval,
      );
    },
    async latest() {
      // Code-unit order, as SQLite's binary collation sorts.
      const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
      return newestPerPair([...rows.values()])
        .sort((a, b) => text(a.asset, b.asset) || text(a.currency, b.currency))
        .slice(0, LATEST_MAX_PAIRS);
    },
    async ping() {},
    async close() {},
  };
}
