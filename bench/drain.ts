/**
 * End-to-end drain: 200,000 ticks over 50 pairs published once to a fresh 6-partition topic, then drained by
 * the real `consumer.ts` (a child process on a fresh database, Redis logical db and group) from its start to
 * every row in Postgres and every pair's latest price in Redis, beside three baselines on the same topic:
 * a naive consumer (kafkajs eachMessage, one INSERT and one HSET per message), a raw kafkajs drain under Bun
 * without sinks (the client's ceiling) and a Postgres COPY of the same rows (the database's ceiling). Then
 * publish-to-visible latency at 50 ticks/s through consumer.ts and through the naive consumer, on a topic of
 * its own. consumer.ts runs twice in each: on Bun's defaults, as `bun run consumer.ts` starts it, and as
 * deployed, with fly.toml's engine settings (bench/deployed.ts). Every Kafka row runs in a child process, so
 * its peak RSS (VmHWM) is its own.
 */
import { join } from "node:path";
import { RedisClient, SQL } from "bun";
import type { Admin, Producer } from "kafkajs";
import { latestKey } from "../lib/adapters/redis/latest-script.ts";
import { encodeTick, TICK_HEADERS, type Tick, tickKey, tickTime } from "../lib/tick.ts";
import { consumerEnv } from "../tests/support/consumer-env.ts";
import { testKafka } from "../tests/support/kafka.ts";
import { createTestTopic, deleteTopics } from "../tests/support/stack.ts";
import type { BenchContext, Benchmark } from "./context.ts";
import { deployedEngineEnv, describeEngineEnv } from "./deployed.ts";
import { type DrainClientResult, type DrainClientSettings, epochNow, peakRssMiB } from "./drain-client.ts";
import {
  compare,
  expectEqual,
  formatNumber,
  type Metrics,
  percentile,
  perSecond,
  ROUNDS,
} from "./measure.ts";
import { createBenchDatabase } from "./stack.ts";
import { benchTicks, PAIRS } from "./ticks.ts";

const TICKS = 200_000;
const PARTITIONS = 6;
/** The naive consumer writes ~4,000 ticks/s: the whole topic would take ~50 s a round, so it drains a prefix. */
const NAIVE_PREFIX = 20_000;
const LATENCY_TICKS = 250;
const LATENCY_PER_SECOND = 50;
/** Logical db the benchmark owns (the tests use 5 to 7, the other benchmarks 9); must be empty at the start. */
const DRAIN_REDIS_DB = 10;
/** A child (or a wait for one) that has not finished by then is stuck; killing it keeps the run bounded. */
const CHILD_TIMEOUT_MS = 90_000;
/** How often the group's committed offsets are read while a drain runs. */
const POLL_MS = 20;
/** Latency ticks are dated after every drain tick (minutes 0 to 3,999), one new minute each. */
const FIRST_LATENCY_MINUTE = TICKS / PAIRS.length + 100;
const ROOT = join(import.meta.dir, "..");
const CONSUMER = join(ROOT, "consumer.ts");
const CLIENT = join(import.meta.dir, "drain-client.ts");
const COLUMNS =
  "asset, currency, price, market_cap, volume_24h, change_24h_pct, source, source_updated_at, fetched_at";

interface DrainMetrics extends Metrics {
  ticksPerSecond: number;
  peakRssMiB: number;
}

interface LatencyMetrics extends Metrics {
  p50Ms: number;
  p99Ms: number;
}

/** The COPY text format of one tick: tab-separated columns, `\N` for null. */
function copyLine(tick: Tick): string {
  const text = (value: number | null) => (value === null ? "\\N" : String(value));
  return `${tick.asset}\t${tick.currency}\t${text(tick.price)}\t${text(tick.marketCap)}\t${text(tick.volume24h)}\t${text(tick.change24hPct)}\t${tick.source}\t${tick.sourceUpdatedAt}\t${tick.fetchedAt}\n`;
}

/** Publishes ticks keyed by pair with the producer's headers, in sends of a few thousand. */
async function publishAll(producer: Producer, topic: string, ticks: Tick[]): Promise<void> {
  const SEND = 4_000;
  for (let start = 0; start < ticks.length; start += SEND)
    await producer.send({
      topic,
      acks: -1,
      messages: ticks.slice(start, start + SEND).map((tick) => ({
        key: tickKey(tick),
        value: encodeTick(tick),
        headers: { ...TICK_HEADERS },
      })),
    });
}

/** Resolves once `group` has committed up to `ends` on every partition; rejects when `exited` settles first. */
async function caughtUp(
  admin: Admin,
  group: string,
  topic: string,
  ends: Map<number, bigint>,
  exited: Promise<number>,
): Promise<void> {
  let gone: number | undefined;
  void exited.then((code) => {
    gone = code;
  });
  const deadline = performance.now() + CHILD_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (gone !== undefined) throw new Error(`consumer exited with ${gone} before it caught up`);
    // A new group's coordinator may not be known yet (NOT_COORDINATOR): that is "not yet", not a failure.
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] }).catch(() => []);
    const done = [...ends].every(([partition, end]) => {
      if (end === 0n) return true; // no key of the 50 hashed to it: nothing to commit there
      const mine = committed?.partitions.find((p) => p.partition === partition);
      return mine !== undefined && mine.offset !== "-1" && BigInt(mine.offset) >= end;
    });
    if (done) return;
    await Bun.sleep(POLL_MS);
  }
  throw new Error(`${group} did not catch up within ${CHILD_TIMEOUT_MS / 1000}s`);
}

/** Runs a drain-client child to its result line. */
async function runClient(mode: "raw" | "naive", settings: DrainClientSettings): Promise<DrainClientResult> {
  const child = Bun.spawn([process.execPath, CLIENT, mode, JSON.stringify(settings)], {
    stdout: "pipe",
    stderr: "pipe",
    timeout: CHILD_TIMEOUT_MS,
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`drain-client ${mode} exited with ${code}: ${stderr.trim().slice(-500)}`);
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as DrainClientResult;
}

/** End-to-end drain of consumer.ts beside the naive consumer, raw kafkajs and COPY; latency at 50 ticks/s. */
export const drain: Benchmark = {
  name: `drain (${TICKS.toLocaleString("en-US")} ticks over ${PAIRS.length} pairs, ${PARTITIONS} partitions, Postgres + Redis db ${DRAIN_REDIS_DB})`,
  needs: ["postgres", "redis", "kafka"],
  async run(ctx: BenchContext) {
    const { stack } = ctx;
    const redisUrl = `${stack.redisUrl}/${DRAIN_REDIS_DB}`;
    const redis = new RedisClient(redisUrl, { connectionTimeout: 5_000 });
    ctx.defer(() => redis.close());
    const keys = Number(await redis.send("DBSIZE", []));
    // Flushing a db someone else filled would destroy their data; a benchmark is not worth that.
    if (keys > 0)
      throw new Error(`Redis db ${DRAIN_REDIS_DB} already holds ${keys} keys; empty it or pick another db`);
    ctx.defer(() => redis.send("FLUSHDB", []));
    const flush = () => redis.send("FLUSHDB", []);

    const topic = await createTestTopic("bench-drain", PARTITIONS);
    const latencyTopic = await createTestTopic("bench-latency", PARTITIONS);
    // consumer.ts creates each topic's DLQ beside it.
    ctx.defer(() => deleteTopics([topic, `${topic}.dlq`, latencyTopic, `${latencyTopic}.dlq`]));
    const kafka = testKafka(stack.kafka.plaintext);
    const admin = kafka.admin();
    await admin.connect();
    ctx.defer(() => admin.disconnect());
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    ctx.defer(() => producer.disconnect());

    const ticks = benchTicks(TICKS);
    const newest = new Map<string, number>();
    for (const tick of ticks)
      newest.set(tickKey(tick), Math.max(newest.get(tickKey(tick)) ?? 0, tickTime(tick)));
    const publishStarted = performance.now();
    await publishAll(producer, topic, ticks);
    const ends = new Map(
      (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)] as const),
    );
    expectEqual("messages published", Number([...ends.values()].reduce((a, b) => a + b, 0n)), TICKS);
    ctx.log(
      `published ${TICKS.toLocaleString("en-US")} ticks in ${((performance.now() - publishStarted) / 1000).toFixed(1)}s`,
    );
    const copyText = ticks.map(copyLine).join("");

    let groups = 0;
    const newGroup = (who: string) => `${topic}-${who}-${++groups}`;
    const history = async (prefix: string) => {
      const db = await createBenchDatabase(stack.databaseUrl, prefix);
      return { db, drop: ctx.defer(() => db.drop()) };
    };
    const countRows = async (url: string) => {
      const sql = new SQL({ url, max: 1 });
      try {
        const [row] = (await sql`select count(*)::int as n from price_history`) as { n: number }[];
        return row?.n ?? 0;
      } finally {
        await sql.close();
      }
    };

    const engine = await deployedEngineEnv();
    /**
     * consumer.ts as production starts it, on a fresh database and Redis db, for `target` topic; `extra` adds
     * environment (the deployed engine settings).
     */
    const startConsumer = (target: string, databaseUrl: string, group: string, extra = {}) => {
      const env = {
        ...extra,
        ...consumerEnv(stack, {
          topic: target,
          databaseUrl,
          redisDb: DRAIN_REDIS_DB,
          sessionTimeoutMs: 30_000,
        }),
        KAFKA_CONSUMER_GROUP: group,
        PATH: process.env.PATH ?? "",
      };
      // Run from the repository, whose tsconfig tells Bun how to compile the status page's JSX.
      const child = Bun.spawn([process.execPath, CONSUMER], {
        cwd: ROOT,
        env,
        stdout: "ignore",
        stderr: "pipe",
        timeout: CHILD_TIMEOUT_MS,
      });
      const stderr = new Response(child.stderr).text();
      const stop = ctx.defer(async () => {
        child.kill("SIGTERM");
        await child.exited;
      });
      return { child, stop, stderr };
    };

    const ours = async (extra = {}): Promise<DrainMetrics> => {
      const { db, drop } = await history("bench_drain_ours");
      await flush();
      const group = newGroup("ours");
      const started = epochNow();
      const consumer = startConsumer(topic, db.url, group, extra);
      try {
        await caughtUp(admin, group, topic, ends, consumer.child.exited);
      } catch (error) {
        throw new Error(`${(error as Error).message}: ${(await consumer.stderr).trim().slice(-500)}`);
      }
      const elapsed = epochNow() - started;
      const peak = peakRssMiB(consumer.child.pid);
      // Committed means written: both sinks must hold everything now.
      expectEqual("ours: rows in Postgres", await countRows(db.url), TICKS);
      for (const [pair, ts] of newest) {
        const [asset, currency] = pair.split(":") as [string, string];
        expectEqual(
          `ours: latest ${pair} in Redis`,
          Number(await redis.hget(latestKey(asset, currency), "ts")),
          ts,
        );
      }
      await consumer.stop();
      await drop();
      return { ticksPerSecond: perSecond(TICKS, elapsed), peakRssMiB: peak };
    };

    const naive = async (): Promise<DrainMetrics> => {
      const { db, drop } = await history("bench_drain_naive");
      await flush();
      const result = await runClient("naive", {
        brokers: stack.kafka.plaintext,
        topic,
        group: newGroup("naive"),
        count: NAIVE_PREFIX,
        databaseUrl: db.url,
        redisUrl,
      });
      expectEqual("naive: rows in Postgres", await countRows(db.url), NAIVE_PREFIX);
      await drop();
      return {
        ticksPerSecond: perSecond(NAIVE_PREFIX, result.doneAt - result.firstAt),
        peakRssMiB: result.peakRssMiB,
      };
    };

    const raw = async (): Promise<DrainMetrics> => {
      const started = epochNow();
      const result = await runClient("raw", {
        brokers: stack.kafka.plaintext,
        topic,
        group: newGroup("raw"),
        count: TICKS,
      });
      expectEqual("raw: messages counted", result.counted, TICKS);
      return { ticksPerSecond: perSecond(TICKS, result.doneAt - started), peakRssMiB: result.peakRssMiB };
    };

    const copy = async (): Promise<DrainMetrics> => {
      const { db, drop } = await history("bench_drain_copy");
      const sql = new SQL({ url: db.url, max: 1 });
      try {
        await sql`select 1`; // connected before the clock starts, as the consumers connect before their fetches
        const started = performance.now();
        const writer = sql.unsafe(`copy price_history (${COLUMNS}) from stdin`).writable().getWriter();
        const CHUNK = 1 << 20;
        for (let at = 0; at < copyText.length; at += CHUNK)
          await writer.write(copyText.slice(at, at + CHUNK));
        await writer.close();
        const elapsed = performance.now() - started;
        const [row] = (await sql`select count(*)::int as n from price_history`) as { n: number }[];
        expectEqual("copy: rows in Postgres", row?.n ?? 0, TICKS);
        return { ticksPerSecond: perSecond(TICKS, elapsed), peakRssMiB: Number.NaN };
      } finally {
        await sql.close();
        await drop();
      }
    };

    let minute = FIRST_LATENCY_MINUTE;
    /** The next latency tick: one pair, one minute after the last one, so each one is the newest. */
    const latencyTick = (): Tick => {
      const iso = new Date(Date.UTC(2026, 10, 26, 18, minute)).toISOString();
      const price = 0.07 + minute++ / 1e6;
      return { ...(ticks[2] as Tick), sourceUpdatedAt: iso, fetchedAt: iso, price };
    };
    /** Publishes one tick and polls Redis until its pair shows it; returns the milliseconds that took. */
    const publishUntilVisible = async (tick: Tick, timeoutMs: number): Promise<number> => {
      const key = latestKey(tick.asset, tick.currency);
      const ts = tickTime(tick);
      const started = epochNow();
      await publishAll(producer, latencyTopic, [tick]);
      while (Number(await redis.hget(key, "ts")) !== ts) {
        if (epochNow() - started > timeoutMs)
          throw new Error(`tick ${tick.sourceUpdatedAt} not visible in ${timeoutMs} ms`);
      }
      return epochNow() - started;
    };
    const latencyRun = async (exited: Promise<number>): Promise<LatencyMetrics> => {
      // The first tick waits for the group join and the replay of earlier rounds' ticks.
      await Promise.race([
        publishUntilVisible(latencyTick(), 30_000),
        exited.then((code) => Promise.reject(new Error(`consumer exited with ${code}`))),
      ]);
      const samples: number[] = [];
      const t0 = performance.now();
      for (let i = 0; i < LATENCY_TICKS; i++) {
        const wait = t0 + (i * 1000) / LATENCY_PER_SECOND - performance.now();
        if (wait > 0) await Bun.sleep(wait);
        samples.push(await publishUntilVisible(latencyTick(), 5_000));
      }
      return { p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99) };
    };
    const latencyOurs = async (extra = {}): Promise<LatencyMetrics> => {
      const { db, drop } = await history("bench_latency_ours");
      await flush();
      const consumer = startConsumer(latencyTopic, db.url, newGroup("latency-ours"), extra);
      try {
        return await latencyRun(consumer.child.exited);
      } finally {
        await consumer.stop();
        await drop();
      }
    };
    const latencyNaive = async (): Promise<LatencyMetrics> => {
      const { db, drop } = await history("bench_latency_naive");
      await flush();
      const settings: DrainClientSettings = {
        brokers: stack.kafka.plaintext,
        topic: latencyTopic,
        group: newGroup("latency-naive"),
        count: 0,
        databaseUrl: db.url,
        redisUrl,
      };
      const child = Bun.spawn([process.execPath, CLIENT, "naive", JSON.stringify(settings)], {
        stdout: "ignore",
        stderr: "inherit",
        timeout: CHILD_TIMEOUT_MS,
      });
      const stop = ctx.defer(async () => {
        child.kill();
        await child.exited;
      });
      try {
        return await latencyRun(child.exited);
      } finally {
        await stop();
        await drop();
      }
    };

    ctx.log(`ours: consumer.ts in a child process, from its start to every row and latest price written`);
    ctx.log(`as deployed: the same with fly.toml's engine settings, ${describeEngineEnv(engine)}`);
    ctx.log(
      `baselines: naive eachMessage consumer (first ${NAIVE_PREFIX.toLocaleString("en-US")} ticks, timed from its first message), raw kafkajs eachBatch without sinks (from its start), Postgres COPY (connected)`,
    );
    const drains = {
      ours: [] as DrainMetrics[],
      deployed: [] as DrainMetrics[],
      naive: [] as DrainMetrics[],
      raw: [] as DrainMetrics[],
      copy: [] as DrainMetrics[],
    };
    const latency = { ours: [] as LatencyMetrics[], baseline: [] as LatencyMetrics[] };
    const latencyDeployed: LatencyMetrics[] = [];
    const cases = [
      ["ours", async () => drains.ours.push(await ours())],
      ["deployed", async () => drains.deployed.push(await ours(engine))],
      ["naive", async () => drains.naive.push(await naive())],
      ["raw", async () => drains.raw.push(await raw())],
      ["copy", async () => drains.copy.push(await copy())],
      ["latency ours", async () => latency.ours.push(await latencyOurs())],
      ["latency as deployed", async () => latencyDeployed.push(await latencyOurs(engine))],
      ["latency naive", async () => latency.baseline.push(await latencyNaive())],
    ] as const;
    for (let round = 0; round < ROUNDS; round++) {
      // Alternating the order spreads the load of other processes over every case alike.
      const order = round % 2 === 0 ? cases : [...cases].reverse();
      for (const [, run] of order) await run();
      const d = (m: DrainMetrics[]) =>
        `${formatNumber(m.at(-1)?.ticksPerSecond ?? Number.NaN)}/s ${formatNumber(m.at(-1)?.peakRssMiB ?? Number.NaN)} MiB`;
      const l = (m: LatencyMetrics[]) =>
        `p50 ${formatNumber(m.at(-1)?.p50Ms ?? Number.NaN)} p99 ${formatNumber(m.at(-1)?.p99Ms ?? Number.NaN)} ms`;
      ctx.log(
        `round ${round + 1}/${ROUNDS}: ours ${d(drains.ours)}, as deployed ${d(drains.deployed)}, naive ${d(drains.naive)}, raw ${d(drains.raw)}, copy ${d(drains.copy)}; latency ours ${l(latency.ours)}, as deployed ${l(latencyDeployed)}, naive ${l(latency.baseline)}`,
      );
    }
    const against = (baseline: DrainMetrics[]) => ({ ours: drains.ours, baseline });
    const deployedAgainst = (baseline: DrainMetrics[]) => ({ ours: drains.deployed, baseline });
    const name = `Drain ${TICKS / 1000}k ticks, ${PARTITIONS} partitions`;
    return [
      compare(against(drains.naive), "ticksPerSecond", {
        benchmark: `${name}: consumer.ts vs naive eachMessage (${NAIVE_PREFIX / 1000}k prefix)`,
        unit: "ticks/s",
        better: "higher",
      }),
      compare(against(drains.raw), "ticksPerSecond", {
        benchmark: `${name}: consumer.ts vs raw kafkajs, no sinks`,
        unit: "ticks/s",
        better: "higher",
      }),
      compare(against(drains.copy), "ticksPerSecond", {
        benchmark: `${name}: consumer.ts vs Postgres COPY`,
        unit: "ticks/s",
        better: "higher",
      }),
      compare(against(drains.naive), "peakRssMiB", {
        benchmark: `${name}, peak RSS: consumer.ts vs naive`,
        unit: "MiB",
        better: "lower",
      }),
      compare(against(drains.raw), "peakRssMiB", {
        benchmark: `${name}, peak RSS: consumer.ts vs raw kafkajs`,
        unit: "MiB",
        better: "lower",
      }),
      compare(deployedAgainst(drains.naive), "ticksPerSecond", {
        benchmark: `${name}: consumer.ts as deployed (fly.toml's engine settings) vs naive eachMessage`,
        unit: "ticks/s",
        better: "higher",
      }),
      compare(deployedAgainst(drains.copy), "ticksPerSecond", {
        benchmark: `${name}: consumer.ts as deployed vs Postgres COPY`,
        unit: "ticks/s",
        better: "higher",
      }),
      compare(deployedAgainst(drains.ours), "ticksPerSecond", {
        benchmark: `${name}: consumer.ts as deployed vs on Bun's defaults`,
        unit: "ticks/s",
        better: "higher",
      }),
      compare(deployedAgainst(drains.naive), "peakRssMiB", {
        benchmark: `${name}, peak RSS: consumer.ts as deployed vs naive`,
        unit: "MiB",
        better: "lower",
      }),
      compare(deployedAgainst(drains.ours), "peakRssMiB", {
        benchmark: `${name}, peak RSS: consumer.ts as deployed vs on Bun's defaults`,
        unit: "MiB",
        better: "lower",
      }),
      compare(latency, "p50Ms", {
        benchmark: `Publish to visible in Redis at ${LATENCY_PER_SECOND} ticks/s, p50: consumer.ts vs naive`,
        unit: "ms",
        better: "lower",
      }),
      compare(latency, "p99Ms", {
        benchmark: `Publish to visible in Redis at ${LATENCY_PER_SECOND} ticks/s, p99: consumer.ts vs naive`,
        unit: "ms",
        better: "lower",
      }),
      compare({ ours: latencyDeployed, baseline: latency.baseline }, "p99Ms", {
        benchmark: `Publish to visible in Redis at ${LATENCY_PER_SECOND} ticks/s, p99: consumer.ts as deployed vs naive`,
        unit: "ms",
        better: "lower",
      }),
    ];
  },
};
