import { connect } from "node:net";
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

/** What a broker serves of one Kafka API: its lowest and highest version. */
export interface ApiRange {
  min: number;
  max: number;
}

/**
 * Asks the broker at `address` (`host:port`, PLAINTEXT) which versions of each API it serves, by a raw
 * ApiVersions v0 request, the one every Kafka release answers. kafkajs keeps its answer to itself, and this is
 * what tells a Kafka 4 broker from a 3.x one on the wire: Kafka 4 dropped the oldest versions (KIP-896).
 * Fails after `timeoutMs` (default 5 s).
 * @returns the ranges by API key (0 Produce, 1 Fetch, 18 ApiVersions, …)
 */
export async function apiVersionRanges(address: string, timeoutMs = 5000): Promise<Map<number, ApiRange>> {
  const [host = "", port = ""] = address.split(":");
  const clientId = Buffer.from("belly-tests");
  const correlationId = 7;
  // Request header v1 (api key, api version, correlation id, client id) and ApiVersions v0's empty body.
  const body = Buffer.alloc(10 + clientId.length);
  body.writeInt16BE(18, 0);
  body.writeInt16BE(0, 2);
  body.writeInt32BE(correlationId, 4);
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);

  const response = await new Promise<Buffer>((resolve, reject) => {
    let received = Buffer.alloc(0);
    const timer = setTimeout(
      () => done(new Error(`ApiVersions to ${address}: no answer in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(received.subarray(4));
    };
    const socket = connect({ host, port: Number(port) }, () => socket.write(Buffer.concat([size, body])));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) done();
    });
    socket.on("error", (error) => done(error));
  });

  // Response v0: correlation id, error code, then [api key, min version, max version] per API.
  if (response.readInt32BE(0) !== correlationId) throw new Error("ApiVersions: wrong correlation id");
  const errorCode = response.readInt16BE(4);
  if (errorCode !== 0) throw new Error(`ApiVersions: error code ${errorCode}`);
  const ranges = new Map<number, ApiRange>();
  const count = response.readInt32BE(6);
  for (let i = 0, at = 10; i < count; i++, at += 6)
    ranges.set(response.readInt16BE(at), {
      min: response.readInt16BE(at + 2),
      max: response.readInt16BE(at + 4),
    });
  return ranges;
}
