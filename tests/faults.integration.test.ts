// Faults injected from outside into a running consumer.ts on the real stack: a dependency's server is
// stopped for longer than its client retries, then started again; a stop signal arrives while the group join
// waits. Each test checks that nothing is lost, nothing is stored twice, and the process never exits by itself.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient, SQL } from "bun";
import type { Kafka } from "kafkajs";
import { migratePostgres } from "../lib/adapters/postgres/history.ts";
import type { Tick } from "../lib/tick.ts";
import { kafkaService } from "../scripts/stack/kafka.ts";
import { redisService } from "../scripts/stack/redis.ts";
import { consumerEnv, throughPort } from "./support/consumer-env.ts";
import {
  latestAt as cachedAt,
  rowCount as countRows,
  expectAllStoredOnce,
  probesUntil,
  report,
  storedTicks,
  tickSeries,
} from "./support/fault-checks.ts";
import { groupCaughtUp, publishRaw, testKafka } from "./support/kafka.ts";
import { type EntryProcess, startEntry, waitFor } from "./support/processes.ts";
import { startRelay } from "./support/relay.ts";
import {
  createTestDatabase,
  createTestTopic,
  deleteTopics,
  type StackInfo,
  useStack,
} from "./support/stack.ts";

const REDIS_DB = 7;
const quiet = () => {};

let stack: StackInfo;
let kafka: Kafka;
let topic: string;
let db: { url: string; drop(): Promise<void> };
let sql: SQL;
let redis: RedisClient;
let env: Record<string, string>;
let consumer: EntryProcess | undefined;
const ticks = tickSeries(Date.parse("2026-11-01T00:00:00Z"));
const stored = () => storedTicks(sql);
const rowCount = () => countRows(sql);
const latestAt = (asset: string) => cachedAt(redis, asset);

beforeAll(async () => {
  stack = await useStack();
  kafka = testKafka(stack.kafka.plaintext);
  topic = await createTestTopic("faults", 3);
  db = await createTestDatabase("faults");
  await migratePostgres(db.url);
  sql = new SQL(db.url);
  redis = new RedisClient(`${stack.redisUrl}/${REDIS_DB}`);
  await redis.send("FLUSHDB", []);
  env = consumerEnv(stack, { topic, databaseUrl: db.url, redisDb: REDIS_DB, sessionTimeoutMs: 10_000 });
}, 180_000);

afterAll(async () => {
  consumer?.proc.kill("SIGKILL");
  // Whatever a test did to the services, the next test file finds them running.
  await Promise.all([kafkaService(stack.stateDir).up(quiet), redisService(stack.stateDir).up(quiet)]);
  await redis?.send("FLUSHDB", []).catch(() => {});
  redis?.close();
  await sql?.close();
  await db?.drop();
  await deleteTopics([topic, `${topic}.dlq`]).catch(() => {});
}, 180_000);

describe("faults injected into a running consumer", () => {
  test("a Redis stopped for 30 s and started again: writes resume by themselves, nothing lost or doubled", async () => {
    consumer = startEntry("consumer.ts", env);
    await waitFor("the consumer to start", () => consumer?.logs().some((l) => l.msg === "consumer started"));
    const before = ticks(20);
    await publishRaw(kafka, topic, before);
    await waitFor("the first ticks to be stored", async () => (await rowCount()) === before.length);

    const service = redisService(stack.stateDir);
    await service.down(false);
    const during = ticks(20);
    await publishRaw(kafka, topic, during);
    await Bun.sleep(30_000);
    await service.up(quiet);
    const redisBack = performance.now();
    const after = ticks(20);
    await publishRaw(kafka, topic, after);

    const last = after.at(-1) as Tick;
    await waitFor(
      "the latest price after Redis came back",
      async () => {
        if ((await latestAt("beldex")) === last.sourceUpdatedAt) return true;
        // The consumer's last lines say why when the wait ends.
        throw new Error(consumer?.lines.slice(-4).join("\n") ?? "no consumer");
      },
      90_000,
    );
    await waitFor(
      "the group to commit everything",
      () => groupCaughtUp(kafka, env.KAFKA_CONSUMER_GROUP ?? "", topic),
      30_000,
    );
    report("Redis stopped 30 s", redisBack);
    const sent = [...before, ...during, ...after];
    expectAllStoredOnce(sent, await stored(), await rowCount());
    expect(consumer.proc.exitCode).toBeNull();
    expect(consumer.logs().some((l) => l.msg === "sink recovered")).toBe(true);
  }, 180_000);

  test("a Kafka broker stopped for 35 s and started again: the consumer stays up and takes every tick", async () => {
    const running = consumer as EntryProcess;
    const base = await rowCount();
    const page = String(running.logs().find((l) => l.msg === "status page")?.url);
    const service = kafkaService(stack.stateDir);
    await service.down(false);
    const stopped = performance.now();
    // The lag probe samples every 15 s; the first failed sample marks Kafka down.
    const seen = await probesUntil(
      "/readyz and /metrics to report kafka down",
      page,
      "kafka",
      (found) => found.up === 0,
      30_000,
    );
    expect(seen.status).toBe(503);
    expect(seen.body.checks.consumer).toContain("kafka down: check KAFKA_BROKERS");
    await Bun.sleep(Math.max(0, 35_000 - (performance.now() - stopped)));
    expect(running.proc.exitCode).toBeNull();
    await service.up(quiet);
    const kafkaBack = performance.now();
    const after = ticks(30, "bitcoin");
    await waitFor(
      "a publish to the restarted broker",
      async () => {
        await publishRaw(kafka, topic, after);
        return true;
      },
      60_000,
    );

    await waitFor(
      "every tick after the outage stored",
      async () => (await rowCount()) >= base + after.length,
      120_000,
    );
    await waitFor(
      "the group to commit everything",
      () => groupCaughtUp(kafka, env.KAFKA_CONSUMER_GROUP ?? "", topic),
      60_000,
    );
    report("Kafka stopped 35 s", kafkaBack);
    const present = await stored();
    expect(after.filter((t) => !present.has(`bitcoin@${t.sourceUpdatedAt}`))).toEqual([]);
    // A publish retried after the restart may have been written twice to Kafka; the history holds it once.
    expect(await rowCount()).toBe(base + after.length);
    expect(await latestAt("bitcoin")).toBe((after.at(-1) as Tick).sourceUpdatedAt);
    await probesUntil("kafka up again", page, "kafka", (found) => found.up === 1, 30_000);
    expect(running.logs().filter((l) => l.msg === "kafka down")).toHaveLength(1);
    expect(running.logs().some((l) => l.msg === "kafka recovered")).toBe(true);
    expect(running.proc.exitCode).toBeNull();

    running.proc.kill("SIGTERM");
    expect(await running.exited).toBe(0);
  }, 300_000);

  test("a Postgres link frozen for 30 s (packets stop, sockets stay open): the insert times out, is retried, and nothing is lost", async () => {
    const relay = await startRelay({ host: "127.0.0.1", port: Number(new URL(db.url).port) });
    const group = `${topic}-frozen`;
    const frozenEnv = { ...env, DATABASE_URL: throughPort(db.url, relay.port), KAFKA_CONSUMER_GROUP: group };
    const running = startEntry("consumer.ts", frozenEnv);
    try {
      await waitFor("the consumer to start", () => running.logs().some((l) => l.msg === "consumer started"));
      // The replay of what the topic holds is all duplicates; wait until the group took it.
      await waitFor("the replay", () => groupCaughtUp(kafka, group, topic), 60_000);
      const base = await rowCount();
      relay.freeze();
      const during = ticks(25, "solana");
      await publishRaw(kafka, topic, during);
      await Bun.sleep(30_000);
      expect(running.proc.exitCode).toBeNull();
      relay.restore();
      const thawed = performance.now();
      await waitFor(
        "every tick of the freeze stored",
        async () => (await rowCount()) >= base + during.length,
        90_000,
      );
      await waitFor("the group to commit everything", () => groupCaughtUp(kafka, group, topic), 60_000);
      report("Postgres link frozen 30 s", thawed);
      expect(await rowCount()).toBe(base + during.length);
      const present = await stored();
      expect(during.filter((t) => !present.has(`solana@${t.sourceUpdatedAt}`))).toEqual([]);
      expect(running.logs().some((l) => /no answer within/.test(String(l.error ?? "")))).toBe(true);
      expect(relay.accepted).toBeGreaterThan(0);
      expect(running.proc.exitCode).toBeNull();
      running.proc.kill("SIGTERM");
      expect(await running.exited).toBe(0);
    } finally {
      running.proc.kill("SIGKILL");
      await relay.stop();
    }
  }, 240_000);

  test("SIGTERM while the group join waits: exits 0 at once, and consumes and commits nothing", async () => {
    const group = `${topic}-join`;
    // A member of the group busy in a batch holds the rebalance, so the consumer's join waits.
    const blocker = kafka.consumer({ groupId: group, sessionTimeout: 30_000, rebalanceTimeout: 60_000 });
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let busy = () => {};
    const inBatch = new Promise<void>((resolve) => {
      busy = resolve;
    });
    await publishRaw(kafka, topic, ticks(1, "ethereum"));
    await blocker.connect();
    await blocker.subscribe({ topic, fromBeginning: true });
    await blocker.run({
      autoCommit: false,
      eachBatch: async () => {
        busy();
        await held;
      },
    });
    try {
      await inBatch;
      const joining = startEntry("consumer.ts", { ...env, KAFKA_CONSUMER_GROUP: group });
      await waitFor("the consumer to reach the group join", () =>
        joining.logs().some((l) => l.msg === "status page"),
      );
      await Bun.sleep(500);
      const signalled = performance.now();
      joining.proc.kill("SIGTERM");
      expect(await joining.exited).toBe(0);
      expect(performance.now() - signalled, joining.lines.join("\n")).toBeLessThan(5_000);
      report("SIGTERM during the group join (exit)", signalled);
      expect(joining.logs().some((l) => l.msg === "consumer started" || l.msg === "batch")).toBe(false);
    } finally {
      release();
      await blocker.disconnect();
    }
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      expect(committed?.partitions.every((p) => p.offset === "-1")).toBe(true);
    } finally {
      await admin.disconnect();
    }
  }, 120_000);
});
