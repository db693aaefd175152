// The seed's "services" suite: the latest cache on real Redis and the history on real Postgres.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { latestKey, PAIRS_KEY } from "../lib/cache/latest-script.ts";
import { createRedisCache } from "../lib/cache/redis.ts";
import { createPostgresHistory, migratePostgres } from "../lib/history/postgres.ts";
import { createTestDatabase, useStack } from "./support/stack.ts";
import { makeTick } from "./support/ticks.ts";

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

  test("inserts a batch in one statement and ignores ticks it already holds", async () => {
    const batch = [makeTick({}, 1), makeTick({}, 2), makeTick({ currency: "eur" }, 1)];
    expect(await history.upsert(batch)).toEqual({ inserted: 3 });
    expect(await history.upsert([...batch, makeTick({}, 3)])).toEqual({ inserted: 1 });
    const [{ count }] = await history.sql`select count(*)::int as count from price_history`;
    expect(count).toBe(4);
  });

  test("keeps full precision of small prices and reads ticks back newest first", async () => {
    const tick = makeTick(
      { asset: "tiny", price: 0.000000123456789, marketCap: null, change24hPct: -0.5 },
      7,
    );
    await history.upsert([tick, makeTick({ asset: "tiny", price: 0.0000002 }, 6)]);
    const recent = await history.recent("tiny", "usd", 10);
    expect(recent).toHaveLength(2);
    expect(recent[0]).toEqual(tick);
  });

  test("refuses to store a non-positive price even if one got past validation", async () => {
    await expect(history.upsert([{ ...makeTick({ asset: "bad" }), price: 0 }])).rejects.toThrow(/history/);
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

  test("keeps the newest tick per pair and never moves backwards", async () => {
    expect(await cache.putIfNewer([makeTick({ asset }, 2), makeTick({ asset, currency: "eur" }, 1)])).toEqual(
      {
        updated: 2,
      },
    );
    expect(await cache.putIfNewer([makeTick({ asset }, 1)])).toEqual({ updated: 0 });
    expect(await cache.putIfNewer([makeTick({ asset }, 2)])).toEqual({ updated: 0 });
    expect((await cache.get(asset, "usd"))?.sourceUpdatedAt).toBe("2026-11-26T18:02:00.000Z");
    expect(await cache.putIfNewer([makeTick({ asset }, 4), makeTick({ asset }, 3)])).toEqual({ updated: 1 });
    expect((await cache.get(asset, "usd"))?.sourceUpdatedAt).toBe("2026-11-26T18:04:00.000Z");
  });

  test("records every pair it has seen", async () => {
    const pairs = await cache.client.send("SMEMBERS", [PAIRS_KEY]);
    expect(pairs).toEqual(expect.arrayContaining([`${asset}:usd`, `${asset}:eur`]));
  });

  test("reloads its script after Redis forgot it", async () => {
    await cache.client.send("SCRIPT", ["FLUSH"]);
    expect(await cache.putIfNewer([makeTick({ asset }, 9)])).toEqual({ updated: 1 });
  });

  test("returns null for a pair it has never seen", async () => {
    expect(await cache.get(asset, "jpy")).toBeNull();
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
