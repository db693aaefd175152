import type { Logger } from "../../log.ts";
import type { ConsumerBus } from "../../ports.ts";
import { createKafka, ensureTopics } from "./client.ts";
import { startLagProbe } from "./lag.ts";
import { createKafkaPublisher } from "./publisher.ts";
import type { KafkaSettings } from "./settings.ts";
import { subscribeKafka } from "./subscriber.ts";

/**
 * The consumer's side of Kafka: topics ensured, a DLQ publisher, the group subscription and a lag probe, whose
 * samples tell the watchers whether Kafka answers.
 * @example const bus = await openKafkaConsumerBus(config.kafka, log);
 */
export async function openKafkaConsumerBus(config: KafkaSettings, log: Logger): Promise<ConsumerBus> {
  const kafka = createKafka(config, log.child({ component: "kafka" }));
  await ensureTopics(kafka, config, log);
  const deadLetters = await createKafkaPublisher(kafka, config);
  const listeners: ((error: Error | null) => void)[] = [];
  const lag = startLagProbe(kafka, config, log, undefined, (error) => {
    for (const listener of listeners) listener(error);
  });
  return {
    deadLetters,
    subscribe: (handler, signal) => subscribeKafka(kafka, config, handler, log, lag.record, signal),
    lag: lag.current,
    watch: (listener) => void listeners.push(listener),
    async close() {
      await Promise.allSettled([lag.stop(), deadLetters.close()]);
    },
  };
}
