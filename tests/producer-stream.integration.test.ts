// Issue 13 end to end: fake CoinGecko stream (and REST) -> producer.ts -> Kafka -> consumer.ts -> Redis + Postgres.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient, SQL } from "bun";
import { migratePostgres } from "../lib/adapters/postgres/history.ts";
import { latestKey } from "../lib/adapters/redis/latest-script.ts";
import type { Tick } from "../lib/tick.ts";
import { consumerEnv } from "./support/consumer-env.ts";
import { type FakeCoinGecko, startFakeCoinGecko } from "./support/fake-coingecko.ts";
import { type FakeCoinGeckoStream, startFakeCoinGeckoStream } from "./support/fake-coingecko-stream.ts";
import { type EntryProcess, runEntry, startEntry, waitFor } from "./support/processes.ts";
import {
  createTestDatabase,
  createTestTopic,
  deleteTopics,
  type StackInfo,
  useStack,
} from "./support/stack.ts";

const KEY = "CG-pro-stream-test-key-7781";
const ASSETS = ["beldex", "bitcoin", "ethereum"];
const CURRENCIES = ["usd", "eur"];
const INTERVAL_S = 3;
const REDIS_DB = 13;

let stack: StackInfo;
let rest: FakeCoinGecko;
let stream: FakeCoinGeckoStream;
let topic: string;
let db: { url: string; drop(): Promise<void> };
let sql: SQL;
let redis: RedisClient;
let consumer: EntryProcess | undefined;
let producer: EntryProcess | undefined;

async function latest(asset: string, currency: string): Promise<Tick | null> {
  const raw = await redis.hget(latestKey(asset, currency), "tick");
  return raw ? (JSON.parse(raw) as Tick) : null;
}

async function rows(): Promise<
  { asset: string; currency: string; at: Date; price: string; source: string }[]
> {
  return sql`select asset, currency, source_updated_at as at, price, source from price_history order by source_updated_at`;
}

const restRequests = () => rest.requests.filter((r) => r.path.endsWith("/simple/price"));

beforeAll(async () => {
  stack = await useStack();
  rest = await startFakeCoinGecko({ requireKey: { plan: "pro", key: KEY } });
  stream = await startFakeCoinGeckoStream({ requireKey: KEY, faults: { shuffledKeys: true } });
  topic = await createTestTopic("stream", 3);
  db = await createTestDatabase("stream");
  await migratePostgres(db.url);
  sql = new SQL(db.url);
  redis = new RedisClient(`${stack.redisUrl}/${REDIS_DB}`);
  await redis.send("FLUSHDB", []);
  const pairs = {
    ASSETS: ASSETS.join(","),
    VS_CURRENCIES: CURRENCIES.join(","),
    FETCH_INTERVAL: String(INTERVAL_S),
  };
  consumer = startEntry("consumer.ts", {
    ...consumerEnv(stack, { topic, databaseUrl: db.url, redisDb: REDIS_DB, sessionTimeoutMs: 6_000 }),
    ...pairs,
  });
  producer = startEntry("producer.ts", {
    KAFKA_BROKERS: stack.kafka.plaintext,
    KAFKA_TOPIC: topic,
    COINGECKO_PLAN: "pro",
    COINGECKO_API_KEY: KEY,
    COINGECKO_BASE_URL: rest.url,
    COINGECKO_STREAM: "true",
    COINGECKO_STREAM_URL: stream.url,
    LOG_LEVEL: "debug",
    ...pairs,
  });
}, 60_000);

afterAll(async () => {
  producer?.proc.kill("SIGTERM");
  await producer?.exited;
  consumer?.proc.kill("SIGTERM");
  await consumer?.exited;
  await redis?.send("FLUSHDB", []).catch(() => {});
  redis?.close();
  await sql?.close();
  await db?.drop();
  await deleteTopics([topic, `${topic}.dlq`]);
  await stream?.stop();
  await rest?.stop();
});

describe("producer with COINGECKO_STREAM=true", () => {
  test("3 coins in 2 currencies: streamed ticks flow end to end, each stored once, the newest the latest", async () => {
    await waitFor("the stream subscribed", () => stream.subscribers().length === 1, 20_000);
    const [connection] = stream.subscribers();
    expect(connection).toMatchObject({ keyVia: "header", coins: ASSETS, currencies: CURRENCIES });
    // The poll at start gave every pair a REST price first.
    await waitFor(
      "REST prices cached",
      async () => (await latest("beldex", "eur"))?.source === "coingecko",
      20_000,
    );

    const base = Date.now() / 1000;
    const sent = new Map<string, { price: number; t: number }>();
    for (const [round, step] of [0, 1].entries())
      for (const [a, asset] of ASSETS.entries())
        for (const [c, currency] of CURRENCIES.entries()) {
          const t = Math.round((base + round + (a * 2 + c) / 10) * 1e6) / 1e6;
          const price = 100 * (a + 1) + c + step / 100;
          expect(stream.emit({ coin: asset, vs: currency, price, t }).sentTo).toBe(1);
          sent.set(`${asset}:${currency}@${new Date(Math.round(t * 1000)).toISOString()}`, { price, t });
        }
    await waitFor(
      "every pair's newest streamed price in Redis",
      async () => {
        for (const asset of ASSETS)
          for (const currency of CURRENCIES) {
            const cached = await latest(asset, currency);
            if (cached?.source !== "coingecko-stream" || cached.price % 1 === 0) return false;
          }
        return true;
      },
      15_000,
    );
    const stored = (await rows()).filter((r) => r.source === "coingecko-stream");
    const keys = stored.map((r) => `${r.asset}:${r.currency}@${r.at.toISOString()}`);
    expect(new Set(keys)).toEqual(new Set(sent.keys()));
    expect(keys).toHaveLength(sent.size);
    for (const r of stored)
      expect(Number(r.price)).toBe(
        sent.get(`${r.asset}:${r.currency}@${r.at.toISOString()}`)?.price ?? Number.NaN,
      );
    expect(await latest("ethereum", "eur")).toMatchObject({ price: 301.01, source: "coingecko-stream" });
  });

  test("the socket killed: REST polling takes over within one interval, and the stream is resubscribed when it returns", async () => {
    const subscribedBefore = stream.connections.filter((c) => c.coins.length > 0).length;
    stream.faults.refuse = true;
    stream.disconnect();
    const killedAt = Date.now();
    const polledBefore = restRequests().length;
    // New REST prices, newer than anything streamed, so that the poll's ticks become the latest.
    const updatedAt = Math.ceil(Date.now() / 1000) + 2;
    for (const asset of ASSETS)
      for (const currency of CURRENCIES)
        rest.setPrice(asset, currency, { price: 7 + ASSETS.indexOf(asset), updatedAt });
    await waitFor("a REST poll", () => restRequests().length > polledBefore, INTERVAL_S * 1000 + 1_000);
    const firstPoll = restRequests()[polledBefore];
    expect((firstPoll?.at ?? Number.POSITIVE_INFINITY) - killedAt).toBeLessThanOrEqual(
      INTERVAL_S * 1000 + 500,
    );
    expect(firstPoll?.headers["x-cg-pro-api-key"]).toBe(KEY);
    await waitFor(
      "REST prices the latest",
      async () =>
        (await latest("bitcoin", "usd"))?.price === 8 && (await latest("ethereum", "eur"))?.price === 9,
      10_000,
    );
    expect((await latest("beldex", "usd"))?.source).toBe("coingecko");

    stream.faults.refuse = false;
    await waitFor("subscribed again", () => stream.subscribers().length === 1, 35_000);
    expect(stream.connections.filter((c) => c.coins.length > 0).length).toBe(subscribedBefore + 1);
    const t = updatedAt + 5.25;
    stream.emit({ coin: "bitcoin", vs: "usd", price: 95_000.5, t });
    await waitFor(
      "the streamed price the latest again",
      async () => (await latest("bitcoin", "usd"))?.price === 95_000.5,
      10_000,
    );
    expect(await latest("bitcoin", "usd")).toMatchObject({
      source: "coingecko-stream",
      sourceUpdatedAt: new Date(t * 1000).toISOString(),
    });
  }, 60_000);

  test("a partial subscription: the pairs the live stream leaves silent are polled over REST on each boundary", async () => {
    stream.faults.partialCoins = 1;
    const subscribedBefore = stream.connections.filter((c) => c.coins.length > 0).length;
    stream.disconnect();
    await waitFor(
      "subscribed to beldex only",
      () =>
        stream.connections.filter((c) => c.coins.length > 0).length === subscribedBefore + 1 &&
        stream.subscribers().length === 1,
      35_000,
    );
    expect(stream.subscribers()[0]?.coins).toEqual(["beldex"]);
    const updatedAt = Math.ceil(Date.now() / 1000) + 30;
    rest.setPrice("ethereum", "usd", { price: 3_333.5, updatedAt });
    const polledBefore = restRequests().length;
    // beldex:usd keeps streaming from now on; the other pairs are silent.
    const beat = () => stream.emit({ coin: "beldex", vs: "usd", price: 0.07 + Math.random() / 1000 });
    beat();
    const timer = setInterval(beat, 500);
    try {
      await waitFor(
        "a REST poll while the stream is live",
        () => restRequests().length > polledBefore,
        INTERVAL_S * 2_000 + 1_000,
      );
      await waitFor(
        "the silent pair's REST price the latest",
        async () => (await latest("ethereum", "usd"))?.price === 3_333.5,
        10_000,
      );
    } finally {
      clearInterval(timer);
      stream.faults.partialCoins = undefined;
    }
    const lines = producer?.logs() ?? [];
    // The boundary that polled: the stream live, beldex:usd heard, the pairs it left out silent.
    const interval = lines
      .filter((l) => l.msg === "stream interval" && l.live === true && l.poll === true)
      .at(-1);
    const silent = ["beldex:eur", "bitcoin:eur", "ethereum:usd", "ethereum:eur"];
    expect(interval?.silent).toEqual(expect.arrayContaining(silent));
    expect(interval?.silent).not.toContain("beldex:usd");
  }, 60_000);

  test("the key never appears in the producer's output", () => {
    const all = producer?.lines.join("\n") ?? "";
    expect(all).toContain("coingecko stream live");
    expect(all).toContain("stream down: polling CoinGecko over REST");
    expect(all).not.toContain(KEY);
  });

  test("the public and demo plans are refused with one line", async () => {
    for (const [plan, extra] of [
      ["public", {}],
      ["demo", { COINGECKO_API_KEY: "CG-demo-key-0000" }],
    ] as const) {
      const run = await runEntry("producer.ts", {
        KAFKA_BROKERS: stack.kafka.plaintext,
        COINGECKO_STREAM: "true",
        ...extra,
      });
      expect(run.code).toBe(2);
      expect(run.lines).toEqual([
        `config: COINGECKO_STREAM: expected false on the ${plan} plan: CoinGecko streams prices on paid plans only (set COINGECKO_PLAN=pro with a paid key)`,
      ]);
    }
  });
});
