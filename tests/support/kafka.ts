import { Kafka, logLevel } from "kafkajs";
import { encodeTick, TICK_HEADERS, type Tick, tickKey } from "../../lib/tick.ts";

/** A kafkajs client on the stack's PLAINTEXT listener, silent, for test set-up and assertions. */
export function testKafka(brokers: string): Kafka {
  return new Kafka({ clientId: "belly-tests", brokers: [brokers], logLevel: logLevel.NOTHING });
}

/** Publishes raw values or ticks to `topic` (ticks keyed and with headers, like the producer). */
export async function publishRaw(kafka: Kafka, topic: string, values: (Tick | string)[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: values.map((value) =>
        typeof value === "string"
          ? { key: "poison", value }
          : { key: tickKey(value), value: encodeTick(value), headers: { ...TICK_HEADERS } },
      ),
    });
  } finally {
    await producer.disconnect();
  }
}

/** Whether the group has committed every message of the topic (its lag is zero on every partition). */
export async function groupCaughtUp(kafka: Kafka, group: string, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return ends.every((end) => {
      const mine = committed?.partitions.find((p) => p.partition === end.partition);
      const at = mine && mine.offset !== "-1" ? BigInt(mine.offset) : 0n;
      return at >= BigInt(end.high);
    });
  } finally {
    await admin.disconnect();
  }
}

/** One message as {@link readTopic} returns it. */
export interface TopicMessage {
  key: string | null;
  value: string;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/** Reads every message of `topic` from the beginning until `count` arrived (or the timeout). */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 20_000,
): Promise<TopicMessage[]> {
  const consumer = kafka.consumer({ groupId: `reader-${crypto.randomUUID()}`, maxWaitTimeInMs: 200 });
  const out: TopicMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let finish = () => {};
  const enough = new Promise<void>((resolve) => {
    finish = resolve;
  });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value);
      out.push({
        key: message.key?.toString() ?? null,
        value: message.value?.toString() ?? "",
        headers,
        partition,
        offset: message.offset,
      });
      if (out.length >= count) finish();
    },
  });
  await Promise.race([enough, Bun.sleep(timeoutMs)]);
  await consumer.disconnect();
  return out;
}
