// SIGKILL at random points of a 30,000-tick replay, at least ten times, with the history's link slowed so that the
// kills land mid-batch: every tick is stored exactly once and the latest price of every pair is the newest.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { RedisClient, SQL } from "bun";
import type { Kafka } from "kafkajs";
import { migratePostgres } from "../lib/adapters/postgres/history.ts";
import { latestKey } from "../lib/adapters/redis/latest-script.ts";
import type { Tick } from "../lib/tick.ts";
import { consumerEnv, throughPort } from "./support/consumer-env.ts";
import { groupCaughtUp, publishRaw, testKafka } from "./support/kafka.ts";
import { type EntryProcess, startEntry, waitFor } from "./support/processes.ts";
import { type Relay, startRelay } from "./support/relay.ts";
import { createTestDatabase, createTestTopic, deleteTopics, useStack } from "./support/stack.ts";

// More than the 20,000 asked for, so that ten kills land before the end even on a fast run.
const TICKS = 30_000;
const PAIRS = 20;
const KILLS = 10;
const REDIS_DB = 6;

let kafka: Kafka;
let topic: string;
let db: { url: string; drop(): Promise<void> };
let sql: SQL;
let redis: RedisClient;
let relay: Relay;
let env: Record<string, string>;
const started: EntryProcess[] = [];
const sent: Tick[] = [];

beforeAll(async () => {
  const stack = await useStack();
  kafka = testKafka(stack.kafka.plaintext);
  // Many partitions make many small batches (one per partition and fetch), so that kills land between them.
  topic = await createTestTopic("kills", 20);
  db = await createTestDatabase("kills");
  await migratePostgres(db.url);
  sql = new SQL(db.url);
  redis = new RedisClient(`${stack.redisUrl}/${REDIS_DB}`);
  await redis.send("FLUSHDB", []);
  relay = await startRelay({ host: "127.0.0.1", port: Number(new URL(db.url).port) });
  env = consumerEnv(stack, {
    topic,
    databaseUrl: throughPort(db.url, relay.port),
    redisDb: REDIS_DB,
    // A killed member holds its partitions until its session expires: the shortest the broker allows.
    sessionTimeoutMs: 6_000,
  });
  const start = Date.parse("2026-10-01T00:00:00Z");
  for (let i = 0; i < TICKS; i++) {
    const at = new Date(start + Math.floor(i / PAIRS) * 60_000).toISOString();
    sent.push({
      v: 1,
      asset: `coin-${i % PAIRS}`,
      currency: "usd",
      price: 1 + i / 1e4,
      marketCap: null,
      volume24h: null,
      change24hPct: null,
      sourceUpdatedAt: at,
      fetchedAt: at,
      source: "coingecko",
    });
  }
  for (let i = 0; i < sent.length; i += 2_000) await publishRaw(kafka, topic, sent.slice(i, i + 2_000));
}, 180_000);

afterAll(async () => {
  for (const proc of started) proc.proc.kill("SIGKILL");
  await relay?.stop();
  await redis?.send("FLUSHDB", []).catch(() => {});
  redis?.close();
  await sql?.close();
  await db?.drop();
  await deleteTopics([topic, `${topic}.dlq`]).catch(() => {});
}, 60_000);

async function rowCount(): Promise<number> {
  const [row] = await sql`select count(*)::int as n from price_history`;
  return row.n;
}

test(`${KILLS} SIGKILLs at random points of a ${TICKS}-tick replay lose and duplicate nothing`, async () => {
  relay.slow(50);
  const killedAt: number[] = [];
  // Each life is killed at a random moment soon after its first write landed: mid-batch, or between the
  // write and its commit, until ten kills landed before the replay was complete.
  while (killedAt.filter((n) => n < TICKS).length < KILLS && killedAt.length < 3 * KILLS) {
    const before = await rowCount();
    if (before >= TICKS) break;
    const consumer = startEntry("consumer.ts", env);
    started.push(consumer);
    await waitFor(
      "a write after the start",
      async () => {
        if ((await rowCount()) > before) return true;
        throw new Error(`rows ${killedAt.join(",")}: ${consumer.lines.slice(-3).join("\n")}`);
      },
      60_000,
    );
    await Bun.sleep(Math.floor(Math.random() * 60));
    consumer.proc.kill("SIGKILL");
    await consumer.exited;
    killedAt.push(await rowCount());
  }
  relay.restore();
  const last = startEntry("consumer.ts", env);
  started.push(last);
  const recovering = performance.now();
  await waitFor(
    "the group to commit everything",
    () => groupCaughtUp(kafka, env.KAFKA_CONSUMER_GROUP ?? "", topic),
    120_000,
  );
  const recoveredMs = Math.round(performance.now() - recovering);
  process.stderr.write(
    `[kills] rows stored at each kill: ${killedAt.join(", ")}; drained the rest in ${recoveredMs} ms\n`,
  );

  // Kills after the replay was complete would prove nothing.
  expect(killedAt.filter((n) => n < TICKS).length).toBeGreaterThanOrEqual(KILLS);
  expect(await rowCount()).toBe(TICKS);
  const rows: { asset: string; at: Date }[] =
    await sql`select asset, source_updated_at as at from price_history`;
  const present = new Set(rows.map((r) => `${r.asset}@${r.at.toISOString()}`));
  expect(sent.filter((t) => !present.has(`${t.asset}@${t.sourceUpdatedAt}`))).toEqual([]);
  for (let pair = 0; pair < PAIRS; pair++) {
    const newest = sent.filter((t) => t.asset === `coin-${pair}`).at(-1) as Tick;
    const raw = await redis.hget(latestKey(newest.asset, "usd"), "tick");
    expect(raw ? (JSON.parse(raw) as Tick).sourceUpdatedAt : null).toBe(newest.sourceUpdatedAt);
  }
  last.proc.kill("SIGTERM");
  expect(await last.exited).toBe(0);
}, 400_000);

test("two consumers share a group; one killed mid-replay, the other takes its partitions: nothing lost or doubled", async () => {
  const group = `${topic}-pair`;
  await sql`truncate price_history`;
  await redis.send("FLUSHDB", []);
  relay.slow(50);
  const pairEnv = { ...env, KAFKA_CONSUMER_GROUP: group };
  const first = startEntry("consumer.ts", pairEnv);
  const second = startEntry("consumer.ts", pairEnv);
  started.push(first, second);
  await waitFor("both consumers writing", async () => (await rowCount()) > 2_000, 60_000);
  first.proc.kill("SIGKILL");
  await first.exited;
  const atKill = await rowCount();
  relay.restore();
  await waitFor("the survivor to commit everything", () => groupCaughtUp(kafka, group, topic), 120_000);
  expect(atKill).toBeLessThan(TICKS);
  expect(await rowCount()).toBe(TICKS);
  expect(second.proc.exitCode).toBeNull();
  second.proc.kill("SIGTERM");
  expect(await second.exited).toBe(0);
}, 240_000);
