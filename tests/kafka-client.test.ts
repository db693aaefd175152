// The Kafka client's noise: kafkajs' own lines only at debug, no warning when the producer is built — all
// without a broker.
import { describe, expect, test } from "bun:test";
import { createKafka } from "../lib/adapters/kafka/client.ts";
import type { KafkaSettings } from "../lib/adapters/kafka/settings.ts";
import { createLogger, type LogLevel } from "../lib/log.ts";
import { startCommand } from "./support/processes.ts";

const config: KafkaSettings = {
  brokers: ["127.0.0.1:1"],
  topic: "belly-price",
  dlqTopic: "belly-price.dlq",
  group: "belly-consumers",
  clientId: "belly-stream",
  sessionTimeoutMs: 30_000,
  sasl: null,
  ssl: false,
  caFile: null,
};

function capture(level: LogLevel) {
  const records: Record<string, unknown>[] = [];
  const log = createLogger({ level, sink: (line) => records.push(JSON.parse(line)) });
  return { log, records };
}

describe("kafkajs' own log lines", () => {
  test("go to debug, errors included, keeping their level and an excerpt of their fields", () => {
    const { log, records } = capture("debug");
    const kafkajs = createKafka(config, log).logger();
    kafkajs.error("Connection error: connect ECONNREFUSED 127.0.0.1:1", {
      broker: "127.0.0.1:1",
      stack: "Error: connect ECONNREFUSED 127.0.0.1:1\n    at afterConnect (node:net:1)",
    });
    kafkajs.warn("Limiting retries for the idempotent producer may invalidate EoS guarantees");
    expect(records).toMatchObject([
      {
        level: "debug",
        msg: "kafkajs: Connection error: connect ECONNREFUSED 127.0.0.1:1",
        kafkajsLevel: "error",
        kafkajs: expect.stringContaining("afterConnect"),
      },
      { level: "debug", kafkajsLevel: "warn" },
    ]);
  });

  test("print nothing at the default level", () => {
    const { log, records } = capture("info");
    const kafkajs = createKafka(config, log).logger();
    kafkajs.error("Failed to connect to seed broker, trying another broker from the list");
    kafkajs.warn("anything");
    expect(records).toEqual([]);
  });
});

describe("the publisher's producer", () => {
  test("is built without kafkajs' partitioner and idempotent-retries warnings, which the old options gave", async () => {
    const run = startCommand([process.execPath, "run", "tests/support/producer-warnings.ts"], {});
    expect(await run.exited).toBe(0);
    const { ours, before } = JSON.parse(run.lines.at(-1) ?? "{}");
    expect(ours).toEqual([]);
    // The same capture sees both warnings for the producer options used before.
    expect(before).toEqual([
      expect.stringContaining("switched default partitioner"),
      expect.stringContaining("Limiting retries for the idempotent producer"),
    ]);
  });
});
