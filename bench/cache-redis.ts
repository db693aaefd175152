/**
 * Latest cache on Redis: putIfNewer (newest tick per pair, one EVALSHA per batch) against one HGET and one
 * HSET round trip per tick with the compare done in the client. Runs in a logical db of its own, which must
 * be empty at the start and is flushed after each case.
 */
import { RedisClient } from "bun";
import { createRedisCache } from "../lib/adapters/redis/cache.ts";
import { latestKey, PAIRS_KEY } from "../lib/adapters/redis/latest-script.ts";
import { type Tick, tickKey, tickTime } from "../lib/tick.ts";
import type { Benchmark } from "./context.ts";
import {
  chunk,
  compare,
  expectEqual,
  interleaved,
  perSecond,
  rate,
  summarize,
  timeSteps,
} from "./measure.ts";
import { benchTicks, PAIRS } from "./ticks.ts";

const TICKS = 20_000;
const BATCH = 500;
const WARMUP_TICKS = 2_000;
/** Logical db the benchmark owns; the tests use 6 and 7. */
export const BENCH_REDIS_DB = 9;

/** Redis latest cache, ours vs a client-side compare per tick. */
export const cacheRedis: Benchmark = {
  name: `latest cache, Redis db ${BENCH_REDIS_DB} (${TICKS.toLocaleString("en-US")} ticks over ${PAIRS.length} pairs, batches of ${BATCH})`,
  needs: ["redis"],
  async run(ctx) {
    const url = `${ctx.stack.redisUrl}/${BENCH_REDIS_DB}`;
    const admin = new RedisClient(url, { connectionTimeout: 5_000 });
    ctx.defer(() => admin.close());
    const keys = Number(await admin.send("DBSIZE", []));
    // Flushing a db someone else filled would destroy their data; a benchmark is not worth that.
    if (keys > 0)
      throw new Error(`Redis db ${BENCH_REDIS_DB} already holds ${keys} keys; empty it or pick another db`);
    ctx.defer(() => admin.send("FLUSHDB", []));
    const flush = () => admin.send("FLUSHDB", []);

    const batches = chunk(benchTicks(TICKS), BATCH);
    const warmup = chunk(benchTicks(WARMUP_TICKS), BATCH);

    /** Warm-up, flush, then the timed batches; each case starts and leaves the db empty. */
    const measure = async (who: string, put: (batch: Tick[]) => Promise<number>, expected: number) => {
      for (const batch of warmup) await put(batch);
      await flush();
      let replaced = 0;
      const timed = await timeSteps(batches.length, async (i) => {
        replaced += await put(batches[i] as Tick[]);
      });
      await flush();
      expectEqual(`${who}: replaced`, replaced, expected);
      return { ticksPerSecond: perSecond(TICKS, timed.totalMs), batchP95Ms: summarize(timed.stepsMs).p95 };
    };

    const ours = async () => {
      const cache = createRedisCache(url);
      const close = ctx.defer(() => cache.close());
      try {
        // Each batch holds ten polls of every pair, so each pair is replaced once per batch.
        return await measure(
          "ours",
          async (batch) => (await cache.putIfNewer(batch)).updated,
          batches.length * PAIRS.length,
        );
      } finally {
        await close();
      }
    };

    const baseline = async () => {
      const client = new RedisClient(url, { connectionTimeout: 5_000 });
      const close = ctx.defer(() => client.close());
      const putEach = async (batch: Tick[]): Promise<number> => {
        let replaced = 0;
        for (const tick of batch) {
          const key = latestKey(tick.asset, tick.currency);
          const held = await client.hget(key, "ts");
          const ts = tickTime(tick);
          if (held !== null && ts <= Number(held)) continue;
          // HSET and SADD go out together (one round trip), as the script does both for each pair.
          await Promise.all([
            client.hset(key, "ts", String(ts), "tick", JSON.stringify(tick)),
            client.sadd(PAIRS_KEY, tickKey(tick)),
          ]);
          replaced++;
        }
        return replaced;
      };
      try {
        return await measure("baseline", putEach, TICKS);
      } finally {
        await close();
      }
    };

    ctx.log("ours: createRedisCache().putIfNewer, newest per pair, one EVALSHA per batch");
    ctx.log("baseline: HGET ts, compare in the client, then HSET + SADD, per tick");
    const rounds = await interleaved({ ours, baseline }, ctx.log, (m) => rate(m.ticksPerSecond, "ticks/s"));
    return [
      compare(rounds, "ticksPerSecond", {
        benchmark: "Redis latest cache write",
        unit: "ticks/s",
        better: "higher",
      }),
      compare(rounds, "batchP95Ms", {
        benchmark: `Redis latest cache, ${BATCH}-tick batch p95`,
        unit: "ms",
        better: "lower",
      }),
    ];
  },
};
