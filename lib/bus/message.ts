/** A message read from the bus, independent of the Kafka client. */
export interface BusMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Port: where messages that fail validation go, with the reason. */
export interface DeadLetters {
  /** Sends the messages to the dead-letter topic; resolves once the bus acknowledged them. */
  send(items: { message: BusMessage; reason: string }[]): Promise<void>;
}

/** Header on a dead letter carrying why it was rejected. */
export const DLQ_REASON_HEADER = "dlq-reason";

/** Headers of a dead letter: the original ones, the reason, and where the message came from. */
export function deadLetterHeaders(message: BusMessage, reason: string): Record<string, string> {
  return {
    ...message.headers,
    [DLQ_REASON_HEADER]: reason,
    "dlq-source": `${message.topic}/${message.partition}/${message.offset}`,
  };
}
