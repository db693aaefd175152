// A latest cache that lost its keys, on the real stack: ticks stored in Postgres and Redis, the Redis db
// flushed, and the repair (in process, then consumer.ts at start and on a status read) brings every pair back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { createPostgresHistory, migratePostgres } from "../lib/adapters/postgres/history.ts";
import { createRedisCache } from "../lib/adapters/redis/cache.ts";
import { latestKey } from "../lib/adapters/redis/latest-script.ts";
import { silentLogger } from "../lib/log.ts";
import { repairLatest } from "../lib/pipeline/latest-repair.ts";
import type { Tick } from "../lib/tick.ts";
import { type EntryProcess, startEntry, waitFor } from "./support/processes.ts";
import {
  createTestDatabase,
  createTestTopic,
  deleteTopics,
  type TestDatabase,
  useStack,
} from "./support/stack.ts";
import { makeTick } from "./support/ticks.ts";

/** A logical Redis db of this file's own: it is flushed on purpose, so it must hold nobody else's keys. */
const REDIS_DB = 10;
const ASSETS = ["beldex", "bitcoin", "ethereum"];
const CURRENCIES = ["usd", "eur"];
const PAIRS = ASSETS.flatMap((asset) => CURRENCIES.map((currency) => ({ asset, currency })));

// Ten ticks a pair, minute 0 to 9, stored newest first so that insertion order cannot pass for recency.
function ticks(): Tick[] {
  return PAIRS.flatMap(({ asset, currency }, index) =>
    Array.from({ length: 10 }, (_, minute) =>
      makeTick({ asset, currency, price: (index + 1) * 100 + minute }, 9 - minute),
    ),
  );
}
const newest = (asset: string, currency: string) =>
  ticks().find((tick) => tick.asset === asset && tick.currency === currency) as Tick;

let db: TestDatabase;
let redisUrl: string;
let redis: RedisClient;
let history: ReturnType<typeof createPostgresHistory>;
let cache: ReturnType<typeof createRedisCache>;
let topic: string;
let consumer: EntryProcess | undefined;

async function cached(asset: string, currency: string): Promise<Tick | null> {
  const raw = await redis.hget(latestKey(asset, currency), "tick");
  return raw ? (JSON.parse(raw) as Tick) : null;
}

beforeAll(async () => {
  const stack = await useStack();
  db = await createTestDatabase("latest_repair");
  await migratePostgres(db.url);
  history = createPostgresHistory(db.url);
  redisUrl = `${stack.redisUrl}/${REDIS_DB}`;
  redis = new RedisClient(redisUrl);
  await redis.send("FLUSHDB", []);
  cache = createRedisCache(redisUrl);
  topic = await createTestTopic("latest-repair", 1);
  await history.upsert(ticks());
  await cache.putIfNewer(ticks());
});

afterAll(async () => {
  consumer?.proc.kill("SIGKILL");
  await consumer?.exited;
  await redis?.send("FLUSHDB", []).catch(() => {});
  redis?.close();
  await cache?.close();
  await history?.close();
  await db?.drop();
  if (topic) await deleteTopics([topic, `${topic}.dlq`]);
});

describe("latest cache repair on Redis and Postgres", () => {
  test("restores every pair after FLUSHDB, each with the history's newest tick", async () => {
    expect(await cache.pairs()).toHaveLength(PAIRS.length);
    await redis.send("FLUSHDB", []);
    expect(await cache.pairs()).toEqual([]);

    expect(await repairLatest(history, cache, silentLogger)).toEqual({
      known: PAIRS.length,
      restored: PAIRS.length,
    });
    expect(await cache.pairs()).toEqual(
      [...PAIRS].sort((a, b) => a.asset.localeCompare(b.asset) || a.currency.localeCompare(b.currency)),
    );
    for (const { asset, currency } of PAIRS)
      expect(await cache.get(asset, currency)).toEqual(newest(asset, currency));
  });

  test("leaves a newer cached tick alone and does not let a late older tick win", async () => {
    const newer = makeTick({ asset: "beldex", currency: "usd", price: 4242 }, 30);
    await cache.putIfNewer([newer]);
    // A tick older than every stored one, arriving late: stored, but never the newest.
    await history.upsert([makeTick({ asset: "bitcoin", currency: "eur", price: 1 }, -60)]);
    await redis.send("DEL", [latestKey("bitcoin", "eur")]);

    expect(await repairLatest(history, cache, silentLogger)).toEqual({ known: PAIRS.length, restored: 1 });
    expect(await cache.get("beldex", "usd")).toEqual(newer);
    expect(await cache.get("bitcoin", "eur")).toEqual(newest("bitcoin", "eur"));
  });

  test("consumer.ts restores a flushed cache at start, and its status API on a read miss", async () => {
    await redis.send("FLUSHDB", []);
    const stack = await useStack();
    consumer = startEntry("consumer.ts", {
      KAFKA_BROKERS: stack.kafka.plaintext,
      KAFKA_TOPIC: topic,
      KAFKA_CONSUMER_GROUP: `${topic}-group`,
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      ASSETS: ASSETS.join(","),
      VS_CURRENCIES: CURRENCIES.join(","),
      FETCH_INTERVAL: "3600",
      LOG_LEVEL: "info",
      PORT: "0",
    });
    const running = consumer;
    await waitFor("the consumer to start", () => running.logs().some((l) => l.msg === "consumer started"));
    const restored = running.logs().find((l) => l.msg === "latest cache restored from history");
    expect(restored).toMatchObject({ pairs: PAIRS.length, known: PAIRS.length });
    for (const { asset, currency } of PAIRS) expect((await cached(asset, currency))?.price).toBeNumber();
    expect(await cached("ethereum", "eur")).toEqual(newest("ethereum", "eur"));

    // Flushed while the consumer runs: the API still answers every pair at once (from the history while the
    // repair is rate-limited), and the cache is rebuilt by the first miss after the limit.
    const line = running.logs().find((l) => l.msg === "status page");
    const base = String(line?.url);
    await redis.send("FLUSHDB", []);
    const res = await fetch(`${base}api/latest/bitcoin?currency=usd`);
    expect(res.status).toBe(200);
    expect((await res.json()).ticks).toEqual([newest("bitcoin", "usd")]);
    const pairs = await waitFor(
      "the pairs to come back after the repair's rate limit",
      async () => {
        const body = (await (await fetch(`${base}api/pairs`)).json()) as { pairs: unknown[] };
        return body.pairs.length === PAIRS.length ? body.pairs : null;
      },
      45_000,
    );
    expect(pairs).toHaveLength(PAIRS.length);
    for (const { asset, currency } of PAIRS) expect(await cached(asset, currency)).not.toBeNull();
    const page = await (await fetch(base)).text();
    expect(page).not.toContain("Waiting for the first tick");

    running.proc.kill("SIGTERM");
    expect(await running.exited).toBe(0);
  }, 90_000);
});
