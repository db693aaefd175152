// Outages of the production sinks under a running consumer.ts: the cache is Upstash REST and the history
// Supabase, each reached through its test-only bridge (the official clients unmodified) and, in front of each
// bridge, a loopback relay the test faults from outside: frozen (sockets stay open, no byte moves) or cut
// (connections closed, new ones refused) for 30 s, then restored. Each test publishes ticks before, during and
// after the fault and checks that the consumer rides it out alone: nothing lost, nothing stored twice, the
// latest price right again, the status page saying which sink is down while it is, and no exit but a SIGTERM.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient, SQL } from "bun";
import type { Kafka } from "kafkajs";
import { migratePostgres } from "../lib/adapters/postgres/history.ts";
import type { Tick } from "../lib/tick.ts";
import { throughPort } from "./support/consumer-env.ts";
import {
  expectAllStoredOnce,
  latestAt,
  probes,
  probesUntil,
  report,
  rowCount,
  storedTicks,
  tickSeries,
} from "./support/fault-checks.ts";
import { groupCaughtUp, publishRaw, testKafka } from "./support/kafka.ts";
import { type PostgrestBridge, startPostgrestBridge } from "./support/postgrest-bridge.ts";
import { type EntryProcess, startEntry, waitFor } from "./support/processes.ts";
import { type Relay, startRelay } from "./support/relay.ts";
import {
  createTestDatabase,
  createTestTopic,
  deleteTopics,
  type StackInfo,
  useStack,
} from "./support/stack.ts";
import { startUpstashBridge, type UpstashBridge } from "./support/upstash-bridge.ts";

const REDIS_DB = 11;
const REDIS_TOKEN = "upstash-token-for-outage-tests";
const ANON_KEY = "anon-key-for-outage-tests";
const SERVICE_ROLE_KEY = "service-role-key-for-outage-tests";
const FAULT_MS = 30_000;

let stack: StackInfo;
let kafka: Kafka;
let db: { url: string; drop(): Promise<void> };
let sql: SQL;
let redis: RedisClient;
let upstash: UpstashBridge;
let postgrest: PostgrestBridge;
const topics: string[] = [];
// Dated in the last hour, so that after a recovery the data is fresh and /readyz may answer 200 again.
const ticks = tickSeries(Date.now() - 60 * 60_000, 10_000);

beforeAll(async () => {
  stack = await useStack();
  kafka = testKafka(stack.kafka.plaintext);
  db = await createTestDatabase("sink_outages");
  await migratePostgres(db.url);
  sql = new SQL(db.url);
  redis = new RedisClient(`${stack.redisUrl}/${REDIS_DB}`);
  await redis.send("FLUSHDB", []);
  upstash = await startUpstashBridge({ redisUrl: stack.redisUrl, token: REDIS_TOKEN, db: REDIS_DB });
  postgrest = await startPostgrestBridge({
    databaseUrl: db.url,
    anonKey: ANON_KEY,
    serviceRoleKey: SERVICE_ROLE_KEY,
  });
}, 180_000);

afterAll(async () => {
  await upstash?.stop();
  await postgrest?.stop();
  await redis?.send("FLUSHDB", []).catch(() => {});
  redis?.close();
  await sql?.close();
  await db?.drop();
  await deleteTopics(topics.flatMap((topic) => [topic, `${topic}.dlq`])).catch(() => {});
}, 60_000);

/** A relay in front of a bridge, and the bridge's URL with the relay's port (no trailing slash). */
async function relayTo(bridgeUrl: string): Promise<{ relay: Relay; url: string }> {
  const relay = await startRelay({ host: "127.0.0.1", port: Number(new URL(bridgeUrl).port) });
  return { relay, url: throughPort(bridgeUrl, relay.port).replace(/\/$/, "") };
}

/**
 * One outage: a consumer with both sinks behind relays, ticks before the fault, the fault on `sink`'s link
 * for 30 s with ticks published into it, then ticks after it; checks and reports the recovery.
 */
async function rideOut(fault: string, sink: "cache" | "history", mode: "freeze" | "cut", asset: string) {
  const topic = await createTestTopic(`outage-${asset}`, 3);
  topics.push(topic);
  const group = `${topic}-group`;
  const cache = await relayTo(upstash.url);
  const history = await relayTo(postgrest.url);
  const consumer: EntryProcess = startEntry("consumer.ts", {
    KAFKA_BROKERS: stack.kafka.plaintext,
    KAFKA_TOPIC: topic,
    KAFKA_CONSUMER_GROUP: group,
    KAFKA_SESSION_TIMEOUT_MS: "10000",
    REDIS_URL: cache.url,
    REDIS_TOKEN,
    SUPABASE_URL: history.url,
    SUPABASE_ANON_KEY: ANON_KEY,
    SUPABASE_SERVICE_ROLE_KEY: SERVICE_ROLE_KEY,
    ASSETS: asset,
    FETCH_INTERVAL: "3600",
    LOG_LEVEL: "info",
    PORT: "0",
  });
  const faulted = sink === "cache" ? cache.relay : history.relay;
  // The consumer's last lines say why when a wait ends.
  const why = () => new Error(consumer.lines.slice(-4).join("\n"));
  try {
    await waitFor(
      "the consumer to start",
      () => consumer.logs().some((l) => l.msg === "consumer started"),
      60_000,
    );
    const base = String(consumer.logs().find((l) => l.msg === "status page")?.url);
    const before = ticks(20, asset);
    await publishRaw(kafka, topic, before);
    await waitFor(
      "the first ticks stored and cached",
      async () =>
        (await rowCount(sql, asset)) === before.length &&
        (await latestAt(redis, asset)) === (before.at(-1) as Tick).sourceUpdatedAt,
      60_000,
    );

    faulted[mode]();
    const faultStarted = performance.now();
    const during = ticks(20, asset);
    await publishRaw(kafka, topic, during);
    // The first write of the batch must fail (at once when cut, at its deadline when frozen) for the consumer
    // to know the sink is down; the probes answer within their own 3 s deadline meanwhile.
    const seen = await probesUntil(
      `/readyz and /metrics to report the ${sink} down`,
      base,
      sink,
      (found) => found.up === 0 && found.body.down?.some((d) => d.dependency === sink) === true,
      FAULT_MS - 2_000,
    );
    expect(seen.status).toBe(503);
    expect(seen.body.failed).toContain(sink);
    expect(seen.body.checks[sink]).toBe(`${sink} unavailable`);
    expect(seen.body.checks.consumer).toContain(`${sink} down`);
    await Bun.sleep(Math.max(0, FAULT_MS - (performance.now() - faultStarted)));
    expect(consumer.proc.exitCode).toBeNull();
    // Still down at the end of the fault, not only at its start.
    expect((await probes(base, sink)).status).toBe(503);

    faulted.restore();
    const faultEnded = performance.now();
    const after = ticks(20, asset);
    await publishRaw(kafka, topic, after);
    const last = after.at(-1) as Tick;
    await waitFor(
      "the latest price after the fault",
      async () => {
        if ((await latestAt(redis, asset)) === last.sourceUpdatedAt) return true;
        throw why();
      },
      120_000,
    );
    await waitFor("every tick stored", async () => (await rowCount(sql, asset)) >= 60, 60_000);
    await waitFor("the group to commit everything", () => groupCaughtUp(kafka, group, topic), 60_000);
    report(fault, faultEnded);

    const sent = [...before, ...during, ...after];
    expectAllStoredOnce(sent, await storedTicks(sql, asset), await rowCount(sql, asset));
    expect(consumer.logs().some((l) => l.msg === "sink down" && l.sink === sink)).toBe(true);
    expect(consumer.logs().some((l) => l.msg === "sink recovered" && l.sink === sink)).toBe(true);
    const healed = await probesUntil(
      "/readyz to answer 200 again",
      base,
      sink,
      (found) => found.status === 200,
      30_000,
    );
    expect(healed.up).toBe(1);
    expect(healed.body.down).toBeUndefined();
    expect(faulted.accepted).toBeGreaterThan(0);
    expect(consumer.proc.exitCode).toBeNull();
    consumer.proc.kill("SIGTERM");
    expect(await consumer.exited).toBe(0);
  } finally {
    consumer.proc.kill("SIGKILL");
    await cache.relay.stop();
    await history.relay.stop();
  }
}

describe("Upstash and Supabase outages under a running consumer", () => {
  test("the Upstash link frozen for 30 s: each request hits its deadline and is retried, nothing lost or doubled", async () => {
    await rideOut("Upstash link frozen 30 s", "cache", "freeze", "beldex");
  }, 300_000);

  test("the Upstash link cut for 30 s: writes fail at once and are retried, nothing lost or doubled", async () => {
    await rideOut("Upstash link cut 30 s", "cache", "cut", "bitcoin");
  }, 300_000);

  test("the Supabase link frozen for 30 s: each upsert hits its deadline and is retried, nothing lost or doubled", async () => {
    await rideOut("Supabase link frozen 30 s", "history", "freeze", "ethereum");
  }, 300_000);

  test("the Supabase link cut for 30 s: upserts fail at once and are retried, nothing lost or doubled", async () => {
    await rideOut("Supabase link cut 30 s", "history", "cut", "solana");
  }, 300_000);
});
