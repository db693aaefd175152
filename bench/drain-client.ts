/**
 * The baselines of the drain benchmark, each run as a child process of its own so that its peak RSS is its
 * own: `bun bench/drain-client.ts <mode> <settings JSON>`.
 *
 * - `raw`: a kafkajs consumer under Bun with its default fetch settings, eachBatch, no sinks: counts messages
 *   until `count` arrived (the client's ceiling).
 * - `naive`: kafkajs eachMessage, one `INSERT ... ON CONFLICT DO NOTHING` and one `HSET` per message, one
 *   Postgres connection, offsets auto-committed; stops once `count` messages are written, or runs until killed
 *   when `count` is 0 (the latency baseline).
 *
 * Prints one JSON line at the end (epoch ms of the first message and of the last one counted, peak RSS from
 * /proc/self/status VmHWM); with `count` 0 it prints `{"joined":true}` once the group is joined instead.
 */
import { readFileSync } from "node:fs";
import { RedisClient, SQL } from "bun";
import { Kafka, logLevel } from "kafkajs";
import { latestKey } from "../lib/adapters/redis/latest-script.ts";
import { printWarningsButKafkajsTimers } from "../lib/run/process.ts";

/** What the parent passes as the second argument. */
export interface DrainClientSettings {
  brokers: string;
  topic: string;
  group: string;
  /** Messages to count before reporting; 0: run until killed (naive only). */
  count: number;
  databaseUrl?: string;
  redisUrl?: string;
}

/** What the child prints on its last line. */
export interface DrainClientResult {
  /** Epoch ms (sub-ms) of the first message handled and of the `count`-th one counted or written. */
  firstAt: number;
  doneAt: number;
  counted: number;
  /** VmHWM of this process: the highest RSS it ever had, in MiB. */
  peakRssMiB: number;
}

/** Epoch milliseconds with the monotonic clock's resolution, comparable across processes. */
export const epochNow = () => performance.timeOrigin + performance.now();

/** The highest RSS this process (or `pid`) had so far, in MiB, from /proc/<pid>/status VmHWM (Linux). */
export function peakRssMiB(pid: number | "self" = "self"): number {
  const kib = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return kib === undefined ? Number.NaN : Number(kib) / 1024;
}

async function main(mode: string, settings: DrainClientSettings): Promise<void> {
  printWarningsButKafkajsTimers();
  const kafka = new Kafka({
    clientId: `bench-${mode}`,
    brokers: [settings.brokers],
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: settings.group, maxWaitTimeInMs: 1_000 });
  let firstAt = Number.NaN;
  let counted = 0;
  let finish = (_doneAt: number) => {};
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });
  if (settings.count === 0)
    consumer.on(consumer.events.GROUP_JOIN, () => console.log(JSON.stringify({ joined: true })));
  await consumer.connect();
  await consumer.subscribe({ topic: settings.topic, fromBeginning: true });

  if (mode === "raw") {
    await consumer.run({
      eachBatch: async ({ batch }) => {
        if (counted === 0) firstAt = epochNow();
        counted += batch.messages.length;
        if (counted >= settings.count) finish(epochNow());
      },
    });
  } else {
    const sql = new SQL({ url: settings.databaseUrl as string, max: 1 });
    const redis = new RedisClient(settings.redisUrl as string);
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (counted === 0) firstAt = epochNow();
        if (settings.count > 0 && counted >= settings.count) return;
        const tick = JSON.parse((message.value as Buffer).toString("utf8"));
        await sql`insert into price_history
          (asset, currency, price, market_cap, volume_24h, change_24h_pct, source, source_updated_at, fetched_at)
          values (${tick.asset}, ${tick.currency}, ${String(tick.price)}, ${tick.marketCap === null ? null : String(tick.marketCap)},
            ${tick.volume24h === null ? null : String(tick.volume24h)}, ${tick.change24hPct === null ? null : String(tick.change24hPct)},
            ${tick.source}, ${tick.sourceUpdatedAt}, ${tick.fetchedAt})
          on conflict do nothing`;
        await redis.hset(latestKey(tick.asset, tick.currency), {
          ts: String(Date.parse(tick.sourceUpdatedAt)),
          tick: JSON.stringify(tick),
        });
        counted++;
        if (counted === settings.count) finish(epochNow());
      },
    });
  }
  const doneAt = await done;
  const result: DrainClientResult = { firstAt, doneAt, counted, peakRssMiB: peakRssMiB() };
  console.log(JSON.stringify(result));
  // Leaving the group cleanly would only add seconds: its member times out, and its offsets go with the topic,
  // which the parent deletes.
  process.exit(0);
}

if (import.meta.main) {
  const [mode, json] = process.argv.slice(2);
  if ((mode !== "raw" && mode !== "naive") || !json) {
    console.error("usage: bun bench/drain-client.ts raw|naive '<settings JSON>' (bench/drain.ts calls this)");
    process.exit(2);
  }
  await main(mode, JSON.parse(json) as DrainClientSettings);
}
