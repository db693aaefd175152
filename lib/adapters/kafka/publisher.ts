import { CompressionTypes, type Kafka, Partitioners } from "kafkajs";
import {
  type DeadLetterRecord,
  deadLetterBatches,
  deadLetterBytes,
  deadLetterEnvelope,
  deadLetterRecord,
} from "../../dead-letters.ts";
import type { BusMessage, DeadLetters, TickPublisher } from "../../ports.ts";
import { encodeTick, TICK_HEADERS, tickKey } from "../../tick.ts";
import { explainKafkaError, isTooLargeForTopic } from "./failures.ts";
import { createPartitionSender, fetchPartitionMetadata, type PartitionSend } from "./partition-sends.ts";
import type { KafkaSettings } from "./settings.ts";

/**
 * Most bytes of dead letters sent in one request: 512 KiB, well under the broker's default max.message.bytes
 * (1 MiB), which limits a whole record batch, so ordinary poison goes in one request without a refusal.
 */
const DLQ_BATCH_BYTES = 512 * 1024;
/**
 * Largest dead letter sent whole: 8 MiB. Larger poison goes as its envelope at once (its full copy stays in
 * the source topic): a dead letter that size is no more use to a reader than its first KiB, and every DLQ
 * request stays far below the brokers' 100 MiB request cap, past which the broker drops the connection, which
 * looks like an outage and would be retried without end.
 */
const DLQ_WHOLE_MAX_BYTES = 8 * 1024 * 1024;

/** One dead letter on its way: the record to send, and what it was made from in case it must be enveloped. */
interface Letter {
  message: BusMessage;
  reason: string;
  record: DeadLetterRecord;
  bytes: number;
  enveloped: boolean;
}

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
  const send: PartitionSend = createPartitionSender(
    producer,
    (topic) => fetchPartitionMetadata(kafka, topic),
    {
      acks: -1,
      compression: CompressionTypes.None,
    },
  );
  return {
    async publish(ticks) {
      if (ticks.length === 0) return;
      try {
        await send(
          config.topic,
          ticks.map((tick) => ({
            key: tickKey(tick),
            value: encodeTick(tick),
            headers: { ...TICK_HEADERS },
          })),
        );
      } catch (error) {
        throw explainKafkaError(error, config, `publish to ${config.topic}`);
      }
    },
    async send(items: { message: BusMessage; reason: string }[]) {
      if (items.length === 0) return;
      try {
        await sendDeadLetters(send, config.dlqTopic, items);
      } catch (error) {
        throw explainKafkaError(error, config, `send to ${config.dlqTopic}`);
      }
    },
    async close() {
      await producer.disconnect();
    },
  };
}

/**
 * Sends dead letters to `topic` in order, in batches of at most DLQ_BATCH_BYTES; a batch the topic refuses
 * as too large is sent again one letter at a time, and a letter refused alone goes as its envelope. A poison
 * message of any size must end up in the DLQ, or the batch holding it is never committed and the consumer
 * stops on it for good. A retry of the whole send after a later failure may repeat the letters sent before
 * it, which a DLQ read by people tolerates (it was at-least-once already).
 */
async function sendDeadLetters(
  send: PartitionSend,
  topic: string,
  items: { message: BusMessage; reason: string }[],
): Promise<void> {
  const produce = (records: DeadLetterRecord[]) => send(topic, records);
  const envelope = (letter: Letter, why: string): Letter => {
    const record = deadLetterEnvelope(letter.message, letter.reason, why);
    return { ...letter, record, bytes: deadLetterBytes(record), enveloped: true };
  };
  const sendAlone = async (letter: Letter): Promise<void> => {
    try {
      await produce([letter.record]);
    } catch (error) {
      if (letter.enveloped || !isTooLargeForTopic(error)) throw error;
      const why = `${topic} refused the ${letter.bytes}-byte dead letter as too large; raise its max.message.bytes to keep such messages whole`;
      await produce([envelope(letter, why).record]);
    }
  };

  const letters = items.map(({ message, reason }): Letter => {
    const record = deadLetterRecord(message, reason);
    const letter = { message, reason, record, bytes: deadLetterBytes(record), enveloped: false };
    return letter.bytes > DLQ_WHOLE_MAX_BYTES
      ? envelope(
          letter,
          `${letter.bytes} bytes, more than the ${DLQ_WHOLE_MAX_BYTES} a dead letter keeps whole`,
        )
      : letter;
  });
  for (const batch of deadLetterBatches(letters, DLQ_BATCH_BYTES)) {
    if (batch.length > 1) {
      try {
        await produce(batch.map((letter) => letter.record));
        continue;
      } catch (error) {
        if (!isTooLargeForTopic(error)) throw error;
      }
    }
    for (const letter of batch) await sendAlone(letter);
  }
}
