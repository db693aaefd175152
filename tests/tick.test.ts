import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { toFetchResult } from "../lib/adapters/coingecko/response.ts";
import { InvalidTickError } from "../lib/errors.ts";
import {
  decodeTick,
  decodeTickMessage,
  encodeTick,
  MAX_CLOCK_SKEW_MS,
  parseTick,
  TICK_HEADERS,
  type Tick,
  tickIdentity,
  tickKey,
  tickOrReason,
  tickSchema,
} from "../lib/tick.ts";
import { makeTick } from "./support/ticks.ts";

describe("tick message v1", () => {
  test("compiles whole to zod's generated check, so that no field falls back to the runtime parser", () => {
    // parseTick uses z.compile(tickSchema), which falls back silently; strict says what it could not compile.
    expect(() => z.compile(tickSchema, { strict: true })).not.toThrow();
  });

  test("round-trips through its JSON encoding", () => {
    const tick = makeTick();
    expect(decodeTick(Buffer.from(encodeTick(tick)))).toEqual(tick);
  });

  test("is keyed by asset:currency and identified by its source time", () => {
    const tick = makeTick({}, 5);
    expect(tickKey(tick)).toBe("beldex:usd");
    expect(tickIdentity(tick)).toBe("beldex:usd@2026-11-26T18:05:00.000Z");
    // The same instant written with another offset is the same tick.
    expect(tickIdentity({ ...tick, sourceUpdatedAt: "2026-11-26T19:05:00+01:00" })).toBe(tickIdentity(tick));
  });

  test("accepts null optional metrics but never a missing price", () => {
    expect(
      parseTick(makeTick({ marketCap: null, volume24h: null, change24hPct: null })).marketCap,
    ).toBeNull();
    const { price: _price, ...noPrice } = makeTick();
    expect(() => parseTick(noPrice)).toThrow(InvalidTickError);
  });

  test.each([
    ["zero price", { price: 0 }],
    ["negative price", { price: -1 }],
    ["non-finite price", { price: Number.POSITIVE_INFINITY }],
    ["wrong version", { v: 2 }],
    ["bad timestamp", { sourceUpdatedAt: "yesterday" }],
    ["upper-case asset", { asset: "BELDEX" }],
  ])("rejects a tick with a %s", (_name, patch) => {
    expect(() => parseTick({ ...makeTick(), ...patch })).toThrow(InvalidTickError);
  });

  test("gives a short reason for bad JSON and empty messages", () => {
    expect(() => decodeTick(Buffer.from("{not json"))).toThrow(/not JSON/);
    expect(() => decodeTick(null)).toThrow(/empty message/);
    const huge = Buffer.from(JSON.stringify({ ...makeTick(), price: "x".repeat(5000) }));
    const error = (() => {
      try {
        decodeTick(huge);
      } catch (caught) {
        return caught as InvalidTickError;
      }
    })();
    expect(error).toBeInstanceOf(InvalidTickError);
    expect(error?.reason.length).toBeLessThan(260);
  });
});

/** The consumer's clock in these tests: five minutes after makeTick's minute 0. */
const NOW = Date.parse("2026-11-26T18:05:00.000Z");

/** A message as the producer writes it, with overrides. */
function message(tick: Tick, overrides: { key?: string | null; headers?: Record<string, string> } = {}) {
  return {
    key: overrides.key === undefined ? tickKey(tick) : overrides.key,
    value: Buffer.from(encodeTick(tick)),
    headers: overrides.headers ?? { ...TICK_HEADERS },
  };
}

/** The reason decodeTickMessage gives, or undefined when it accepts the message. */
function reasonOf(input: ReturnType<typeof message>, now = NOW): string | undefined {
  try {
    decodeTickMessage(input, now);
    return undefined;
  } catch (error) {
    if (error instanceof InvalidTickError) return error.reason;
    throw error;
  }
}

describe("a tick message read from the bus", () => {
  test("accepts what the producer writes", () => {
    const tick = makeTick({}, 5);
    expect(decodeTickMessage(message(tick), NOW)).toEqual(tick);
  });

  test("refuses a tick dated year 9999, saying by how much it may lead the consumer's clock", () => {
    const tick = makeTick({ sourceUpdatedAt: "9999-12-31T23:59:59.000Z" });
    expect(reasonOf(message(tick))).toBe(
      "sourceUpdatedAt 9999-12-31T23:59:59.000Z is in the future (more than 120 s ahead of the consumer's clock)",
    );
  });

  test.each([
    ["5 minutes", 5 * 60_000],
    ["2 hours", 2 * 3_600_000],
  ])("refuses a tick %s ahead of the consumer's clock", (_name, aheadMs) => {
    const tick = makeTick({ sourceUpdatedAt: new Date(NOW + aheadMs).toISOString() });
    expect(reasonOf(message(tick))).toMatch(/is in the future/);
  });

  test("accepts a tick up to the allowed clock skew ahead, and none a millisecond beyond", () => {
    const at = (ms: number) => makeTick({ sourceUpdatedAt: new Date(NOW + ms).toISOString() });
    expect(reasonOf(message(at(MAX_CLOCK_SKEW_MS)))).toBeUndefined();
    expect(reasonOf(message(at(MAX_CLOCK_SKEW_MS + 1)))).toMatch(/is in the future/);
  });

  test("refuses a tick dated before 2009-01-03, and accepts one of that day", () => {
    const early = makeTick({ sourceUpdatedAt: "2008-12-31T23:59:59.000Z" });
    expect(reasonOf(message(early))).toBe(
      "sourceUpdatedAt 2008-12-31T23:59:59.000Z is before 2009-01-03, earlier than any price",
    );
    expect(reasonOf(message(makeTick({ sourceUpdatedAt: "2009-01-03T00:00:00.000Z" })))).toBeUndefined();
  });

  test("judges the time by the clock it is given, not by the machine's", () => {
    const tick = makeTick({}, 5);
    expect(reasonOf(message(tick), NOW - 10 * 60_000)).toMatch(/is in the future/);
  });

  test("refuses a key naming another pair, and accepts a null key", () => {
    const tick = makeTick();
    expect(reasonOf(message(tick, { key: "bitcoin:usd" }))).toBe(
      "key bitcoin:usd does not match the tick's pair beldex:usd",
    );
    expect(reasonOf(message(tick, { key: null }))).toBeUndefined();
  });

  test("refuses a schema header it does not know, and accepts a message without one", () => {
    const tick = makeTick();
    expect(reasonOf(message(tick, { headers: { schema: "belly.tick.v2" } }))).toBe(
      "schema header belly.tick.v2 is not one this consumer reads (belly.tick.v1)",
    );
    expect(reasonOf(message(tick, { headers: {} }))).toBeUndefined();
  });

  test("keeps the reason short when the key or the schema header is huge", () => {
    const tick = makeTick();
    expect(reasonOf(message(tick, { key: "k".repeat(100_000) }))?.length).toBeLessThan(200);
    expect(reasonOf(message(tick, { headers: { schema: "s".repeat(100_000) } }))?.length).toBeLessThan(200);
  });
});

describe("a tick a source builds", () => {
  test("is refused when its source time lies more than the clock skew after its fetch", () => {
    const fetchedAt = "2026-11-26T18:00:00.000Z";
    const reason = tickOrReason(makeTick({ fetchedAt, sourceUpdatedAt: "2026-11-26T18:05:00.000Z" }));
    expect(reason).toBe(
      "sourceUpdatedAt 2026-11-26T18:05:00.000Z is in the future (more than 120 s ahead of fetchedAt 2026-11-26T18:00:00.000Z)",
    );
    expect(tickOrReason(makeTick({ fetchedAt, sourceUpdatedAt: "2026-11-26T18:01:00.000Z" }))).toMatchObject({
      price: makeTick().price,
    });
  });

  test("is skipped by the CoinGecko source with its reason when last_updated_at lies in the future", () => {
    const fetchedAt = "2026-11-26T18:00:00.000Z";
    const inTwoHours = Date.parse(fetchedAt) / 1000 + 7200;
    const result = toFetchResult(
      { beldex: { usd: 0.07, last_updated_at: inTwoHours }, bitcoin: { usd: 90_000, last_updated_at: 1 } },
      { assets: ["beldex", "bitcoin"], currencies: ["usd"], fetchedAt },
    );
    expect(result.ticks).toEqual([]);
    expect(result.skipped).toEqual([
      {
        asset: "beldex",
        currency: "usd",
        reason:
          "sourceUpdatedAt 2026-11-26T20:00:00.000Z is in the future (more than 120 s ahead of fetchedAt 2026-11-26T18:00:00.000Z)",
      },
      {
        asset: "bitcoin",
        currency: "usd",
        reason: "sourceUpdatedAt 1970-01-01T00:00:01.000Z is before 2009-01-03, earlier than any price",
      },
    ]);
  });
});
