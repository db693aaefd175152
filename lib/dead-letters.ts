import type { BusMessage } from "./ports.ts";

/** Header on a dead letter carrying why it was rejected. */
const DLQ_REASON_HEADER = "dlq-reason";

/** Headers of a dead letter: the original ones, the reason, and where the message came from. */
export function deadLetterHeaders(message: BusMessage, reason: string): Record<string, string> {
  return {
    ...message.headers,
    [DLQ_REASON_HEADER]: reason,
    "dlq-source": `${message.topic}/${message.partition}/${message.offset}`,
  };
}
