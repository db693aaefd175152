// The topic's tail on the real Kafka: the newest tick per pair from the last messages of every partition.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Kafka } from "kafkajs";
import { createKafka } from "../lib/adapters/kafka/client.ts";
import type { KafkaSettings } from "../lib/adapters/kafka/settings.ts";
import { createTopicTail } from "../lib/adapters/kafka/topic-tail.ts";
import { silentLogger } from "../lib/log.ts";
import { publishRaw, testKafka } from "./support/kafka.ts";
import { createTestTopic, deleteTopics, type StackInfo, useStack } from "./support/stack.ts";
import { makeTick } from "./support/ticks.ts";

let stack: StackInfo;
let kafka: Kafka;
const topics: string[] = [];

function settings(topic: string): KafkaSettings {
  return {
    brokers: [stack.kafka.plaintext],
    topic,
    dlqTopic: `${topic}.dlq`,
    group: `${topic}-group`,
    clientId: "belly-tail-test",
    sessionTimeoutMs: 6_000,
    sasl: null,
    ssl: false,
    caFile: null,
  };
}

async function groupsOf(prefix: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.listGroups()).groups.map((g) => g.groupId).filter((id) => id.startsWith(prefix));
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  stack = await useStack();
  kafka = testKafka(stack.kafka.plaintext);
});

afterAll(async () => {
  await deleteTopics(topics);
});

describe("topic tail", () => {
  test("an empty topic has no newest tick", async () => {
    const topic = await createTestTopic("tail-empty", 3);
    topics.push(topic);
    const tail = createTopicTail(createKafka(settings(topic), silentLogger), settings(topic));
    expect(await tail.newest()).toEqual(new Map());
  });

  test("the newest source time per pair across partitions, older ticks published last and poison passed over", async () => {
    const topic = await createTestTopic("tail", 3);
    topics.push(topic);
    const ticks = [
      ...Array.from({ length: 20 }, (_, m) => makeTick({}, m)),
      ...Array.from({ length: 20 }, (_, m) => makeTick({ asset: "bitcoin", price: 90_000 }, m)),
      makeTick({ currency: "eur" }, 7),
    ];
    // A backfill's older point arrives after the newest one: the newest time still wins.
    await publishRaw(kafka, topic, [...ticks, makeTick({}, 2), "{poison"]);
    const tail = createTopicTail(createKafka(settings(topic), silentLogger), settings(topic));
    const newest = await tail.newest();
    expect(Object.fromEntries(newest)).toEqual({
      "beldex:usd": Date.UTC(2026, 10, 26, 18, 19),
      "bitcoin:usd": Date.UTC(2026, 10, 26, 18, 19),
      "beldex:eur": Date.UTC(2026, 10, 26, 18, 7),
    });
    // Its one-off group is gone afterwards.
    expect(await groupsOf(`${topic}-group-tail-`)).toEqual([]);
  });

  test("reads at most the last messages it is told to, per partition", async () => {
    const topic = await createTestTopic("tail-bound", 1);
    topics.push(topic);
    await publishRaw(kafka, topic, [
      makeTick({ asset: "ethereum" }, 1),
      ...Array.from({ length: 5 }, (_, m) => makeTick({}, m)),
    ]);
    const tail = createTopicTail(createKafka(settings(topic), silentLogger), settings(topic), {
      perPartition: 5,
    });
    expect([...(await tail.newest()).keys()]).toEqual(["beldex:usd"]);
  });
});
