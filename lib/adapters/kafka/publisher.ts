import { CompressionTypes, type Kafka, Partitioners } from "kafkajs";
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
    // kafkajs 2's default (murmur2 of the key, as the Java client), named so that kafkajs does not warn about
    // its v2 switch: each pair's key stays on the partition it lands on now.
    createPartitioner: Partitioners.DefaultPartitioner,
    // Unlimited retries, what kafkajs itself gives an idempotent producer (it warns about any limit, since a
    // send it gives up on is the caller's to repeat, outside the sequence numbers that make retries safe). A
    // publish still ends when Kafka goes away: an attempt that lost its connection reconnects through the
    // client's own budget (createKafka: 6 connects with about 10 s of pauses in all, a TCP connect giving up
    // after 5 s), and running out of it ends the send with a non-retriable error, so that the outbox holds the
    // ticks: about 14 s when the broker refuses connections, about 40 s when its host is gone. A broker that
    // stays connected and answers with retriable errors (a leader moving, too few in-sync replicas, requests
    // timing out after requestTimeout) is tried again, at most maxRetryTime (10 s) apart, until it recovers.
    retry: { retries: Number.MAX_SAFE_INTEGER },
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
