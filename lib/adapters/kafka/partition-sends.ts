import {
  type CompressionTypes,
  type Kafka,
  type Message,
  Partitioners,
  type PartitionMetadata,
  type Producer,
} from "kafkajs";
import { backoffDelay, retry } from "../../retry.ts";
import { hasKafkaErrorType } from "./failures.ts";

/** What {@link createPartitionSender} sends with: the settings of every request. */
export interface PartitionSendOptions {
  acks: -1 | 0 | 1;
  compression: CompressionTypes;
}

/** Sends messages to a topic, one request per partition; resolves only when every partition acknowledged. */
export type PartitionSend = (topic: string, messages: Message[]) => Promise<void>;

/** Attempts after the first at reading a topic's partitions: a new topic's metadata takes a moment to reach every broker. */
const METADATA_RETRIES = 5;

/**
 * Reads one topic's partitions from the cluster's metadata, trying again for a few seconds (backoff from
 * 200 ms, 5 retries) while a broker does not know the topic yet: it answers "does not host this
 * topic-partition" until a freshly created topic's metadata reaches it.
 * @example const partitions = await fetchPartitionMetadata(kafka, "belly-price");
 */
export async function fetchPartitionMetadata(kafka: Kafka, topic: string): Promise<PartitionMetadata[]> {
  return retry(
    async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        const found = topics.find((t) => t.name === topic)?.partitions ?? [];
        return [...found].sort((a, b) => a.partitionId - b.partitionId);
      } finally {
        await admin.disconnect();
      }
    },
    {
      retries: METADATA_RETRIES,
      shouldRetry: (error) => hasKafkaErrorType(error, "UNKNOWN_TOPIC_OR_PARTITION", "LEADER_NOT_AVAILABLE"),
      delayFor: (_error, attempt) => backoffDelay(attempt, { baseMs: 200, capMs: 2_000 }),
    },
  );
}

/**
 * A send that puts each partition's messages in a request of its own, all partitions at once.
 *
 * kafkajs 2.2.4 retries a send that spans several brokers with the answers of the first attempt kept per
 * broker: when a broker that answered for one partition has become the leader of another partition whose
 * leader died meanwhile, the retry sends nothing for that partition and the send resolves as if Kafka had
 * stored it (tulios/kafkajs#1798, open). Seen here: one tick in about 75 gone, acknowledged, when a partition
 * leader of a 3-broker cluster was killed. One partition per request never spans brokers, so a retry goes to
 * the partition's new leader. Partitions are never sent to twice at once, since the idempotent producer's
 * sequence numbers are kept per partition.
 *
 * The partition is chosen as kafkajs' default partitioner does (murmur2 of the key, as the Java client), so a
 * pair's ticks stay on the partition they always went to. A send that failed for some partitions throws
 * after every partition answered, so that nothing is still in flight when the caller sends again.
 * @example const send = createPartitionSender(producer, (t) => fetchPartitionMetadata(kafka, t), { acks: -1, compression: CompressionTypes.None });
 */
export function createPartitionSender(
  producer: Producer,
  partitionsOf: (topic: string) => Promise<PartitionMetadata[]>,
  options: PartitionSendOptions,
): PartitionSend {
  const partitioner = Partitioners.DefaultPartitioner();
  // Each topic's partitions are read at its first send, then kept: a key's partition stays the one it is now
  // even if partitions are added later (until a restart), which keeps each pair's ticks in order.
  const known = new Map<string, PartitionMetadata[]>();
  return async (topic, messages) => {
    let partitionMetadata = known.get(topic);
    if (!partitionMetadata) {
      partitionMetadata = await partitionsOf(topic);
      if (partitionMetadata.length > 0) known.set(topic, partitionMetadata);
    }
    // A topic the metadata did not list: kafkajs partitions it itself (one send, as before).
    if (!partitionMetadata?.length) {
      await producer.send({ topic, messages, ...options });
      return;
    }
    const perPartition = new Map<number, Message[]>();
    for (const message of messages) {
      const partition = message.partition ?? partitioner({ topic, partitionMetadata, message });
      const batch = perPartition.get(partition);
      if (batch) batch.push({ ...message, partition });
      else perPartition.set(partition, [{ ...message, partition }]);
    }
    const sent = await Promise.allSettled(
      [...perPartition.values()].map((batch) => producer.send({ topic, messages: batch, ...options })),
    );
    const failed = sent.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
  };
}
