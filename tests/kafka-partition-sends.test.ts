import { describe, expect, test } from "bun:test";
import { CompressionTypes, type Message, Partitioners, type PartitionMetadata, type Producer } from "kafkajs";
import { createPartitionSender } from "../lib/adapters/kafka/partition-sends.ts";

const metadata = (count: number): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: partitionId % 3,
    replicas: [0, 1, 2],
    isr: [0, 1, 2],
  }));

/** A producer whose sends are recorded; `fail(partition)` makes that partition's sends reject. */
function recordingProducer() {
  const sends: { topic: string; messages: Message[] }[] = [];
  const failing = new Set<number>();
  let open = 0;
  let mostOpen = 0;
  const producer = {
    async send({ topic, messages }: { topic: string; messages: Message[] }) {
      open++;
      mostOpen = Math.max(mostOpen, open);
      // A failing partition answers at once, the others a moment later.
      const fails = failing.has(messages[0]?.partition ?? -1);
      await Bun.sleep(fails ? 0 : 5);
      open--;
      sends.push({ topic, messages });
      if (fails) throw new Error("NOT_LEADER_OR_FOLLOWER");
      return [];
    },
  } as unknown as Producer;
  return {
    producer,
    sends,
    fail: (partition: number) => failing.add(partition),
    get mostOpen() {
      return mostOpen;
    },
  };
}

const keys = Array.from({ length: 12 }, (_, i) => `coin-${i}:usd`);
const options = { acks: -1 as const, compression: CompressionTypes.None };

describe("createPartitionSender", () => {
  test("sends each partition's messages in a request of its own, on the partition kafkajs' default partitioner picks", async () => {
    const rec = recordingProducer();
    const partitions = new Map([["prices", metadata(6)]]);
    const send = createPartitionSender(rec.producer, async (t) => partitions.get(t) ?? [], options);
    await send(
      "prices",
      keys.map((key) => ({ key, value: key })),
    );
    const kafkajs = Partitioners.DefaultPartitioner();
    for (const { messages } of rec.sends) {
      const partitionsInSend = new Set(messages.map((m) => m.partition));
      expect(partitionsInSend.size).toBe(1);
      for (const m of messages)
        expect(m.partition).toBe(
          kafkajs({
            topic: "prices",
            partitionMetadata: metadata(6),
            message: { key: m.key, value: m.value },
          }),
        );
    }
    expect(rec.sends.flatMap((s) => s.messages.map((m) => m.key)).sort()).toEqual([...keys].sort());
    expect(rec.sends.length).toBe(new Set(rec.sends.map((s) => s.messages[0]?.partition)).size);
    // All partitions at once, not one after the other.
    expect(rec.mostOpen).toBe(rec.sends.length);
  });

  test("keeps the order of one key's messages within its request", async () => {
    const rec = recordingProducer();
    const send = createPartitionSender(rec.producer, async () => metadata(3), options);
    await send(
      "prices",
      [1, 2, 3, 4].map((n) => ({ key: "beldex:usd", value: String(n) })),
    );
    expect(rec.sends).toHaveLength(1);
    expect(rec.sends[0]?.messages.map((m) => m.value)).toEqual(["1", "2", "3", "4"]);
  });

  test("throws when one partition failed, only after every other partition answered", async () => {
    const rec = recordingProducer();
    const send = createPartitionSender(rec.producer, async () => metadata(3), options);
    const messages = keys.map((key) => ({ key, value: key }));
    const first = Partitioners.DefaultPartitioner()({
      topic: "prices",
      partitionMetadata: metadata(3),
      message: messages[0] as Message,
    });
    rec.fail(first);
    await expect(send("prices", messages)).rejects.toThrow("NOT_LEADER_OR_FOLLOWER");
    expect(rec.sends).toHaveLength(3);
  });

  test("leaves a topic it has no metadata for to kafkajs, in one send", async () => {
    const rec = recordingProducer();
    const send = createPartitionSender(rec.producer, async () => [], options);
    await send(
      "elsewhere",
      keys.map((key) => ({ key, value: key })),
    );
    expect(rec.sends).toHaveLength(1);
    expect(rec.sends[0]?.messages.every((m) => m.partition === undefined)).toBe(true);
  });

  test("reads a topic's partitions at its first send and keeps them; a failed read is tried again at the next send", async () => {
    const rec = recordingProducer();
    let reads = 0;
    const send = createPartitionSender(
      rec.producer,
      async () => {
        reads++;
        if (reads === 1) throw new Error("This server does not host this topic-partition");
        return metadata(3);
      },
      options,
    );
    const messages = keys.map((key) => ({ key, value: key }));
    await expect(send("prices", messages)).rejects.toThrow("does not host");
    expect(rec.sends).toHaveLength(0);
    await send("prices", messages);
    await send("prices", messages);
    expect(reads).toBe(2);
    expect(rec.sends).toHaveLength(6);
  });
});
