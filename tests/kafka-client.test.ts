// The Kafka client's noise and first connect: kafkajs' own lines only at debug, no warning when the producer is
// built, and a wrong KAFKA_BROKERS told in one line within seconds — all without a broker.

import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { checkBrokersReachable, createKafka } from "../lib/adapters/kafka/client.ts";
import { createLogger, type LogLevel } from "../lib/log.ts";
import { OFFLINE_KAFKA } from "./support/kafka-settings.ts";
import { runEntry, startCommand } from "./support/processes.ts";

const config = OFFLINE_KAFKA;

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

describe("the first connect", () => {
  test("producer.ts with a closed broker port exits within 5 s with one line naming KAFKA_BROKERS", async () => {
    const started = performance.now();
    const run = await runEntry("producer.ts", { KAFKA_BROKERS: "127.0.0.1:1" });
    const seconds = (performance.now() - started) / 1000;
    expect(run.code).not.toBe(0);
    expect(seconds).toBeLessThan(5);
    expect(run.stderr.split("\n")).toEqual([
      expect.stringMatching(/^error: .*cannot reach Kafka at 127\.0\.0\.1:1.*KAFKA_BROKERS/),
    ]);
    const logged = run.lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line).msg);
    expect(logged.filter((msg) => String(msg).startsWith("kafkajs"))).toEqual([]);
  });

  test("refuses at once when every bootstrap broker refuses, naming each in order", async () => {
    const started = performance.now();
    const refused = checkBrokersReachable(["127.0.0.1:2", "127.0.0.1:1"]);
    await expect(refused).rejects.toThrow(
      "connect ECONNREFUSED 127.0.0.1:2; connect ECONNREFUSED 127.0.0.1:1",
    );
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  test("goes ahead when one bootstrap broker accepts TCP, leaving the rest to kafkajs", async () => {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    try {
      await checkBrokersReachable(["127.0.0.1:1", `127.0.0.1:${port}`]);
    } finally {
      server.close();
    }
  });
});
