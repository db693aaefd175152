import { createKafka, ensureTopics } from "../bus/kafka-client.ts";
import { startLagProbe } from "../bus/kafka-lag.ts";
import { createKafkaPublisher } from "../bus/kafka-publisher.ts";
import { type BatchHandler, type Subscription, subscribeKafka } from "../bus/kafka-subscriber.ts";
import type { LocalBus } from "../bus/local.ts";
import type { DeadLetters } from "../bus/message.ts";
import type { KafkaConfig } from "../config.ts";
import type { Logger } from "../log.ts";

/** What the consumer needs from a bus: batches, a dead-letter topic, and its lag when known. */
export interface ConsumerBus {
  deadLetters: DeadLetters;
  subscribe(handler: BatchHandler): Promise<Subscription>;
  /** Messages not yet committed, or null when unknown. */
  lag(): number | null;
  close(): Promise<void>;
}

/**
 * The consumer's side of Kafka: topics ensured, a DLQ publisher, the group subscription and a lag probe.
 * @example const bus = await openKafkaConsumerBus(config.kafka, log);
 */
export async function openKafkaConsumerBus(config: KafkaConfig, log: Logger): Promise<ConsumerBus> {
  const kafka = createKafka(config, log.child({ component: "kafka" }));
  await ensureTopics(kafka, config, log);
  const deadLetters = await createKafkaPublisher(kafka, config);
  const lag = startLagProbe(kafka, config, log);
  return {
    deadLetters,
    subscribe: (handler) => subscribeKafka(kafka, config, handler, log, lag.record),
    lag: lag.current,
    async close() {
      await Promise.allSettled([lag.stop(), deadLetters.close()]);
    },
  };
}

/** The consumer's side of the in-process bus (one-process mode); its lag is what is queued. */
export function localConsumerBus(bus: LocalBus, log: Logger): ConsumerBus {
  return {
    deadLetters: bus.publisher,
    subscribe: async (handler) => bus.subscribe(handler, log),
    lag: () => bus.pending(),
    async close() {},
  };
}
