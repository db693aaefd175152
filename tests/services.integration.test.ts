// The seed's "services" suite: the latest cache on real Redis and the history on real Postgres.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { createPostgresHistory, migratePostgres } from "../lib/adapters/postgres/history.ts";
import { createRedisCache } from "../lib/adapters/redis/cache.ts";
import { latestKey, PAIRS_KEY } from "../lib/adapters/redis/latest-script.ts";
import { cacheContract } from "./contracts/cache-contract.ts";
import { historyContract } from "./contracts/history-contract.ts";
import { createTestDatabase, useStack } from "./support/stack.ts";
import { makeTick } from "./support/ticks.ts";

historyContract("Postgres (Bun.sql)", async () => {
  const db = await createTestDatabase("contract");
  await migratePostgres(db.url);
  return { store: createPostgresHistory(db.url), dispose: () => db.drop() };
});

cacheContract("Redis (Bun's client)", async () => {
  const cache = createRedisCache((await useStack()).redisUrl);
  return {
    cache,
    dispose: async (assets) => {
      for (const asset of assets) {
        const pairs = (await cache.pairs()).filter((p) => p.asset === asset);
        for (const { currency } of pairs) await cache.client.del(latestKey(asset, currency));
        if (pairs.length)
          await cache.client.send("SREM", [PAIRS_KEY, ...pairs.map((p) => `${asset}:${p.currency}`)]);
      }
    },
  };
});

describe("Postgres history", () => {
  let db: { url: string; drop(): Promise<void> };
  let history: ReturnType<typeof createPostgresHistory>;

  beforeAll(async () => {
    db = await createTestDatabase("history");
    expect(await migratePostgres(db.url)).toEqual(["20261126000000_price_history.sql"]);
    history = createPostgresHistory(db.url);
  });
  afterAll(async () => {
    await history?.close();
    await db?.drop();
  });

  test("migrating twice is a no-op", async () => {
    expect(await migratePostgres(db.url)).toEqual([]);
  });

  test("refuses to store a non-positive price even if one got past validation", async () => {
    await expect(history.upsert([{ ...makeTick({ asset: "bad" }), price: 0 }])).rejects.toThrow(/history/);
  });

  test("stores a source time written with an offset or microseconds as its millisecond, one row per identity", async () => {
    const tick = makeTick({ asset: "offsets" }, 7); // 2026-11-26T18:07:00.000Z
    const sameInstant = { ...tick, sourceUpdatedAt: "2026-11-26T19:07:00.000400+01:00", price: 2 };
    expect(await history.upsert([tick, sameInstant])).toEqual({ inserted: 1 });
    const [stored] = await history.recent("offsets", "usd", 10);
    expect(stored?.sourceUpdatedAt).toBe(tick.sourceUpdatedAt);
    expect(stored?.price).toBe(tick.price);
  });

  test("says to run the migration when the table is missing", async () => {
    const empty = await createTestDatabase("nomigration");
    const store = createPostgresHistory(empty.url);
    try {
      const error = await store.upsert([makeTick()]).catch((e) => e);
      expect(error.hint).toContain("bun run migrate");
    } finally {
      await store.close();
      await empty.drop();
    }
  });
});

describe("Redis latest cache", () => {
  let redisUrl: string;
  let cache: ReturnType<typeof createRedisCache>;
  const asset = `test-${Date.now().toString(36)}`;

  beforeAll(async () => {
    redisUrl = (await useStack()).redisUrl;
    cache = createRedisCache(redisUrl);
  });
  afterAll(async () => {
    await cache.client.send("DEL", [latestKey(asset, "usd"), latestKey(asset, "eur")]);
    await cache.client.send("SREM", [PAIRS_KEY, `${asset}:usd`, `${asset}:eur`]);
    await cache.close();
  });

  test("reloads its script after Redis forgot it", async () => {
    await cache.client.send("SCRIPT", ["FLUSH"]);
    expect(await cache.putIfNewer([makeTick({ asset }, 9)])).toEqual({ updated: 1 });
  });

  test("fails with a hint when Redis cannot be reached", async () => {
    const down = createRedisCache("redis://127.0.0.1:1");
    const error = await down.putIfNewer([makeTick({ asset })]).catch((e) => e);
    expect(error.message).toContain("cache");
    expect(error.hint).toContain("REDIS_URL");
    await down.close();
    expect(await new RedisClient(redisUrl).ping()).toBe("PONG");
  });
});
