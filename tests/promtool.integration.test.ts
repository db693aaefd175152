// Both processes' /metrics as Prometheus itself lints them: `promtool check metrics` (Debian's prometheus
// package) over what a running consumer.ts and producer.ts serve on the local stack, after real work (a batch
// stored, a poison message dead-lettered, a cycle published), so that histograms and labelled series are there.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import type { Kafka } from "kafkajs";
import { migratePostgres } from "../lib/adapters/postgres/history.ts";
import { consumerEnv } from "./support/consumer-env.ts";
import { type FakeCoinGecko, startFakeCoinGecko } from "./support/fake-coingecko.ts";
import { publishRaw, testKafka } from "./support/kafka.ts";
import { type EntryProcess, startEntry, waitFor } from "./support/processes.ts";
import {
  createTestDatabase,
  createTestTopic,
  deleteTopics,
  type StackInfo,
  useStack,
} from "./support/stack.ts";

const REDIS_DB = 12;

let stack: StackInfo;
let fake: FakeCoinGecko;
let kafka: Kafka;
let topic: string;
let db: { url: string; drop(): Promise<void> };
const running: EntryProcess[] = [];

/** What `promtool check metrics` says about `text`: its exit code and every line it printed. */
function promtool(text: string) {
  const run = Bun.spawnSync(["promtool", "check", "metrics"], {
    stdin: Buffer.from(text),
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: run.exitCode, out: `${run.stdout.toString()}${run.stderr.toString()}`.trim() };
}

/** A free TCP port on 127.0.0.1. */
function freePort(): number {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = server.port ?? 0;
  server.stop(true);
  return port;
}

beforeAll(async () => {
  stack = await useStack();
  fake = await startFakeCoinGecko();
  kafka = testKafka(stack.kafka.plaintext);
  topic = await createTestTopic("promtool", 2);
  db = await createTestDatabase("promtool");
  await migratePostgres(db.url);
});

afterAll(async () => {
  for (const entry of running) entry.proc.kill("SIGKILL");
  await Promise.all(running.map((entry) => entry.exited));
  const redis = new RedisClient(`${stack.redisUrl}/${REDIS_DB}`);
  await redis.send("FLUSHDB", []).catch(() => {});
  redis.close();
  await db?.drop();
  if (topic) await deleteTopics([topic, `${topic}.dlq`]);
  await fake?.stop();
});

describe("promtool check metrics", () => {
  test("passes the consumer's /metrics after a batch and a dead letter, histograms and labels included", async () => {
    const consumer = startEntry(
      "consumer.ts",
      consumerEnv(stack, { topic, databaseUrl: db.url, redisDb: REDIS_DB, sessionTimeoutMs: 6_000 }),
    );
    running.push(consumer);
    const url = await waitFor(
      "the status page",
      () => consumer.logs().find((l) => l.msg === "status page")?.url as string | undefined,
    );
    await waitFor("the consumer to start", () => consumer.logs().some((l) => l.msg === "consumer started"));
    await publishRaw(kafka, topic, ["{not json"]);
    const producer = startEntry(
      "producer.ts",
      {
        KAFKA_BROKERS: stack.kafka.plaintext,
        KAFKA_TOPIC: topic,
        COINGECKO_BASE_URL: fake.url,
        LOG_LEVEL: "info",
      },
      ["--once"],
    );
    expect(await producer.exited).toBe(0);
    const text = await waitFor("a batch and a dead letter in /metrics", async (): Promise<string | false> => {
      const body = await (await fetch(new URL("/metrics", url))).text();
      return /^belly_dlq_total\{reason="not-json"\} 1$/m.test(body) &&
        /^belly_batch_duration_seconds_count [1-9]/m.test(body)
        ? body
        : false;
    });
    if (!text) throw new Error("unreachable: waitFor returns only a body");
    expect(text).toMatch(/^belly_sink_write_duration_seconds_bucket\{sink="history",le="\+Inf"\} [1-9]/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(promtool(text)).toEqual({ code: 0, out: "" });
  }, 60_000);

  test("passes the producer's /metrics on HEALTH_PORT after a cycle", async () => {
    const port = freePort();
    const producer = startEntry("producer.ts", {
      KAFKA_BROKERS: stack.kafka.plaintext,
      KAFKA_TOPIC: topic,
      COINGECKO_BASE_URL: fake.url,
      ASSETS: "beldex,no-such-coin",
      FETCH_INTERVAL: "3600",
      HEALTH_PORT: String(port),
      LOG_LEVEL: "info",
    });
    running.push(producer);
    await waitFor("a cycle", () => producer.logs().some((l) => l.msg === "cycle"));
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/^belly_producer_ticks_published_total [1-9]/m);
    expect(text).toMatch(/^belly_producer_ticks_skipped_total\{reason="[^"]+"\} 1$/m);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(promtool(text)).toEqual({ code: 0, out: "" });
  }, 60_000);

  test("fails what breaks Prometheus' naming rules (the check above is real)", () => {
    const run = promtool("# HELP belly_things Things.\n# TYPE belly_things counter\nbelly_things 1\n");
    expect(run.code).not.toBe(0);
    expect(run.out).toContain('should have "_total" suffix');
  });
});
