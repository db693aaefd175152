// ensureTopics without a broker, against an admin that keeps topic configs the way Kafka does (overrides per
// topic, defaults for the rest, AlterConfigs replacing every override): the DLQ takes what its topic takes.
import { describe, expect, test } from "bun:test";
import type { Kafka } from "kafkajs";
import { ensureTopics, waitForLeaders } from "../lib/adapters/kafka/client.ts";
import { createLogger, silentLogger } from "../lib/log.ts";
import { BROKER_DEFAULT, KiB, MiB, OFFLINE_KAFKA } from "./support/kafka-settings.ts";

const config = OFFLINE_KAFKA;

/** An admin over topics with configs, as a broker keeps them: overrides per topic, the rest defaults. */
function fakeAdmin(
  topics: Record<string, Record<string, string>>,
  options: { denyDescribe?: boolean; denyAlter?: boolean; electing?: unknown[] } = {},
) {
  const state = new Map(
    Object.entries(topics).map(([name, overrides]) => [name, new Map(Object.entries(overrides))]),
  );
  const calls: {
    created: { topic: string; configEntries?: { name: string; value: string }[] }[];
    altered: unknown[];
  } = {
    created: [],
    altered: [],
  };
  const denied = () =>
    Object.assign(new Error("Cluster authorization failed"), { type: "TOPIC_AUTHORIZATION_FAILED" });
  const admin = {
    connect: async () => {},
    disconnect: async () => {},
    listTopics: async () => [...state.keys()],
    createTopics: async ({
      topics,
    }: {
      topics: { topic: string; configEntries?: { name: string; value: string }[] }[];
    }) => {
      for (const t of topics) {
        calls.created.push(t);
        state.set(t.topic, new Map((t.configEntries ?? []).map((e) => [e.name, e.value])));
      }
      return true;
    },
    // While `electing` holds answers, each metadata request takes the next one: an error to throw, or a leader.
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
      const answer = options.electing?.shift() ?? 1;
      if (answer instanceof Error) throw answer;
      return {
        topics: topics.map((name) => ({
          name,
          partitions: [
            {
              partitionId: 0,
              leader: answer,
              partitionErrorCode: answer === -1 ? 5 : 0,
              replicas: [1],
              isr: [1],
            },
          ],
        })),
      };
    },
    describeConfigs: async ({ resources }: { resources: { name: string }[] }) => {
      if (options.denyDescribe) throw denied();
      return {
        resources: resources.map(({ name }) => {
          const overrides = state.get(name) ?? new Map<string, string>();
          const entry = (configName: string, configValue: string, configSource: number) => ({
            configName,
            configValue,
            configSource,
            isDefault: configSource === 5,
            isSensitive: false,
            readOnly: false,
            configSynonyms: [],
          });
          const configEntries = [...overrides].map(([k, v]) => entry(k, v, 1));
          if (!overrides.has("max.message.bytes"))
            configEntries.push(entry("max.message.bytes", String(BROKER_DEFAULT), 5));
          configEntries.push(entry("cleanup.policy", "delete", 5));
          return { resourceName: name, resourceType: 2, errorCode: 0, errorMessage: "", configEntries };
        }),
      };
    },
    alterConfigs: async ({
      resources,
    }: {
      resources: { name: string; configEntries: { name: string; value: string }[] }[];
    }) => {
      if (options.denyAlter) throw denied();
      for (const r of resources) {
        calls.altered.push(r);
        // Like Kafka's AlterConfigs: the entries given replace every override of the topic.
        state.set(r.name, new Map(r.configEntries.map((e) => [e.name, e.value])));
      }
    },
  };
  const kafka = { admin: () => admin } as unknown as Kafka;
  return { kafka, state, calls };
}

function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ sink: (line) => lines.push(JSON.parse(line)) });
  return { log, warnings: () => lines.filter((l) => l.level === "warn") };
}

describe("ensureTopics and the DLQ's size limit", () => {
  test("creates a missing DLQ with the topic's max.message.bytes plus room for the dead-letter headers", async () => {
    const broker = fakeAdmin({ "belly-price": { "max.message.bytes": String(4 * MiB) } });
    await ensureTopics(broker.kafka, config, silentLogger);
    expect(broker.state.get("belly-price.dlq")?.get("max.message.bytes")).toBe(String(4 * MiB + 64 * KiB));
  });

  test("creates both topics when both are missing, the DLQ with the broker default plus that room", async () => {
    const broker = fakeAdmin({});
    await ensureTopics(broker.kafka, config, silentLogger);
    expect(broker.calls.created.map((t) => t.topic)).toEqual(["belly-price", "belly-price.dlq"]);
    expect(broker.state.get("belly-price.dlq")?.get("max.message.bytes")).toBe(
      String(BROKER_DEFAULT + 64 * KiB),
    );
  });

  test("waits while a new topic's leaders are being elected instead of failing the start", async () => {
    const notHosted = Object.assign(new Error("This server does not host this topic-partition"), {
      type: "UNKNOWN_TOPIC_OR_PARTITION",
    });
    const electing: unknown[] = [notHosted, notHosted, -1, 1, notHosted, -1];
    const broker = fakeAdmin({}, { electing });
    await ensureTopics(broker.kafka, config, silentLogger);
    expect(broker.calls.created.map((t) => t.topic)).toEqual(["belly-price", "belly-price.dlq"]);
    expect(electing).toEqual([]);
  });

  test("fails with the topic and what is still missing when its leaders never come", async () => {
    const broker = fakeAdmin({ "belly-price": {} }, { electing: Array(100).fill(-1) });
    const error = await waitForLeaders(broker.kafka.admin(), "belly-price", 300).catch((e: Error) => e);
    expect(String(error)).toContain("topic belly-price still has no leader after 0.3 s: 1 of 1 partitions");
  });

  test("raises an existing DLQ's smaller limit and keeps its other overrides", async () => {
    const broker = fakeAdmin({
      "belly-price": { "max.message.bytes": String(4 * MiB) },
      "belly-price.dlq": { "retention.ms": "604800000" },
    });
    await ensureTopics(broker.kafka, config, silentLogger);
    expect(broker.calls.created).toEqual([]);
    expect(Object.fromEntries(broker.state.get("belly-price.dlq") ?? [])).toEqual({
      "retention.ms": "604800000",
      "max.message.bytes": String(4 * MiB + 64 * KiB),
    });
  });

  test("leaves a DLQ that already takes larger messages alone", async () => {
    const broker = fakeAdmin({
      "belly-price": {},
      "belly-price.dlq": { "max.message.bytes": String(8 * MiB) },
    });
    await ensureTopics(broker.kafka, config, silentLogger);
    expect(broker.calls.altered).toEqual([]);
  });

  test("warns with the fix when it may not raise the DLQ's limit, and still starts", async () => {
    const broker = fakeAdmin(
      { "belly-price": { "max.message.bytes": String(4 * MiB) }, "belly-price.dlq": {} },
      { denyAlter: true },
    );
    const { log, warnings } = capturedLog();
    await ensureTopics(broker.kafka, config, log);
    expect(warnings()).toHaveLength(1);
    expect(String(warnings()[0]?.fix)).toContain(
      `max.message.bytes=${4 * MiB + 64 * KiB} on topic belly-price.dlq`,
    );
  });

  test("warns with the fix when it may not read topic configs, and creates the DLQ as before", async () => {
    const broker = fakeAdmin({ "belly-price": {} }, { denyDescribe: true });
    const { log, warnings } = capturedLog();
    await ensureTopics(broker.kafka, config, log);
    expect(broker.calls.created).toEqual([{ topic: "belly-price.dlq", configEntries: undefined }]);
    expect(String(warnings()[0]?.fix)).toBe("grant DESCRIBE_CONFIGS on topic belly-price");
  });
});
