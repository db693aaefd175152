import type { Kafka } from "kafkajs";
import { describeError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import type { BatchHandler, BusMessage, Subscription } from "../../ports.ts";
import { StoppedError } from "../../retry.ts";
import { explainKafkaError } from "./failures.ts";
import type { KafkaSettings } from "./settings.ts";

function headersOf(raw: Record<string, unknown> | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw ?? {})) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? String(value[0]) : String(value);
  }
  return headers;
}

/**
 * Joins the consumer group and feeds each partition batch to `handler`, committing its offsets only after
 * the handler resolved. Starts from the earliest offset for a new group, so nothing published before the
 * first start is lost.
 * @example const sub = await subscribeKafka(kafka, config.kafka, processBatch, log);
 */
export async function subscribeKafka(
  kafka: Kafka,
  config: KafkaSettings,
  handler: BatchHandler,
  log: Logger,
  /** Called after each commit with the partition's remaining lag (high watermark minus the commit). */
  onCommitted?: (partition: number, lag: number) => void,
): Promise<Subscription> {
  const consumer = kafka.consumer({
    groupId: config.group,
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: Math.min(3_000, Math.floor(config.sessionTimeoutMs / 3)),
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 1_000,
  });
  const stopping = new AbortController();
  let settle: { resolve: () => void; reject: (error: Error) => void } = {
    resolve: () => {},
    reject: () => {},
  };
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  consumer.on(consumer.events.CRASH, (event) => {
    const { error, restart } = event.payload as { error: Error; restart: boolean };
    if (restart) log.warn("consumer crashed, kafkajs restarts it", { error: describeError(error) });
    else settle.reject(explainKafkaError(error, config, `consume ${config.topic}`));
  });
  consumer.on(consumer.events.STOP, () => settle.resolve());

  try {
    await consumer.connect();
    await consumer.subscribe({ topic: config.topic, fromBeginning: true });
  } catch (error) {
    await consumer.disconnect().catch(() => {});
    throw explainKafkaError(error, config, `subscribe to ${config.topic}`);
  }

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, heartbeat, resolveOffset, isRunning, isStale }) => {
      const last = batch.messages.at(-1);
      if (!last) return;
      const messages: BusMessage[] = batch.messages.map((m) => ({
        topic: batch.topic,
        partition: batch.partition,
        offset: m.offset,
        key: m.key ? m.key.toString("utf8") : null,
        value: m.value,
        headers: headersOf(m.headers),
      }));
      try {
        await handler(messages, { signal: stopping.signal, heartbeat });
      } catch (error) {
        if (error instanceof StoppedError) return; // stopping: leave the batch uncommitted for the next owner
        throw error;
      }
      // A rebalance during the batch handed the partition to someone else: committing now would be a lie.
      if (!isRunning() || isStale()) return;
      const next = (BigInt(last.offset) + 1n).toString();
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      resolveOffset(last.offset);
      onCommitted?.(batch.partition, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(next))));
      await heartbeat();
    },
  });

  return {
    done,
    async stop() {
      stopping.abort();
      await consumer.disconnect();
      settle.resolve();
    },
  };
}
