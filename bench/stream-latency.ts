/**
 * Emit to visible: from the fake stream sending an update (or the fake REST API changing its price) to the
 * consumer's write of it into Redis, through the real producer.ts and consumer.ts processes on the local Kafka,
 * Postgres and Redis. Ours: the stream (COINGECKO_STREAM=true); baseline: polling at the shortest
 * FETCH_INTERVAL (1 s). One consumer serves both; the producers alternate, one at a time.
 */
import { RedisClient } from "bun";
import { latestKey } from "../lib/adapters/redis/latest-script.ts";
import { consumerEnv } from "../tests/support/consumer-env.ts";
import { startFakeCoinGecko } from "../tests/support/fake-coingecko.ts";
import { startFakeCoinGeckoStream } from "../tests/support/fake-coingecko-stream.ts";
import { type EntryProcess, startEntry, waitFor } from "../tests/support/processes.ts";
import { createTestTopic, deleteTopics } from "../tests/support/stack.ts";
import type { Benchmark } from "./context.ts";
import { type Figure, percentile, ROUNDS } from "./measure.ts";
import { createBenchDatabase } from "./stack.ts";

/** Redis logical db of this benchmark; it refuses to run when the db holds keys. */
const BENCH_REDIS_DB = 14;
const KEY = "CG-bench-pro-key-0001";
const STREAM_SAMPLES = 100;
const POLL_SAMPLES = 6;
const WARMUP = 3;
/** Pause between samples, so that each update travels alone, as a stream's do (~10 s apart per coin). */
const GAP_MS = 20;
/** A sample that never shows fails the run instead of hanging it. */
const VISIBLE_TIMEOUT_MS = 10_000;

/** Emit to visible of one case, in ms. */
type Samples = number[];

/** Emit to visible in Redis, stream vs 1 s polling, through producer.ts and consumer.ts. */
export const streamLatency: Benchmark = {
  name: "Stream emit to visible in Redis (producer.ts + consumer.ts)",
  needs: ["kafka", "redis", "postgres"],
  async run(ctx) {
    const admin = new RedisClient(`${ctx.stack.redisUrl}/${BENCH_REDIS_DB}`);
    ctx.defer(() => admin.close());
    const keys = Number(await admin.send("DBSIZE", []));
    if (keys > 0)
      throw new Error(`Redis db ${BENCH_REDIS_DB} already holds ${keys} keys; empty it or pick another db`);
    ctx.defer(() => admin.send("FLUSHDB", []));
    const rest = await startFakeCoinGecko({ requireKey: { plan: "pro", key: KEY } });
    ctx.defer(() => rest.stop());
    const stream = await startFakeCoinGeckoStream({ requireKey: KEY });
    ctx.defer(() => stream.stop());
    const topic = await createTestTopic("bench-stream", 3);
    ctx.defer(() => deleteTopics([topic, `${topic}.dlq`]));
    const database = await createBenchDatabase(ctx.stack.databaseUrl, "bench_stream");
    ctx.defer(() => database.drop());

    const pair = { ASSETS: "bitcoin", VS_CURRENCIES: "usd", LOG_LEVEL: "warn" };
    const consumer = startEntry("consumer.ts", {
      ...consumerEnv(ctx.stack, {
        topic,
        databaseUrl: database.url,
        redisDb: BENCH_REDIS_DB,
        sessionTimeoutMs: 10_000,
      }),
      ...pair,
      FETCH_INTERVAL: "60",
    });
    ctx.defer(() => stop(consumer));

    const producerEnv = (streamOn: boolean): Record<string, string> => ({
      KAFKA_BROKERS: ctx.stack.kafka.plaintext,
      KAFKA_TOPIC: topic,
      COINGECKO_PLAN: "pro",
      COINGECKO_API_KEY: KEY,
      COINGECKO_BASE_URL: rest.url,
      ...pair,
      ...(streamOn
        ? { COINGECKO_STREAM: "true", COINGECKO_STREAM_URL: stream.url, FETCH_INTERVAL: "60" }
        : { FETCH_INTERVAL: "1" }),
    });

    /** Waits until Redis holds `price` for bitcoin:usd; the time from `at` (performance.now()) to then. */
    const visible = async (price: number, at: number): Promise<number> => {
      const deadline = at + VISIBLE_TIMEOUT_MS;
      while (performance.now() < deadline) {
        const raw = await admin.hget(latestKey("bitcoin", "usd"), "tick");
        if (raw && (JSON.parse(raw) as { price: number }).price === price) return performance.now() - at;
        await Bun.sleep(1);
      }
      throw new Error(`price ${price} not in Redis within ${VISIBLE_TIMEOUT_MS} ms`);
    };

    let price = 90_000;
    const next = () => {
      price += 0.01;
      return Math.round(price * 100) / 100;
    };

    const streamCase = async (): Promise<Samples> => {
      const producer = startEntry("producer.ts", producerEnv(true));
      const stopProducer = ctx.defer(() => stop(producer));
      try {
        await waitFor("the stream subscribed", () => stream.subscribers().length === 1, 30_000);
        const samples: Samples = [];
        for (let i = 0; i < WARMUP + STREAM_SAMPLES; i++) {
          const value = next();
          const { at } = stream.emit({ coin: "bitcoin", vs: "usd", price: value, t: Date.now() / 1000 });
          const ms = await visible(value, at);
          if (i >= WARMUP) samples.push(ms);
          await Bun.sleep(GAP_MS);
        }
        return samples;
      } finally {
        await stopProducer();
      }
    };

    const pollCase = async (): Promise<Samples> => {
      const producer = startEntry("producer.ts", producerEnv(false));
      const stopProducer = ctx.defer(() => stop(producer));
      try {
        const samples: Samples = [];
        for (let i = 0; i < 1 + POLL_SAMPLES; i++) {
          const value = next();
          rest.setPrice("bitcoin", "usd", { price: value, updatedAt: Date.now() / 1000 });
          const ms = await visible(value, performance.now());
          // The first one waits for the process to start: a warm-up.
          if (i >= 1) samples.push(ms);
          // Land the next change at another point of the interval.
          await Bun.sleep(GAP_MS + Math.random() * 500);
        }
        return samples;
      } finally {
        await stopProducer();
      }
    };

    ctx.log(`ours: COINGECKO_STREAM=true, ${STREAM_SAMPLES} updates per round from the fake stream's emit`);
    ctx.log(`baseline: polling, FETCH_INTERVAL=1 (the least), ${POLL_SAMPLES} price changes per round`);
    ctx.log(
      "one consumer.ts (Postgres history, Redis db 14) for both; visible = the price read back from Redis",
    );
    const ours: Samples[] = [];
    const baseline: Samples[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (["ours", "baseline"] as const) : (["baseline", "ours"] as const);
      for (const which of order)
        (which === "ours" ? ours : baseline).push(await (which === "ours" ? streamCase() : pollCase()));
      const last = (s: Samples[]) => s.at(-1) ?? [];
      ctx.log(
        `round ${round + 1}/${ROUNDS}: stream p50 ${percentile(last(ours), 50).toFixed(1)} ms, p99 ${percentile(last(ours), 99).toFixed(1)} ms; polling p50 ${percentile(last(baseline), 50).toFixed(0)} ms`,
      );
    }
    // Pooled over the rounds: a p99 needs more samples than one round has.
    const all = (rounds: Samples[]) => rounds.flat();
    const figure = (p: number): Figure => ({
      benchmark: `Emit to visible in Redis, p${p} (stream vs 1 s polling)`,
      unit: "ms",
      better: "lower",
      ours: percentile(all(ours), p),
      baseline: percentile(all(baseline), p),
      rounds: {
        ours: ours.map((s) => percentile(s, p)),
        baseline: baseline.map((s) => percentile(s, p)),
      },
      note: `pooled over ${ROUNDS} rounds, ${all(ours).length} vs ${all(baseline).length} samples${p === 99 ? "; target ≤ 100 ms" : ""}`,
    });
    return [figure(50), figure(99)];
  },
};

/** SIGTERM, then the exit (a producer flushes what it holds first). */
async function stop(entry: EntryProcess): Promise<void> {
  if (entry.proc.exitCode !== null) return;
  entry.proc.kill("SIGTERM");
  await entry.exited;
}
