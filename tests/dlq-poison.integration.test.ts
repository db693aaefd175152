// Poison of any size never stops the pipeline, on the stack's Kafka: the topic allows 4 MiB, a 3 MiB message
// that is no tick arrives, and the valid tick published behind it on the same partition is still stored.
// The DLQ takes the poison whole once ensureTopics has given it the topic's limit, and as an envelope when
// it kept the broker's default of about 1 MiB (as when the user may not alter topic configs). The consumer's
// own code runs in-process (subscriber, batch step, DLQ publisher) over in-memory sinks.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ConfigResourceTypes, type Kafka } from "kafkajs";
import { createKafka, ensureTopics } from "../lib/adapters/kafka/client.ts";
import { createKafkaPublisher } from "../lib/adapters/kafka/publisher.ts";
import type { KafkaSettings } from "../lib/adapters/kafka/settings.ts";
import { subscribeKafka } from "../lib/adapters/kafka/subscriber.ts";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import type { DeadLetterEnvelope } from "../lib/dead-letters.ts";
import { silentLogger } from "../lib/log.ts";
import { createBatchProcessor } from "../lib/pipeline/consume.ts";
import { createConsumerMetrics } from "../lib/pipeline/metrics.ts";
import { groupCaughtUp, publishRaw, readTopic, testKafka } from "./support/kafka.ts";
import { waitFor } from "./support/processes.ts";
import { createTestTopic, deleteTopics, type StackInfo, useStack } from "./support/stack.ts";
import { makeTick } from "./support/ticks.ts";

const MiB = 1024 * 1024;
const POISON = "x".repeat(3 * MiB);

let stack: StackInfo;
let kafka: Kafka;
const topics: string[] = [];

beforeAll(async () => {
  stack = await useStack();
  kafka = testKafka(stack.kafka.plaintext);
}, 180_000);

afterAll(async () => {
  await deleteTopics(topics);
});

async function withAdmin<T>(work: (admin: ReturnType<Kafka["admin"]>) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

async function maxMessageBytes(topic: string): Promise<number> {
  const { resources } = await withAdmin((admin) =>
    admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ["max.message.bytes"] }],
      includeSynonyms: false,
    }),
  );
  return Number(resources[0]?.configEntries.find((e) => e.configName === "max.message.bytes")?.configValue);
}

/** A one-partition topic that takes messages of up to 4 MiB, so the poison and the tick share a partition. */
async function bigMessageTopic(prefix: string): Promise<string> {
  const topic = await createTestTopic(prefix, 1);
  topics.push(topic, `${topic}.dlq`);
  await withAdmin((admin) =>
    admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: [{ name: "max.message.bytes", value: String(4 * MiB) }],
        },
      ],
    }),
  );
  await waitFor("the topic's 4 MiB limit", async () => (await maxMessageBytes(topic)) === 4 * MiB);
  return topic;
}

function settingsFor(topic: string): KafkaSettings {
  return {
    brokers: [stack.kafka.plaintext],
    topic,
    dlqTopic: `${topic}.dlq`,
    group: `${topic}-group`,
    clientId: "belly-dlq-poison-test",
    sessionTimeoutMs: 6_000,
    sasl: null,
    ssl: false,
    caFile: null,
  };
}

/** The consumer's pipeline over in-memory sinks, as consumer.ts wires it over Kafka. */
async function startConsumer(app: Kafka, settings: KafkaSettings) {
  const history = createMemoryHistory();
  const cache = createMemoryCache();
  const deadLetters = await createKafkaPublisher(app, settings);
  const processBatch = createBatchProcessor({
    history,
    cache,
    deadLetters,
    log: silentLogger,
    metrics: createConsumerMetrics(),
  });
  const subscription = await subscribeKafka(app, settings, processBatch, silentLogger);
  return {
    history,
    cache,
    async stop() {
      await subscription.stop();
      await deadLetters.close();
    },
  };
}

/** Publishes the poison, then a valid tick behind it, and waits until the tick is stored and all committed. */
async function poisonThenTick(settings: KafkaSettings, consumer: Awaited<ReturnType<typeof startConsumer>>) {
  const tick = makeTick({ asset: "bitcoin", price: 91_000 });
  await publishRaw(kafka, settings.topic, [POISON]);
  await publishRaw(kafka, settings.topic, [tick]);
  await waitFor("the tick behind the poison in the history", () => consumer.history.rows.size === 1, 45_000);
  expect(await consumer.cache.get("bitcoin", "usd")).toEqual(tick);
  await waitFor("the group to commit past both", () => groupCaughtUp(kafka, settings.group, settings.topic));
  const dead = await readTopic(kafka, settings.dlqTopic, 1);
  expect(dead).toHaveLength(1);
  return dead[0];
}

describe("poison larger than the broker's default message size", () => {
  test("goes to the DLQ whole once ensureTopics gave the DLQ the topic's limit, and the next tick is stored", async () => {
    const topic = await bigMessageTopic("poison-whole");
    const settings = settingsFor(topic);
    const app = createKafka(settings, silentLogger);
    await ensureTopics(app, settings, silentLogger);
    expect(await maxMessageBytes(settings.dlqTopic)).toBeGreaterThanOrEqual(4 * MiB);
    const consumer = await startConsumer(app, settings);
    try {
      const dead = await poisonThenTick(settings, consumer);
      expect(dead?.value.length).toBe(POISON.length);
      expect(dead?.headers["dlq-reason"]).toContain("not JSON");
      expect(dead?.headers["dlq-envelope"]).toBeUndefined();
    } finally {
      await consumer.stop();
    }
  }, 90_000);

  test("goes to a DLQ that kept the ~1 MiB default as an envelope, and the next tick is stored", async () => {
    const topic = await bigMessageTopic("poison-envelope");
    const settings = settingsFor(topic);
    // Made beforehand with the broker's defaults, and not raised: ensureTopics is left out on purpose.
    await withAdmin((admin) =>
      admin.createTopics({
        topics: [{ topic: settings.dlqTopic, numPartitions: 1, replicationFactor: 1 }],
        waitForLeaders: true,
      }),
    );
    expect(await maxMessageBytes(settings.dlqTopic)).toBeLessThan(POISON.length);
    const app = createKafka(settings, silentLogger);
    const consumer = await startConsumer(app, settings);
    try {
      const dead = await poisonThenTick(settings, consumer);
      expect(dead?.headers["dlq-envelope"]).toBe("true");
      expect(dead?.headers["dlq-source"]).toBe(`${topic}/0/0`);
      const envelope = JSON.parse(dead?.value ?? "") as DeadLetterEnvelope;
      expect(envelope).toMatchObject({
        sourceTopic: topic,
        partition: 0,
        offset: "0",
        key: "poison",
        valueBytes: POISON.length,
        valueHead: "x".repeat(1024),
      });
      expect(envelope.reason).toContain("not JSON");
    } finally {
      await consumer.stop();
    }
  }, 90_000);
});
