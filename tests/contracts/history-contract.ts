// One behaviour for every history store: run by each adapter's test file with its own factory.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { HistoryStore } from "../../lib/ports.ts";
import { makeTick } from "../support/ticks.ts";

/** A store under test and how to dispose of it (drop its database, delete its file). */
export interface HistoryUnderTest {
  store: HistoryStore;
  dispose(): Promise<void>;
}

/**
 * Declares the history-store contract for one adapter. Each run uses its own asset names, so stores that
 * share a database with other tests stay independent.
 * @example historyContract("Postgres", async () => ({ store, dispose }));
 */
export function historyContract(name: string, create: () => Promise<HistoryUnderTest>) {
  describe(`history store contract: ${name}`, () => {
    let subject: HistoryUnderTest;
    const asset = `h${crypto.randomUUID().slice(0, 8)}`;
    const at = (minute: number, price: number, currency = "usd") =>
      makeTick({ asset, currency, price }, minute);

    beforeAll(async () => {
      subject = await create();
    });
    afterAll(async () => {
      await subject?.store.close();
      await subject?.dispose();
    });

    test("answers a ping", async () => {
      await subject.store.ping();
    });

    test("stores a batch and counts only new ticks on a replay", async () => {
      const batch = [at(0, 1), at(1, 2), at(2, 3), at(0, 5, "eur")];
      expect(await subject.store.upsert(batch)).toEqual({ inserted: 4 });
      expect(await subject.store.upsert([...batch, at(3, 4)])).toEqual({ inserted: 1 });
      expect(await subject.store.upsert([])).toEqual({ inserted: 0 });
    });

    test("keeps the first stored version of a tick identity", async () => {
      await subject.store.upsert([{ ...at(0, 999) }]);
      expect((await subject.store.recent(asset, "usd", 10)).find((t) => t.price === 999)).toBeUndefined();
    });

    test("reads recent ticks newest first, every field intact", async () => {
      const recent = await subject.store.recent(asset, "usd", 2);
      expect(recent).toEqual([at(3, 4), at(2, 3)]);
    });

    test("round-trips small prices, null metrics and negative changes exactly", async () => {
      const tick = { ...at(30, 0.000000123456789), marketCap: null, volume24h: 0, change24hPct: -12.3456789 };
      await subject.store.upsert([tick]);
      expect((await subject.store.recent(asset, "usd", 1))[0]).toEqual(tick);
    });

    // These two use assets of their own: the tests around them read what the ones before them stored.
    test("round-trips a source holding a tab, a newline, a backslash and quotes exactly", async () => {
      const own = `s${crypto.randomUUID().slice(0, 8)}`;
      const tick = makeTick({ asset: own, source: "a\tb\nc\\d\re\"f'g \\N" }, 31);
      expect(await subject.store.upsert([tick])).toEqual({ inserted: 1 });
      expect(await subject.store.recent(own, "usd", 1)).toEqual([tick]);
    });

    test("stores the new ticks of a batch that meets stored ones, then a batch of new ones again", async () => {
      const own = `r${crypto.randomUUID().slice(0, 8)}`;
      const tick = (minute: number, price: number) => makeTick({ asset: own, price }, minute);
      expect(await subject.store.upsert([tick(0, 1), tick(1, 2)])).toEqual({ inserted: 2 });
      expect(await subject.store.upsert([tick(1, 9), tick(2, 3), tick(3, 4)])).toEqual({ inserted: 2 });
      expect(await subject.store.upsert([tick(4, 5), tick(5, 6)])).toEqual({ inserted: 2 });
      const stored = await subject.store.range({ asset: own, currency: "usd" });
      expect(stored.map((t) => t.price)).toEqual([1, 2, 3, 4, 5, 6]);
    });

    test("reads a window oldest first, from inclusive and to exclusive", async () => {
      const ticks = await subject.store.range({
        asset,
        currency: "usd",
        from: new Date(at(1, 0).sourceUpdatedAt),
        to: new Date(at(3, 0).sourceUpdatedAt),
      });
      expect(ticks.map((t) => t.price)).toEqual([2, 3]);
    });

    test("keeps the most recent ticks of a window when a limit cuts it", async () => {
      const ticks = await subject.store.range({ asset, currency: "usd", limit: 2 });
      expect(ticks.map((t) => t.sourceUpdatedAt)).toEqual([
        at(3, 0).sourceUpdatedAt,
        at(30, 0).sourceUpdatedAt,
      ]);
    });

    test("returns nothing for a pair it has never seen", async () => {
      expect(await subject.store.range({ asset, currency: "jpy" })).toEqual([]);
      expect(await subject.store.recent(asset, "jpy")).toEqual([]);
    });

    test("gives the newest tick of every pair, whole, sorted by asset then currency", async () => {
      const [first, second] = [`${asset}a`, `${asset}b`];
      const tick = (other: string, currency: string, minute: number) =>
        makeTick({ asset: other, currency, price: 100 + minute }, minute);
      // Out of order within the batch: the store, not the arrival order, decides which tick is newest.
      await subject.store.upsert([
        tick(first, "usd", 5),
        tick(first, "usd", 9),
        tick(first, "usd", 7),
        tick(first, "eur", 3),
        tick(second, "usd", 1),
        tick(second, "gbp", 4),
      ]);
      const mine = (await subject.store.latest()).filter((t) => t.asset.startsWith(asset));
      expect(mine).toEqual([
        at(0, 5, "eur"),
        { ...at(30, 0.000000123456789), marketCap: null, volume24h: 0, change24hPct: -12.3456789 },
        tick(first, "eur", 3),
        tick(first, "usd", 9),
        tick(second, "gbp", 4),
        tick(second, "usd", 1),
      ]);
    });

    test("keeps the newest tick of a pair when an older one is replayed or arrives late", async () => {
      const pair = `${asset}a`;
      // A replay of a stored identity with another price, then a tick older than the newest but never seen.
      await subject.store.upsert([
        makeTick({ asset: pair, price: 1 }, 9),
        makeTick({ asset: pair, price: 2 }, 8),
      ]);
      const newest = (await subject.store.latest()).find((t) => t.asset === pair && t.currency === "usd");
      expect(newest).toEqual(makeTick({ asset: pair, currency: "usd", price: 109 }, 9));
    });

    test("computes OHLC candles on UTC boundaries", async () => {
      const candles = await subject.store.candles({ asset, currency: "usd", interval: "5m" });
      expect(candles).toEqual([
        { start: "2026-11-26T18:00:00.000Z", open: 1, high: 4, low: 1, close: 4, count: 4 },
        {
          start: "2026-11-26T18:30:00.000Z",
          open: 0.000000123456789,
          high: 0.000000123456789,
          low: 0.000000123456789,
          close: 0.000000123456789,
          count: 1,
        },
      ]);
      const hourly = await subject.store.candles({
        asset,
        currency: "usd",
        interval: "1h",
        from: new Date(at(1, 0).sourceUpdatedAt),
      });
      expect(hourly).toEqual([
        {
          start: "2026-11-26T18:00:00.000Z",
          open: 2,
          high: 4,
          low: 0.000000123456789,
          close: 0.000000123456789,
          count: 4,
        },
      ]);
    });
  });
}
