import { describe, expect, test } from "bun:test";
import {
  type DeadLetterEnvelope,
  DLQ_ENVELOPE_HEADER,
  deadLetterBatches,
  deadLetterBytes,
  deadLetterEnvelope,
  deadLetterRecord,
  ENVELOPE_HEAD_BYTES,
} from "../lib/dead-letters.ts";
import type { BusMessage } from "../lib/ports.ts";

const MiB = 1024 * 1024;

function poison(value: Buffer | null, overrides: Partial<BusMessage> = {}): BusMessage {
  return {
    topic: "belly-price",
    partition: 2,
    offset: "41",
    key: "poison",
    value,
    headers: { "content-type": "application/json" },
    ...overrides,
  };
}

function envelopeOf(message: BusMessage, reason = "not JSON: xxx") {
  const record = deadLetterEnvelope(message, reason, "belly-price.dlq refused it as too large");
  return { record, body: JSON.parse(String(record.value)) as DeadLetterEnvelope };
}

describe("dead-letter envelope", () => {
  test("describes a 3 MiB message in a few KiB: reason, origin, key, headers, size and the first KiB", () => {
    const message = poison(Buffer.alloc(3 * MiB, "x"));
    const { record, body } = envelopeOf(message);
    expect(body).toEqual({
      reason: "not JSON: xxx",
      envelopeReason: "belly-price.dlq refused it as too large",
      sourceTopic: "belly-price",
      partition: 2,
      offset: "41",
      key: "poison",
      keyBytes: 6,
      headers: { "content-type": "application/json" },
      valueBytes: 3 * MiB,
      valueHead: "x".repeat(ENVELOPE_HEAD_BYTES),
      valueHeadEncoding: "utf8",
    });
    expect(deadLetterBytes(record)).toBeLessThan(4 * 1024);
  });

  test("is marked by its headers and keeps the original key", () => {
    const { record } = envelopeOf(poison(Buffer.alloc(2 * MiB, "x")));
    expect(record.key).toBe("poison");
    expect(record.headers).toEqual({
      "content-type": "application/json",
      "dlq-reason": "not JSON: xxx",
      "dlq-source": "belly-price/2/41",
      [DLQ_ENVELOPE_HEADER]: "true",
    });
  });

  test("stays small when the key, the headers and the reason are huge too", () => {
    const headers = Object.fromEntries(
      Array.from({ length: 500 }, (_, i) => [`h${i}-${"n".repeat(1000)}`, "v".repeat(100_000)]),
    );
    const message = poison(Buffer.alloc(MiB, 0xff), { key: "k".repeat(MiB), headers });
    const { record, body } = envelopeOf(message, "r".repeat(MiB));
    expect(deadLetterBytes(record)).toBeLessThan(32 * 1024);
    expect(record.key).toBeNull();
    expect(body.keyBytes).toBe(MiB);
    expect(Object.keys(body.headers)).toHaveLength(32);
    expect(body.reason.length).toBeLessThan(450);
  });

  test("keeps a binary head as base64", () => {
    const { body } = envelopeOf(poison(Buffer.from([0xff, 0xfe, 0x00, 0x80])));
    expect(body.valueHeadEncoding).toBe("base64");
    expect(Buffer.from(body.valueHead, "base64")).toEqual(Buffer.from([0xff, 0xfe, 0x00, 0x80]));
  });

  test("keeps UTF-8 text as text when the cut splits a character", () => {
    // "é" is two bytes: 1023 ASCII bytes and then "é" puts the 1024-byte cut inside the character.
    const { body } = envelopeOf(poison(Buffer.from(`${"a".repeat(ENVELOPE_HEAD_BYTES - 1)}é and more`)));
    expect(body.valueHeadEncoding).toBe("utf8");
    expect(body.valueHead).toBe("a".repeat(ENVELOPE_HEAD_BYTES - 1));
  });

  test("describes an empty value and a null key", () => {
    const { record, body } = envelopeOf(poison(null, { key: null }));
    expect(record.key).toBeNull();
    expect(body).toMatchObject({ key: null, keyBytes: 0, valueBytes: 0, valueHead: "" });
  });
});

describe("whole dead letters", () => {
  test("carry the message unchanged with the dlq headers, and count their bytes", () => {
    const message = poison(Buffer.from("{oops"));
    const record = deadLetterRecord(message, "not JSON: {oops");
    expect(record).toEqual({
      key: "poison",
      value: Buffer.from("{oops"),
      headers: {
        "content-type": "application/json",
        "dlq-reason": "not JSON: {oops",
        "dlq-source": "belly-price/2/41",
      },
    });
    const headerBytes = Object.entries(record.headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
    expect(deadLetterBytes(record)).toBe("poison".length + "{oops".length + headerBytes);
  });

  test("are batched in order up to the byte limit, a larger one alone", () => {
    const sizes = (batches: { bytes: number }[][]) => batches.map((batch) => batch.map((l) => l.bytes));
    const letters = [400, 400, 400, 5000, 10, 10].map((bytes) => ({ bytes }));
    expect(sizes(deadLetterBatches(letters, 1000))).toEqual([[400, 400], [400], [5000], [10, 10]]);
    expect(deadLetterBatches([], 1000)).toEqual([]);
  });
});
