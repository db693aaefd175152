// The seed's "producer only" suite: producer.ts --once against real Kafka, on both listeners.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Kafka } from "kafkajs";
import { parseTick, TICK_SCHEMA } from "../lib/tick.ts";
import { type FakeCoinGecko, startFakeCoinGecko } from "./support/fake-coingecko.ts";
import { readTopic, testKafka } from "./support/kafka.ts";
import { runEntry } from "./support/processes.ts";
import { createTestTopic, deleteTopics, type StackInfo, useStack } from "./support/stack.ts";

let stack: StackInfo;
let fake: FakeCoinGecko;
let kafka: Kafka;
const topics: string[] = [];

async function topicFor(name: string): Promise<string> {
  const topic = await createTestTopic(name, 3);
  topics.push(topic, `${topic}.dlq`);
  return topic;
}

/** The settings a Redpanda Cloud user puts in .env, pointed at the local SASL_SSL listener. */
function redpandaEnv(topic: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: stack.kafka.saslSsl,
    KAFKA_TOPIC: topic,
    KAFKA_USERNAME: stack.kafka.username,
    KAFKA_PASSWORD: stack.kafka.password,
    KAFKA_CA_FILE: stack.kafka.caFile,
    COINGECKO_BASE_URL: fake.url,
    ASSETS: "beldex,bitcoin",
    VS_CURRENCIES: "usd,eur",
    ...overrides,
  };
}

beforeAll(async () => {
  stack = await useStack();
  fake = await startFakeCoinGecko();
  kafka = testKafka(stack.kafka.plaintext);
});

afterAll(async () => {
  await deleteTopics(topics);
  await fake?.stop();
});

describe("producer --once", () => {
  test("publishes one keyed, validated tick per pair over PLAINTEXT", async () => {
    const topic = await topicFor("plain");
    const run = await runEntry(
      "producer.ts",
      {
        KAFKA_BROKERS: stack.kafka.plaintext,
        KAFKA_TOPIC: topic,
        COINGECKO_BASE_URL: fake.url,
        ASSETS: "beldex,bitcoin,ethereum",
        VS_CURRENCIES: "usd,eur",
      },
      ["--once"],
    );
    expect(run.code).toBe(0);
    const messages = await readTopic(kafka, topic, 6);
    expect(messages).toHaveLength(6);
    for (const message of messages) {
      const tick = parseTick(JSON.parse(message.value));
      expect(message.key).toBe(`${tick.asset}:${tick.currency}`);
      expect(message.headers).toMatchObject({ "content-type": "application/json", schema: TICK_SCHEMA });
    }
    // Keyed by pair: each pair always lands on the same partition, so its ticks stay in order.
    const cycle = JSON.parse(run.lines.find((l) => l.includes('"msg":"cycle"')) ?? "{}");
    expect(cycle).toMatchObject({ fetched: 6, published: 6, skipped: [] });
    expect(typeof cycle.latencyMs).toBe("number");
  });

  test.each([
    ["SCRAM-SHA-256 (the Redpanda Cloud default)", {}],
    ["SCRAM-SHA-512", { KAFKA_SASL_MECHANISM: "SCRAM-SHA-512" }],
    ["PLAIN", { KAFKA_SASL_MECHANISM: "PLAIN" }],
  ])("reaches the SASL_SSL listener with %s and a CA file", async (_name, overrides) => {
    const topic = await topicFor("sasl");
    const run = await runEntry("producer.ts", redpandaEnv(topic, overrides), ["--once"]);
    expect(run.code).toBe(0);
    expect(await readTopic(kafka, topic, 4)).toHaveLength(4);
  });

  test("a wrong password gives one line naming KAFKA_PASSWORD, without the password", async () => {
    const topic = await topicFor("badpass");
    const run = await runEntry("producer.ts", redpandaEnv(topic, { KAFKA_PASSWORD: "wrong-password-123" }), [
      "--once",
    ]);
    expect(run.code).toBe(1);
    const errors = run.lines.filter((l) => l.startsWith("error:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("KAFKA_PASSWORD");
    expect(run.lines.join("\n")).not.toContain("wrong-password-123");
  });

  test("an untrusted broker certificate points at KAFKA_CA_FILE at once, without kafkajs' retries", async () => {
    const env = redpandaEnv("unused");
    delete env.KAFKA_CA_FILE;
    const started = performance.now();
    const run = await runEntry("producer.ts", env, ["--once"]);
    // The first connect shakes hands itself; kafkajs alone retried the handshake for about 8 s.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("KAFKA_CA_FILE");
  });

  test("an unreachable broker points at KAFKA_BROKERS", async () => {
    const run = await runEntry(
      "producer.ts",
      { KAFKA_BROKERS: "127.0.0.1:1", COINGECKO_BASE_URL: fake.url },
      ["--once"],
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("KAFKA_BROKERS");
  });

  test("an unknown CoinGecko id publishes nothing and points at ASSETS", async () => {
    const topic = await topicFor("unknown");
    const run = await runEntry(
      "producer.ts",
      {
        KAFKA_BROKERS: stack.kafka.plaintext,
        KAFKA_TOPIC: topic,
        COINGECKO_BASE_URL: fake.url,
        ASSETS: "notacoin",
      },
      ["--once"],
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("ASSETS");
    expect(await readTopic(kafka, topic, 1, 2_000)).toHaveLength(0);
  });

  test("bad settings exit 2 with one line per variable and no stack trace", async () => {
    const run = await runEntry("producer.ts", { KAFKA_BROKERS: "nope", FETCH_INTERVAL: "0" }, ["--once"]);
    expect(run.code).toBe(2);
    expect(run.lines).toEqual([
      expect.stringMatching(/^config: KAFKA_BROKERS: expected/),
      expect.stringMatching(/^config: FETCH_INTERVAL: expected/),
    ]);
  });
});
