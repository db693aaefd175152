import { CompressionTypes, type Kafka } from "kafkajs";
import { deadLetterHeaders } from "../../dead-letters.ts";
import type { BusMessage, DeadLetters, TickPublisher } from "../../ports.ts";
import { encodeTick, TICK_HEADERS, tickKey } from "../../tick.ts";
import { explainKafkaError } from "./failures.ts";
import type { KafkaSettings } from "./settings.ts";

/**
 * Publishes ticks with kafkajs' idempotent producer and acks from all in-sync replicas, keyed by pair.
 * @example const publisher = await createKafkaPublisher(kafka, config.kafka);
 */
export async function createKafkaPublisher(
  kafka: Kafka,
  config: KafkaSettings,
): Promise<TickPublisher & DeadLetters> {
  // Idempotence lets kafkajs retry a send without writing the message twice; it needs one request in flight.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  try {
    await producer.connect();
  } catch (error) {
    throw explainKafkaError(error, config, "connect producer");
  }
  return {
    async publish(ticks) {
      if (ticks.length === 0) return;
      try {
        await producer.send({
          topic: config.topic,
          acks: -1,
          compression: CompressionTypes.None,
          messages: ticks.map((tick) => ({
            key: tickKey(tick),
            value: encodeTick(tick),
            headers: { ...TICK_HEADERS },
          })),
        });
      } catch (error) {
        throw explainKafkaError(error, config, `publish to ${config.topic}`);
      }
    },
    async send(items: { message: BusMessage; reason: string }[]) {
      if (items.length === 0) return;
      try {
        await producer.send({
          topic: config.dlqTopic,
          acks: -1,
          messages: items.map(({ message, reason }) => ({
            key: message.key,
            value: message.value,
            headers: deadLetterHeaders(message, reason),
          })),
        });
      } catch (error) {
        throw explainKafkaError(error, config, `send to ${config.dlqTopic}`);
      }
    },
    async close() {
      await producer.disconnect();
    },
  };
}
