// The DLQ publisher without a broker, against a producer that refuses requests over a limit the way a broker
// refuses record batches over max.message.bytes (MESSAGE_TOO_LARGE): poison of any size ends up in the DLQ.
import { describe, expect, test } from "bun:test";
import type { Kafka } from "kafkajs";
import { createKafkaPublisher } from "../lib/adapters/kafka/publisher.ts";
import type { DeadLetterEnvelope } from "../lib/dead-letters.ts";
import { BusError } from "../lib/errors.ts";
import type { BusMessage } from "../lib/ports.ts";
import { BROKER_DEFAULT, KiB, MiB, OFFLINE_KAFKA } from "./support/kafka-settings.ts";

const config = OFFLINE_KAFKA;

/** The error kafkajs throws when the broker refuses a batch: a protocol error inside a non-retriable one. */
function tooLarge(): Error {
  const message = "The request included a message larger than the max message size the server will accept";
  const protocol = Object.assign(new Error(message), {
    name: "KafkaJSProtocolError",
    type: "MESSAGE_TOO_LARGE",
    code: 10,
    retriable: false,
  });
  return Object.assign(new Error(message), { name: "KafkaJSNonRetriableError", cause: protocol });
}

type Sent = { key: string | null; value: Buffer | string | null; headers: Record<string, string> };

/** A producer whose DLQ refuses any request whose values and keys add up to more than `limit` bytes. */
function dlqProducer(limit: number, fail?: () => Error) {
  const stored: Sent[] = [];
  const requests: number[] = [];
  const producer = {
    connect: async () => {},
    disconnect: async () => {},
    send: async ({ messages }: { topic: string; messages: Sent[] }) => {
      requests.push(messages.length);
      if (fail) throw fail();
      const bytes = messages.reduce((n, m) => n + String(m.key ?? "").length + (m.value?.length ?? 0), 0);
      if (bytes > limit) throw tooLarge();
      stored.push(...messages);
      return [];
    },
  };
  // One partition each: every letter of a batch goes in one request, as on a one-partition DLQ.
  const admin = {
    connect: async () => {},
    disconnect: async () => {},
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => ({
      topics: topics.map((name) => ({
        name,
        partitions: [{ partitionErrorCode: 0, partitionId: 0, leader: 0, replicas: [0], isr: [0] }],
      })),
    }),
  };
  const kafka = { producer: () => producer, admin: () => admin } as unknown as Kafka;
  return { kafka, stored, requests };
}

function poison(offset: number, value: Buffer): { message: BusMessage; reason: string } {
  return {
    message: { topic: config.topic, partition: 0, offset: String(offset), key: "poison", value, headers: {} },
    reason: "not JSON: xxx",
  };
}

const envelope = (sent: Sent | undefined) => JSON.parse(String(sent?.value)) as DeadLetterEnvelope;

describe("DLQ publisher", () => {
  test("sends ordinary dead letters whole, in one request", async () => {
    const dlq = dlqProducer(BROKER_DEFAULT);
    const publisher = await createKafkaPublisher(dlq.kafka, config);
    await publisher.send([poison(1, Buffer.from("{oops")), poison(2, Buffer.from("{nope"))]);
    expect(dlq.requests).toEqual([2]);
    expect(dlq.stored.map((m) => String(m.value))).toEqual(["{oops", "{nope"]);
    expect(dlq.stored[0]?.headers["dlq-source"]).toBe("belly-price/0/1");
  });

  test("sends a 3 MiB message the DLQ refuses as its envelope, and the letters around it whole", async () => {
    const dlq = dlqProducer(BROKER_DEFAULT);
    const publisher = await createKafkaPublisher(dlq.kafka, config);
    await publisher.send([
      poison(1, Buffer.from("{oops")),
      poison(2, Buffer.alloc(3 * MiB, "x")),
      poison(3, Buffer.from("{nope")),
    ]);
    expect(dlq.stored).toHaveLength(3);
    expect(String(dlq.stored[0]?.value)).toBe("{oops");
    expect(dlq.stored[1]?.headers["dlq-envelope"]).toBe("true");
    expect(envelope(dlq.stored[1])).toMatchObject({
      reason: "not JSON: xxx",
      sourceTopic: "belly-price",
      offset: "2",
      valueBytes: 3 * MiB,
      envelopeReason: expect.stringContaining("belly-price.dlq refused"),
    });
    expect(String(dlq.stored[2]?.value)).toBe("{nope");
  });

  test("sends the letters of a batch the DLQ refuses one at a time, each still whole", async () => {
    const dlq = dlqProducer(300 * KiB);
    const publisher = await createKafkaPublisher(dlq.kafka, config);
    await publisher.send([poison(1, Buffer.alloc(200 * KiB, "a")), poison(2, Buffer.alloc(200 * KiB, "b"))]);
    expect(dlq.requests).toEqual([2, 1, 1]);
    expect(dlq.stored.map((m) => m.value?.length)).toEqual([200 * KiB, 200 * KiB]);
    expect(dlq.stored.every((m) => m.headers["dlq-envelope"] === undefined)).toBe(true);
  });

  test("sends a message above 8 MiB as its envelope without trying it whole", async () => {
    const dlq = dlqProducer(100 * MiB);
    const publisher = await createKafkaPublisher(dlq.kafka, config);
    await publisher.send([poison(7, Buffer.alloc(9 * MiB, "x"))]);
    expect(dlq.requests).toEqual([1]);
    expect(envelope(dlq.stored[0])).toMatchObject({ offset: "7", valueBytes: 9 * MiB });
  });

  test("passes an outage up as a BusError for the consumer to retry, without enveloping anything", async () => {
    const outage = () =>
      Object.assign(new Error("Connection error: connect ECONNREFUSED"), { name: "KafkaJSConnectionError" });
    const dlq = dlqProducer(BROKER_DEFAULT, outage);
    const publisher = await createKafkaPublisher(dlq.kafka, config);
    const sending = publisher.send([poison(1, Buffer.alloc(3 * MiB, "x"))]);
    await expect(sending).rejects.toBeInstanceOf(BusError);
    expect(dlq.requests).toEqual([1]);
  });
});
