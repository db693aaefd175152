// Issue 12 end to end on the real stack: fake CoinGecko -> producer.ts (--backfill, gap healing, many ids) ->
// Kafka -> consumer.ts -> Postgres. The fake's history is frozen in time, so every run sees the same points.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient, SQL } from "bun";
import type { Kafka } from "kafkajs";
import { pollRequestCount } from "../lib/adapters/coingecko/source.ts";
import { migratePostgres } from "../lib/adapters/postgres/history.ts";
import type { Tick } from "../lib/tick.ts";
import { consumerEnv } from "./support/consumer-env.ts";
import { type FakeCoinGecko, type FakeRateCounter, startFakeCoinGecko } from "./support/fake-coingecko.ts";
import { groupCaughtUp, publishRaw, testKafka } from "./support/kafka.ts";
import { type EntryProcess, runEntry, startEntry, waitFor } from "./support/processes.ts";
import {
  createTestDatabase,
  createTestTopic,
  deleteTopics,
  type StackInfo,
  type TestDatabase,
  useStack,
} from "./support/stack.ts";

const ASSETS = ["beldex", "bitcoin", "ethereum"];
const HOUR = 3_600_000;
const FIVE_MINUTES = 300_000;
/** The producer's budget and the fake's limit alike: the fake answers 429 to any call past it. */
const LIMIT = 8;
const REDIS_DB = 13;

let stack: StackInfo;
let fake: FakeCoinGecko;
let kafka: Kafka;
let topic: string;
let db: TestDatabase;
let sql: SQL;
let consumer: EntryProcess | undefined;
const topics: string[] = [];
const fakes: FakeCoinGecko[] = [];
/** The fake's history ends here for the whole file. */
const FROZEN = Date.now();
/** What each producer run made the fake count, for the budget check and the closing note. */
const rates: { run: string; rate: FakeRateCounter }[] = [];

function producerEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: stack.kafka.plaintext,
    KAFKA_TOPIC: topic,
    COINGECKO_BASE_URL: fake.url,
    ASSETS: ASSETS.join(","),
    VS_CURRENCIES: "usd",
    COINGECKO_CALLS_PER_MINUTE: String(LIMIT),
    LOG_LEVEL: "info",
    ...overrides,
  };
}

function logsOf(lines: string[]): Record<string, unknown>[] {
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** Runs `producer.ts --backfill 30d` to its end, each process with a fresh count at the fake. */
async function backfill(run: string) {
  fake.resetRate();
  const result = await runEntry("producer.ts", producerEnv(), ["--backfill", "30d"]);
  rates.push({ run, rate: fake.rate });
  if (result.code !== 0) throw new Error(`backfill exited ${result.code}: ${result.lines.join("\n")}`);
  return logsOf(result.lines);
}

async function settled() {
  await waitFor(
    "the consumer to commit everything",
    () => groupCaughtUp(kafka, `${topic}-group`, topic),
    60_000,
  );
}

async function rowCount(pairs = ASSETS.map((a) => `${a}:usd`)): Promise<number> {
  const [row] =
    await sql`select count(*)::int as n from price_history where asset || ':' || currency in ${sql(pairs)}`;
  return row.n;
}

async function messagesIn(name: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(name)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

function freePort(): number {
  const server = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = server.port ?? 0;
  server.stop(true);
  return port;
}

function expectWithinBudget(rate: FakeRateCounter) {
  expect(rate.limited).toBe(0);
  expect(rate.peakPerMinute).toBeLessThanOrEqual(LIMIT);
}

beforeAll(async () => {
  stack = await useStack();
  fake = await startFakeCoinGecko({ chartNow: () => FROZEN, callsPerMinute: LIMIT });
  fakes.push(fake);
  kafka = testKafka(stack.kafka.plaintext);
  topic = await createTestTopic("backfill", 3);
  topics.push(topic, `${topic}.dlq`);
  db = await createTestDatabase("backfill");
  await migratePostgres(db.url);
  sql = new SQL(db.url);
  consumer = startEntry(
    "consumer.ts",
    consumerEnv(stack, { topic, databaseUrl: db.url, redisDb: REDIS_DB, sessionTimeoutMs: 6_000 }),
  );
  await waitFor("the consumer to join its group", () =>
    consumer?.logs().some((l) => l.msg === "status page"),
  );
});

afterAll(async () => {
  consumer?.proc.kill("SIGKILL");
  await consumer?.exited;
  const redis = new RedisClient(`${stack.redisUrl}/${REDIS_DB}`);
  await redis.send("FLUSHDB", []).catch(() => {});
  redis.close();
  await sql?.close();
  await db?.drop();
  await deleteTopics(topics);
  for (const f of fakes) await f.stop();
  // The counts of each run, for the closing note.
  console.log(JSON.stringify({ rates }));
});

describe("producer.ts --backfill 30d", () => {
  /** The identities stored by the first run, to compare the runs after it with. */
  let firstRows: string[] = [];
  let expected = 0;

  async function storedIdentities(): Promise<string[]> {
    const rows: { asset: string; currency: string; at: Date }[] =
      await sql`select asset, currency, source_updated_at as at from price_history where source = 'coingecko-chart' order by 1, 2, 3`;
    return rows.map((r) => `${r.asset}:${r.currency}@${r.at.toISOString()}`);
  }

  test("3 pairs: the hourly and 5-minutely points of 30 days, each stored once, within the budget", async () => {
    const logs = await backfill("first");
    const planned = logs.find((l) => l.msg === "backfill planned") as {
      windows: number;
      plan: { from: string; to: string; granularity: string }[];
    };
    expect(planned.windows).toBe(6);
    const [hourly, recent] = planned.plan;
    expect(hourly?.granularity).toBe("1h");
    expect(recent?.granularity).toBe("5m");
    const from = Date.parse(hourly?.from ?? "");
    const split = Date.parse(recent?.from ?? "");
    const hourlyPoints = (split - from) / HOUR;
    const recentPoints = Math.floor((FROZEN - split) / FIVE_MINUTES) + 1;
    // From the hour 30 days back to the first whole hour of the last day: 29 days and 1 hour.
    expect(hourlyPoints).toBe(697);
    expect(recentPoints).toBeGreaterThanOrEqual(277);
    expect(recentPoints).toBeLessThanOrEqual(288);
    expected = ASSETS.length * (hourlyPoints + recentPoints);
    const done = logs.find((l) => l.msg === "backfill done");
    expect(done).toMatchObject({ pairs: 3, windows: 6, failedWindows: 0, ticks: expected });

    await waitFor("every point stored", async () => (await rowCount()) >= expected, 60_000);
    await settled();
    const byGranularity: { asset: string; hourly: number; recent: number; offGrid: number; other: number }[] =
      await sql`select asset,
        count(*) filter (where source_updated_at < ${new Date(split)})::int as hourly,
        count(*) filter (where source_updated_at >= ${new Date(split)})::int as recent,
        count(*) filter (where source_updated_at < ${new Date(split)} and extract(minute from source_updated_at) <> 0)::int as "offGrid",
        count(*) filter (where source <> 'coingecko-chart')::int as other
        from price_history group by asset order by asset`;
    expect(byGranularity).toEqual(
      ASSETS.map((asset) => ({ asset, hourly: hourlyPoints, recent: recentPoints, offGrid: 0, other: 0 })),
    );
    const [sample] =
      await sql`select price, market_cap, volume_24h, change_24h_pct from price_history limit 1`;
    expect(Number(sample.price)).toBeGreaterThan(0);
    expect(Number(sample.market_cap)).toBeGreaterThan(0);
    expect(Number(sample.volume_24h)).toBeGreaterThan(0);
    expect(sample.change_24h_pct).toBeNull();
    firstRows = await storedIdentities();
    expect(firstRows).toHaveLength(expected);
    expectWithinBudget(rates[0]?.rate as FakeRateCounter);
    console.log(
      JSON.stringify({ perPair: { hourly: hourlyPoints, fiveMinutely: recentPoints }, rows: expected }),
    );
  });

  test("a rerun publishes the same points again and adds 0 rows", async () => {
    const before = await rowCount();
    const sent = await messagesIn(topic);
    await backfill("rerun");
    await settled();
    expect(await messagesIn(topic)).toBe(sent + expected);
    expect(await rowCount()).toBe(before);
    expect(await storedIdentities()).toEqual(firstRows);
    expectWithinBudget(rates.at(-1)?.rate as FakeRateCounter);
    console.log(JSON.stringify({ rerunAddedRows: (await rowCount()) - before }));
  });

  test("a backfill killed with SIGKILL midway and run again completes with no point missing or duplicated", async () => {
    await sql`delete from price_history`;
    fake.setChartDelay(700);
    fake.resetRate();
    const killed = startEntry("producer.ts", producerEnv(), ["--backfill", "30d"]);
    const progress = await waitFor(
      "the backfill midway",
      () =>
        killed.logs().find((l) => l.msg === "backfill progress" && Number(l.done) >= 2 && Number(l.done) < 6),
      30_000,
    );
    killed.proc.kill("SIGKILL");
    expect(await killed.exited).not.toBe(0);
    rates.push({ run: "killed", rate: fake.rate });
    expectWithinBudget(fake.rate);
    fake.setChartDelay(0);
    await settled();
    const partial = await rowCount();
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(expected);

    await backfill("after the kill");
    await settled();
    const [row] =
      await sql`select count(*)::int as n, count(distinct (asset, currency, source_updated_at))::int as distinct from price_history`;
    expect(row).toEqual({ n: expected, distinct: expected });
    expect(await storedIdentities()).toEqual(firstRows);
    expectWithinBudget(rates.at(-1)?.rate as FakeRateCounter);
    console.log(JSON.stringify({ killedAt: progress, partialRows: partial, afterRestart: row }));
  });
});

describe("gap healing at start", () => {
  test("a producer stopped for 2 hours learns its pair's newest tick from the topic and backfills the hole", async () => {
    // A fake of its own whose history runs on the real clock: the gap ends now.
    const live = await startFakeCoinGecko({ callsPerMinute: LIMIT, book: {} });
    fakes.push(live);
    const now = Date.now();
    live.setPrice("solana", "usd", { price: 150, marketCap: 7e10, volume24h: 3e9, change24hPct: 1 });
    const stopped: Tick = {
      v: 1,
      asset: "solana",
      currency: "usd",
      price: 149,
      marketCap: 7e10,
      volume24h: 3e9,
      change24hPct: 1,
      sourceUpdatedAt: new Date(now - 2 * HOUR).toISOString(),
      fetchedAt: new Date(now - 2 * HOUR + 3_000).toISOString(),
      source: "coingecko",
    };
    await publishRaw(kafka, topic, [stopped]);
    const port = freePort();
    const producer = startEntry(
      "producer.ts",
      producerEnv({
        COINGECKO_BASE_URL: live.url,
        ASSETS: "solana",
        FETCH_INTERVAL: "600",
        HEALTH_PORT: String(port),
      }),
    );
    try {
      const healed = await waitFor("the gap healed", () =>
        producer.logs().find((l) => l.msg === "gap healed"),
      );
      expect(healed).toMatchObject({ pair: "solana:usd", ticks: 24 });
      expect(Number(healed?.gapS)).toBeGreaterThanOrEqual(2 * 3600 - 5);
      const tail = producer.logs().find((l) => l.msg?.toString().startsWith("topic tail read"));
      expect(((tail?.ages ?? {}) as Record<string, number>)["solana:usd"]).toBeGreaterThanOrEqual(7200);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain("belly_producer_gaps_healed_total 1");
      expect(metrics).toMatch(/belly_producer_backfill_ticks_total 24/);

      await waitFor("the healed points stored", async () => (await rowCount(["solana:usd"])) >= 26, 30_000);
      const rows: { at: Date; source: string }[] =
        await sql`select source_updated_at as at, source from price_history where asset = 'solana' order by 1`;
      expect(rows.map((r) => r.source)).toEqual([
        "coingecko",
        ...Array.from({ length: 24 }, () => "coingecko-chart"),
        "coingecko",
      ]);
      // No hole left longer than two intervals (20 minutes): 5-minutely points all the way.
      const spacing = rows.slice(1).map((r, i) => r.at.getTime() - (rows[i]?.at.getTime() ?? 0));
      expect(Math.max(...spacing)).toBeLessThanOrEqual(FIVE_MINUTES);
      expectWithinBudget(live.rate);
      rates.push({ run: "gap healing", rate: live.rate });
    } finally {
      producer.proc.kill("SIGTERM");
    }
    expect(await producer.exited).toBe(0);
  });
});

describe("many assets", () => {
  test("1,000 ids in 3 currencies: one cycle in chunks, every pair published, within the budget", async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `coin-${String(i).padStart(4, "0")}`);
    const currencies = ["usd", "eur", "btc"];
    const many = await startFakeCoinGecko({ callsPerMinute: LIMIT, book: {} });
    fakes.push(many);
    for (const id of ids)
      for (const currency of currencies) many.setPrice(id, currency, { price: 2, marketCap: 1e6 });
    const own = await createTestTopic("many-ids", 3);
    topics.push(own, `${own}.dlq`);
    const run = await runEntry(
      "producer.ts",
      producerEnv({
        KAFKA_TOPIC: own,
        COINGECKO_BASE_URL: many.url,
        ASSETS: ids.join(","),
        VS_CURRENCIES: currencies.join(","),
      }),
      ["--once"],
    );
    expect(run.code).toBe(0);
    const chunks = pollRequestCount(many.url, ids, currencies);
    expect(chunks).toBe(6);
    const requests = many.requests.filter((r) => r.path.endsWith("/simple/price"));
    expect(requests).toHaveLength(chunks);
    expect(requests.every((r) => r.url.length <= 2048)).toBe(true);
    expect(logsOf(run.lines).find((l) => l.msg === "cycle")).toMatchObject({
      fetched: 3000,
      published: 3000,
      skipped: [],
    });
    expect(await messagesIn(own)).toBe(3000);
    expectWithinBudget(many.rate);
    rates.push({ run: "1000 ids x 3 currencies", rate: many.rate });
  });
});
