// End to end on the real stack: fake CoinGecko -> producer.ts -> Kafka -> consumer.ts -> history + cache.
// Shared by the profiles: local services (redis://, DATABASE_URL, PLAINTEXT) and a seed-style production
// .env (Upstash REST, Supabase REST, SASL_SSL SCRAM). Assertions read the real Postgres and Redis underneath.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient, SQL } from "bun";
import type { Kafka } from "kafkajs";
import { migratePostgres } from "../../lib/adapters/postgres/history.ts";
import { latestKey } from "../../lib/adapters/redis/latest-script.ts";
import type { Tick } from "../../lib/tick.ts";
import { type FakeCoinGecko, startFakeCoinGecko } from "./fake-coingecko.ts";
import { groupCaughtUp, publishRaw, readTopic, testKafka } from "./kafka.ts";
import { type EntryProcess, runEntry, startEntry, waitFor } from "./processes.ts";
import { createTestDatabase, createTestTopic, deleteTopics, type StackInfo, useStack } from "./stack.ts";

/** How one profile reaches the sinks and Kafka: its environment, and what it must stop afterwards. */
export interface PipelineProfile {
  env(target: { stack: StackInfo; databaseUrl: string; redisUrl: string }): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * Declares the end-to-end suite for one profile.
 * @example pipelineSuite("local services", async () => ({ env: async ({ stack }) => ({ ... }), stop: async () => {} }));
 */
export function pipelineSuite(
  name: string,
  setupProfile: (stack: StackInfo) => Promise<PipelineProfile>,
  redisDb: number,
) {
  let profile: PipelineProfile | undefined;
  const ASSETS = ["beldex", "bitcoin", "ethereum"];
  const CURRENCIES = ["usd", "eur"];
  const CYCLES = 3;

  let fake: FakeCoinGecko;
  let kafka: Kafka;
  let topic: string;
  let db: { url: string; drop(): Promise<void> };
  let sql: SQL;
  let redis: RedisClient;
  let env: Record<string, string>;
  let consumer: EntryProcess | undefined;
  /** The rows the history must hold, as "asset:currency@iso -> price". */
  const expected = new Map<string, number>();

  function remember() {
    for (const asset of ASSETS)
      for (const currency of CURRENCIES) {
        const quote = fake.getPrice(asset, currency);
        if (!quote?.price) throw new Error(`fake has no ${asset}:${currency}`);
        expected.set(`${asset}:${currency}@${new Date(quote.updatedAt * 1000).toISOString()}`, quote.price);
      }
  }

  async function storedRows(): Promise<Map<string, number>> {
    const rows: { asset: string; currency: string; at: Date; price: string }[] =
      await sql`select asset, currency, source_updated_at as at, price from price_history`;
    return new Map(rows.map((r) => [`${r.asset}:${r.currency}@${r.at.toISOString()}`, Number(r.price)]));
  }

  async function rowCount(): Promise<number> {
    const [row] = await sql`select count(*)::int as n from price_history`;
    return row.n;
  }

  async function latest(asset: string, currency: string): Promise<Tick | null> {
    const raw = await redis.hget(latestKey(asset, currency), "tick");
    return raw ? (JSON.parse(raw) as Tick) : null;
  }

  /** Every line the producer runs printed, for the secrets check. */
  const producerLines: string[] = [];

  async function produceCycle() {
    const run = await runEntry("producer.ts", env, ["--once"]);
    producerLines.push(...run.lines);
    if (run.code !== 0) throw new Error(`producer --once exited ${run.code}: ${run.lines.join("\n")}`);
    return run;
  }

  function startConsumer(): EntryProcess {
    consumer = startEntry("consumer.ts", env);
    return consumer;
  }

  async function settled() {
    await waitFor("the consumer group to commit everything", () =>
      groupCaughtUp(kafka, env.KAFKA_CONSUMER_GROUP ?? "", topic),
    );
  }

  beforeAll(async () => {
    const stack = await useStack();
    profile = await setupProfile(stack);
    fake = await startFakeCoinGecko();
    kafka = testKafka(stack.kafka.plaintext);
    topic = await createTestTopic("e2e", 3);
    db = await createTestDatabase("e2e");
    await migratePostgres(db.url);
    sql = new SQL(db.url);
    const redisUrl = `${stack.redisUrl}/${redisDb}`;
    redis = new RedisClient(redisUrl);
    await redis.send("FLUSHDB", []);
    env = {
      KAFKA_TOPIC: topic,
      KAFKA_CONSUMER_GROUP: `${topic}-group`,
      ASSETS: ASSETS.join(","),
      VS_CURRENCIES: CURRENCIES.join(","),
      COINGECKO_BASE_URL: fake.url,
      FETCH_INTERVAL: "3600",
      // A killed consumer holds its partitions until its session expires: keep that short here.
      KAFKA_SESSION_TIMEOUT_MS: "6000",
      LOG_LEVEL: "info",
      PORT: "0",
      ...(await profile.env({ stack, databaseUrl: db.url, redisUrl })),
    };
  });

  afterAll(async () => {
    consumer?.proc.kill("SIGKILL");
    await profile?.stop();
    await redis?.send("CLIENT", ["UNPAUSE"]).catch(() => {});
    await redis?.send("FLUSHDB", []).catch(() => {});
    redis?.close();
    await sql?.close();
    await db?.drop();
    await deleteTopics([topic, `${topic}.dlq`]);
    await fake?.stop();
  });

  describe(`pipeline end to end: ${name}`, () => {
    test(`${CYCLES} cycles of 3 assets x 2 currencies give exactly the expected rows and latest prices`, async () => {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        if (cycle > 0) fake.advance();
        remember();
        const run = await produceCycle();
        const line = run.lines
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l))
          .find((l) => l.msg === "cycle");
        expect(line).toMatchObject({ fetched: 6, published: 6, skipped: [] });
      }
      // An unchanged CoinGecko value polled again has the same identity: no new row.
      await produceCycle();
      expect(fake.requests.filter((r) => r.path.endsWith("/simple/price"))).toHaveLength(CYCLES + 1);

      startConsumer();
      await waitFor("all rows stored", async () => (await rowCount()) >= expected.size);
      await settled();
      expect(await storedRows()).toEqual(expected);
      for (const asset of ASSETS)
        for (const currency of CURRENCIES) {
          const quote = fake.getPrice(asset, currency);
          const cached = await latest(asset, currency);
          expect(cached?.price).toBe(quote?.price ?? Number.NaN);
          expect(cached?.sourceUpdatedAt).toBe(new Date((quote?.updatedAt ?? 0) * 1000).toISOString());
        }
    });

    test("publishing every message twice and out of order changes nothing", async () => {
      const before = await storedRows();
      const newest = await latest("beldex", "usd");
      const all = await readTopic(kafka, topic, before.size + CURRENCIES.length * ASSETS.length);
      const ticks = all.map((m) => JSON.parse(m.value) as Tick);
      await publishRaw(kafka, topic, [...ticks].reverse());
      await publishRaw(kafka, topic, ticks);
      await settled();
      expect(await storedRows()).toEqual(before);
      expect(await latest("beldex", "usd")).toEqual(newest);

      // A late tick we never saw is stored, but it is older than the cached one, so the latest stays.
      const late = { ...(newest as Tick), price: 0.0001, sourceUpdatedAt: "2026-01-01T00:00:00.000Z" };
      await publishRaw(kafka, topic, [late]);
      await settled();
      expect(await rowCount()).toBe(before.size + 1);
      expect(await latest("beldex", "usd")).toEqual(newest);
      await sql`delete from price_history where source_updated_at = '2026-01-01T00:00:00Z'`;
    });

    test("a poison message lands in the DLQ with its reason and the pipeline goes on", async () => {
      const rows = await rowCount();
      // A pair of its own, so that the ticks of the cycles above stay the latest of theirs.
      const good = { ...((await latest("bitcoin", "eur")) as Tick), currency: "gbp" };
      await publishRaw(kafka, topic, ["{this is not json", JSON.stringify({ ...good, price: -5 }), good]);
      await settled();
      const dead = await readTopic(kafka, `${topic}.dlq`, 2);
      expect(dead.map((m) => m.value)).toEqual(
        expect.arrayContaining(["{this is not json", JSON.stringify({ ...good, price: -5 })]),
      );
      const reasons = dead.map((m) => m.headers["dlq-reason"]);
      expect(reasons.some((r) => r?.includes("not JSON"))).toBe(true);
      expect(reasons.some((r) => r?.includes("price"))).toBe(true);
      expect(await rowCount()).toBe(rows + 1);
      expect(await latest("bitcoin", "gbp")).toEqual(good);
      expect(consumer?.proc.exitCode).toBeNull();
      expected.set(`bitcoin:gbp@${good.sourceUpdatedAt}`, good.price);
    });

    test("a consumer killed with SIGKILL mid-batch and restarted loses nothing and duplicates nothing", async () => {
      // Hold Redis writes so that the batch stops after the history write and before the commit: the worst
      // place to die, since the rows are in but the offsets are not.
      await redis.send("CLIENT", ["PAUSE", "60000", "WRITE"]);
      fake.advance();
      remember();
      const rowsBefore = await rowCount();
      await produceCycle();
      // Partitions are handled one at a time, so the first batch's rows arrive and the rest wait behind it.
      await waitFor("the history write of the new cycle", async () => (await rowCount()) > rowsBefore);
      consumer?.proc.kill("SIGKILL");
      await consumer?.exited;
      await redis.send("CLIENT", ["UNPAUSE"]);
      expect(await groupCaughtUp(kafka, env.KAFKA_CONSUMER_GROUP ?? "", topic)).toBe(false);

      const restarted = startConsumer();
      await settled();
      expect(await rowCount()).toBe(rowsBefore + 6);
      const stored = await storedRows();
      for (const [identity, price] of expected) expect(stored.get(identity)).toBe(price);
      for (const asset of ASSETS)
        for (const currency of CURRENCIES)
          expect((await latest(asset, currency))?.price).toBe(
            fake.getPrice(asset, currency)?.price ?? Number.NaN,
          );
      // The restarted consumer saw the redelivered ticks as duplicates: proof the kill came before the commit.
      await waitFor("a batch log line", () => restarted.logs().some((l) => l.msg === "batch"));
      const redelivered = restarted
        .logs()
        .filter((l) => l.msg === "batch")
        .reduce((n, l) => n + Number(l.duplicates), 0);
      expect(redelivered).toBeGreaterThan(0);
    });

    test("the consumer's status API serves what the sinks hold", async () => {
      const running = consumer as EntryProcess;
      const line = await waitFor("the status page URL", () =>
        running.logs().find((l) => l.msg === "status page"),
      );
      const base = String(line?.url);
      const latestBody = await (await fetch(`${base}api/latest/beldex?currency=usd`)).json();
      expect(JSON.stringify(latestBody)).toContain(String(fake.getPrice("beldex", "usd")?.price));
      const history = await (await fetch(`${base}api/history/beldex?currency=usd&limit=1000`)).json();
      const stored = [...(await storedRows()).keys()].filter((k) => k.startsWith("beldex:usd@"));
      expect(JSON.stringify(history).match(/"sourceUpdatedAt"/g)?.length).toBe(stored.length);
      const pairs = await (await fetch(`${base}api/pairs`)).json();
      expect(JSON.stringify(pairs)).toContain("ethereum");
      expect((await fetch(`${base}readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${base}metrics`)).text();
      expect(metrics).toMatch(/belly_ticks_consumed_total \d+/);
      expect(metrics).toMatch(/^belly_dlq_total\{reason="not-json"\} 0$/m);
      const page = await (await fetch(base)).text();
      expect(page).toContain("Beldex");
    });

    test("no output line, page or API answer carries a secret value", async () => {
      const running = consumer as EntryProcess;
      const secrets = Object.entries(env)
        .flatMap(([name, value]) =>
          /PASSWORD|TOKEN|KEY/.test(name)
            ? [value]
            : /_URL$/.test(name)
              ? [URL.parse(value)?.password ?? ""]
              : [],
        )
        .map((value) => decodeURIComponent(value))
        // Short passwords (the local stack's "belly") are also user and database names, shown on purpose.
        .filter((value) => value.length >= 8);
      const base = String(running.logs().find((l) => l.msg === "status page")?.url);
      const answers = await Promise.all(
        [
          "",
          "api/pairs",
          "api/latest/beldex",
          "api/history/beldex?currency=usd",
          "readyz",
          "metrics",
          "openapi.json",
        ].map(async (path) => (await fetch(`${base}${path}`)).text()),
      );
      const everything = [...running.lines, ...producerLines, ...answers].join("\n");
      expect(secrets.filter((secret) => everything.includes(secret))).toEqual([]);
      expect(everything.length).toBeGreaterThan(1_000);
    });

    test("SIGTERM stops the consumer cleanly", async () => {
      const running = consumer as EntryProcess;
      running.proc.kill("SIGTERM");
      expect(await running.exited).toBe(0);
      expect(running.logs().some((l) => l.msg === "consumer stopped")).toBe(true);
    });
  });
}
