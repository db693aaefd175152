// One behaviour for every latest cache: run by each adapter's test file with its own factory.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { LatestCache } from "../../lib/ports.ts";
import { makeTick } from "../support/ticks.ts";

/** A cache under test and how to remove what the contract wrote (keys of `assets`). */
export interface CacheUnderTest {
  cache: LatestCache;
  dispose(assets: string[]): Promise<void>;
}

/**
 * Declares the latest-cache contract for one adapter; it writes only pairs of its own random assets.
 * @example cacheContract("Redis", async () => ({ cache, dispose }));
 */
export function cacheContract(name: string, create: () => Promise<CacheUnderTest>) {
  describe(`latest cache contract: ${name}`, () => {
    let subject: CacheUnderTest;
    const asset = `c${crypto.randomUUID().slice(0, 8)}`;
    const other = `${asset}-b`;

    beforeAll(async () => {
      subject = await create();
    });
    afterAll(async () => {
      await subject?.dispose([asset, other]);
      await subject?.cache.close();
    });

    test("answers a ping", async () => {
      await subject.cache.ping();
    });

    test("returns null for a pair it has never seen", async () => {
      expect(await subject.cache.get(asset, "usd")).toBeNull();
    });

    test("writes the newest tick per pair of a batch, in one call", async () => {
      const result = await subject.cache.putIfNewer([
        makeTick({ asset }, 2),
        makeTick({ asset }, 5),
        makeTick({ asset }, 1),
        makeTick({ asset: other, currency: "eur" }, 1),
      ]);
      expect(result).toEqual({ updated: 2 });
      expect(await subject.cache.get(asset, "usd")).toEqual(makeTick({ asset }, 5));
    });

    test("never moves the latest price backwards, nor rewrites an equal one", async () => {
      expect(await subject.cache.putIfNewer([makeTick({ asset }, 4)])).toEqual({ updated: 0 });
      expect(await subject.cache.putIfNewer([makeTick({ asset, price: 123 }, 5)])).toEqual({ updated: 0 });
      expect((await subject.cache.get(asset, "usd"))?.price).toBe(makeTick({ asset }, 5).price);
      expect(await subject.cache.putIfNewer([makeTick({ asset }, 6)])).toEqual({ updated: 1 });
    });

    test("lists the pairs it holds, sorted", async () => {
      const mine = (await subject.cache.pairs()).filter((p) => p.asset.startsWith(asset));
      expect(mine).toEqual([
        { asset, currency: "usd" },
        { asset: other, currency: "eur" },
      ]);
    });

    test("accepts an empty batch", async () => {
      expect(await subject.cache.putIfNewer([])).toEqual({ updated: 0 });
    });
  });
}
