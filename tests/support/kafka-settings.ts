import type { KafkaSettings } from "../../lib/adapters/kafka/settings.ts";

/** Byte units for message-size tests. */
export const KiB = 1024;
/** @see KiB */
export const MiB = 1024 * KiB;
/** Kafka's default message.max.bytes. */
export const BROKER_DEFAULT = 1_048_588;

/** Kafka settings for tests that never reach a broker (the address is a closed loopback port). */
export const OFFLINE_KAFKA: KafkaSettings = {
  brokers: ["127.0.0.1:9"],
  topic: "belly-price",
  dlqTopic: "belly-price.dlq",
  group: "belly-consumer",
  clientId: "belly-test",
  sessionTimeoutMs: 6_000,
  sasl: null,
  ssl: false,
  caFile: null,
};
