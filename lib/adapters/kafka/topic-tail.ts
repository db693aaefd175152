/**
 * The newest tick per pair, read from the topic itself: the last messages of each partition, so that a
 * producer starting (or restarting after an outage) learns where each pair's history ends without a database.
 */
import { randomUUID } from "node:crypto";
import type { Kafka } from "kafkajs";
import { BusError } from "../../errors.ts";
import type { PublishedTail } from "../../ports.ts";
import { decodeTick, tickKey, tickTime } from "../../tick.ts";
import { explainKafkaError } from "./failures.ts";
import type { KafkaSettings } from "./settings.ts";

/** Messages read back from the end of each partition: 5000, two cycles of 2,500 pairs per partition. */
const DEFAULT_PER_PARTITION = 5_000;
/** Longest the read may take: 20 s (joining a group takes a few, a cold broker more). */
const DEFAULT_TIMEOUT_MS = 20_000;

/**
 * A {@link PublishedTail} over kafkajs: the partitions' offsets from the admin client, then a consumer of a
 * one-off group (never committing, deleted afterwards) seeking each partition to `perPartition` messages before
 * its end. Messages that are not valid ticks are passed over. Needs READ on the topic and on groups named
 * `<KAFKA_CONSUMER_GROUP>-tail-*`; throws {@link BusError} naming the fix when Kafka refuses or the read times
 * out. Defaults: 5000 messages per partition, 20 s.
 * @example const newest = await createTopicTail(kafka, config.kafka).newest(); // Map { "beldex:usd" => 1764180000000 }
 */
export function createTopicTail(
  kafka: Kafka,
  settings: KafkaSettings,
  options: { perPartition?: number; timeoutMs?: number } = {},
): PublishedTail {
  const perPartition = BigInt(options.perPartition ?? DEFAULT_PER_PARTITION);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { topic } = settings;
  return {
    async newest() {
      const newest = new Map<string, number>();
      const admin = kafka.admin();
      let targets: { partition: number; start: bigint; end: bigint }[];
      try {
        await admin.connect();
        const offsets = await admin.fetchTopicOffsets(topic);
        targets = offsets
          .map((p) => ({ partition: p.partition, low: BigInt(p.low), end: BigInt(p.high) }))
          .filter((p) => p.end > p.low)
          .map((p) => ({
            partition: p.partition,
            start: p.end - perPartition > p.low ? p.end - perPartition : p.low,
            end: p.end,
          }));
      } catch (error) {
        await admin.disconnect().catch(() => {});
        throw explainKafkaError(error, settings, "read the topic's offsets");
      }
      if (targets.length === 0) {
        await admin.disconnect().catch(() => {});
        return newest;
      }
      const groupId = `${settings.group}-tail-${randomUUID()}`;
      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200, allowAutoTopicCreation: false });
      const left = new Set(targets.map((t) => t.partition));
      const ends = new Map(targets.map((t) => [t.partition, t.end]));
      let finish = () => {};
      const done = new Promise<void>((resolve) => {
        finish = resolve;
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: false });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages) {
              try {
                const tick = decodeTick(message.value);
                const key = tickKey(tick);
                newest.set(key, Math.max(tickTime(tick), newest.get(key) ?? 0));
              } catch {
                // Poison is the consumer's to dead-letter; it says nothing about where a pair's history ends.
              }
              if (BigInt(message.offset) + 1n >= (ends.get(batch.partition) ?? 0n))
                left.delete(batch.partition);
            }
            if (left.size === 0) finish();
          },
        });
        for (const t of targets) consumer.seek({ topic, partition: t.partition, offset: String(t.start) });
        const timedOut = new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), timeoutMs);
        });
        if ((await Promise.race([done, timedOut])) === "timeout")
          throw new BusError(`reading the last messages of ${topic} took more than ${timeoutMs / 1000} s`, {
            hint: "check the brokers; gap healing at start is skipped meanwhile",
            retriable: true,
          });
        return newest;
      } catch (error) {
        if (error instanceof BusError) throw error;
        throw explainKafkaError(error, settings, "read the topic's last messages");
      } finally {
        clearTimeout(timer);
        await consumer.disconnect().catch(() => {});
        await admin.deleteGroups([groupId]).catch(() => {});
        await admin.disconnect().catch(() => {});
      }
    },
  };
}
