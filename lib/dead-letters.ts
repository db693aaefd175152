import { excerpt } from "./errors.ts";
import type { BusMessage } from "./ports.ts";

/** Header on a dead letter carrying why it was rejected. */
const DLQ_REASON_HEADER = "dlq-reason";
/** Header on a dead letter saying where the message came from: `<topic>/<partition>/<offset>`. */
const DLQ_SOURCE_HEADER = "dlq-source";
/** Header set to "true" on a dead letter whose value is an envelope describing the message, not the message. */
export const DLQ_ENVELOPE_HEADER = "dlq-envelope";
/** Bytes of the original value an envelope keeps: 1024, enough to recognise the payload. */
export const ENVELOPE_HEAD_BYTES = 1024;
/** Original headers an envelope lists: 32; each name and value is cut to an excerpt. */
const ENVELOPE_MAX_HEADERS = 32;

/** A message as it is written to the dead-letter topic. */
export interface DeadLetterRecord {
  key: string | null;
  value: Buffer | string | null;
  headers: Record<string, string>;
}

/**
 * The value of an envelope: what is known of a message that could not be dead-lettered whole, a few KiB
 * at most whatever the message's size. The message itself stays in `sourceTopic` at `offset` until the
 * topic's retention removes it.
 */
export interface DeadLetterEnvelope {
  /** Why the message was rejected (the same as its `dlq-reason` header). */
  reason: string;
  /** Why the envelope stands in for the message, e.g. the DLQ topic refused it as too large. */
  envelopeReason: string;
  sourceTopic: string;
  partition: number;
  offset: string;
  /** An excerpt of the key (about 200 characters), or null. */
  key: string | null;
  keyBytes: number;
  /** The original headers, at most 32, names and values cut to excerpts. */
  headers: Record<string, string>;
  /** Size of the original value; 0 for a null value. */
  valueBytes: number;
  /** The first {@link ENVELOPE_HEAD_BYTES} bytes of the value, as text when they are UTF-8, else base64. */
  valueHead: string;
  valueHeadEncoding: "utf8" | "base64";
}

/** Headers of a dead letter: the original ones, the reason, and where the message came from. */
export function deadLetterHeaders(message: BusMessage, reason: string): Record<string, string> {
  return {
    ...message.headers,
    [DLQ_REASON_HEADER]: reason,
    [DLQ_SOURCE_HEADER]: `${message.topic}/${message.partition}/${message.offset}`,
  };
}

/** The dead letter of a message: the message itself (key and value unchanged) with {@link deadLetterHeaders}. */
export function deadLetterRecord(message: BusMessage, reason: string): DeadLetterRecord {
  return { key: message.key, value: message.value, headers: deadLetterHeaders(message, reason) };
}

/**
 * Bytes a dead letter puts on the wire (key, value, header names and values), without the few bytes of
 * framing per record; what batching and size limits compare.
 */
export function deadLetterBytes(record: DeadLetterRecord): number {
  let bytes = byteLength(record.key) + byteLength(record.value);
  for (const [name, value] of Object.entries(record.headers)) bytes += byteLength(name) + byteLength(value);
  return bytes;
}

/**
 * Splits dead letters, in order, into batches of at most `maxBytes` each (by their `bytes`); a letter larger
 * than `maxBytes` forms a batch of its own.
 * @example deadLetterBatches([{ bytes: 600 }, { bytes: 600 }, { bytes: 10 }], 1000) // [[600], [600, 10]]
 */
export function deadLetterBatches<T extends { bytes: number }>(
  letters: readonly T[],
  maxBytes: number,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const letter of letters) {
    if (current.length > 0 && size + letter.bytes > maxBytes) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(letter);
    size += letter.bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * A dead letter that stands in for a message too large to be dead-lettered whole: a JSON
 * {@link DeadLetterEnvelope} as the value, headers `dlq-reason`, `dlq-source`, `dlq-envelope: true` and
 * `content-type: application/json` only (the original headers, which may be what is large, are listed in
 * the envelope as excerpts). The key is the original one when it is at most {@link ENVELOPE_HEAD_BYTES}
 * bytes, else null.
 * @example deadLetterEnvelope(message, "not JSON: xxxx…", "the DLQ topic refused it as too large (3 MiB)")
 */
export function deadLetterEnvelope(
  message: BusMessage,
  reason: string,
  envelopeReason: string,
): DeadLetterRecord {
  const shortReason = excerpt(reason, 400);
  const envelope: DeadLetterEnvelope = {
    reason: shortReason,
    envelopeReason: excerpt(envelopeReason, 400),
    sourceTopic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key: message.key === null ? null : excerpt(message.key),
    keyBytes: byteLength(message.key),
    headers: Object.fromEntries(
      Object.entries(message.headers)
        .slice(0, ENVELOPE_MAX_HEADERS)
        .map(([name, value]) => [excerpt(name, 100), excerpt(value)]),
    ),
    valueBytes: byteLength(message.value),
    ...valueHead(message.value),
  };
  const key = message.key !== null && byteLength(message.key) <= ENVELOPE_HEAD_BYTES ? message.key : null;
  return {
    key,
    value: JSON.stringify(envelope),
    headers: {
      "content-type": "application/json",
      [DLQ_REASON_HEADER]: shortReason,
      [DLQ_SOURCE_HEADER]: `${message.topic}/${message.partition}/${message.offset}`,
      [DLQ_ENVELOPE_HEADER]: "true",
    },
  };
}

function byteLength(value: Buffer | string | null): number {
  if (value === null) return 0;
  return typeof value === "string" ? Buffer.byteLength(value, "utf8") : value.length;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function valueHead(value: Buffer | null): Pick<DeadLetterEnvelope, "valueHead" | "valueHeadEncoding"> {
  if (value === null) return { valueHead: "", valueHeadEncoding: "utf8" };
  const head = value.subarray(0, ENVELOPE_HEAD_BYTES);
  // The cut may split a character of up to 4 bytes: drop up to 3 bytes before calling the text binary.
  const droppable = value.length > head.length ? Math.min(3, head.length) : 0;
  for (let drop = 0; drop <= droppable; drop++) {
    try {
      return {
        valueHead: strictUtf8.decode(head.subarray(0, head.length - drop)),
        valueHeadEncoding: "utf8",
      };
    } catch {
      // Not valid UTF-8 with this cut; try a shorter one, then base64.
    }
  }
  return { valueHead: head.toString("base64"), valueHeadEncoding: "base64" };
}
