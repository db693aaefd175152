import { describe, expect, test } from "bun:test";
import { InvalidTickError } from "../lib/errors.ts";
import { decodeTick, encodeTick, parseTick, tickIdentity, tickKey } from "../lib/tick.ts";
import { makeTick } from "./support/ticks.ts";

describe("tick message v1", () => {
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
