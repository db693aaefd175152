import { describe, expect, test } from "bun:test";
import { createConsumerMetrics } from "../lib/pipeline/metrics.ts";
import {
  displayName,
  formatAge,
  formatChange,
  formatCompact,
  formatDateTime,
  formatPrice,
  formatTime,
  percentChange,
} from "../lib/status/format.ts";
import { candlesQuery, candleWindow, historyQuery, timeSchema } from "../lib/status/params.ts";
import { freshness, newestTickAt } from "../lib/status/snapshot.ts";
import { makeTick } from "./support/ticks.ts";

describe("formatPrice", () => {
  test("keeps four significant digits below 1, so small coins keep their digits after the zeros", () => {
    expect(formatPrice(0.0712345, "usd")).toBe("$0.07123");
    expect(formatPrice(0.0000123456, "usd")).toBe("$0.00001234");
    expect(formatPrice(0.5, "eur")).toBe("€0.5000");
    expect(formatPrice(0.072, "usd")).toBe("$0.07200");
  });

  test("cuts the digits it drops, so a price never shows higher than it is", () => {
    expect(formatPrice(0.99999, "usd")).toBe("$0.9999");
    expect(formatPrice(1.99999, "usd")).toBe("$1.999");
    expect(formatPrice(91_234.567, "usd")).toBe("$91,234.56");
    // Cut on the decimal the number stands for, not on its binary value 0.28999999999999998…
    expect(formatPrice(0.29, "usd")).toBe("$0.2900");
  });

  test("shows at least the currency's minor units, with thousands separators: no cents on yen", () => {
    expect(formatPrice(1, "usd")).toBe("$1.000");
    expect(formatPrice(3_104.27, "eur")).toBe("€3,104.27");
    expect(formatPrice(14_123_456.78, "jpy")).toBe("¥14,123,456");
    expect(formatPrice(1_234.5, "jpy")).toBe("¥1,234");
    // Four significant digits still win over the yen's lack of minor units.
    expect(formatPrice(11.375, "jpy")).toBe("¥11.37");
    expect(formatPrice(0, "usd")).toBe("$0.00");
  });

  test("names crypto and unusual currencies by code, with six significant digits", () => {
    // Intl puts a no-break space between a code and the amount.
    expect(formatPrice(0.0345678, "btc")).toBe("BTC\u00a00.0345678");
    expect(formatPrice(0.0000012, "btc")).toBe("BTC\u00a00.00000120000");
    expect(formatPrice(1, "btc")).toBe("BTC\u00a01.00000");
    expect(formatPrice(29.4123456, "eth")).toBe("ETH\u00a029.4123");
    expect(formatPrice(123, "sats")).toBe("123.000 SATS");
  });

  test("says unknown with a dash", () => {
    expect(formatPrice(Number.NaN, "usd")).toBe("—");
  });
});

describe("formatCompact", () => {
  test("abbreviates large amounts, and says unknown with a dash", () => {
    expect(formatCompact(512_345_678, "usd")).toBe("$512.35M");
    expect(formatCompact(1.8e12, "usd")).toBe("$1.8T");
    expect(formatCompact(null, "usd")).toBe("—");
  });
});

describe("formatChange", () => {
  test("signs the change with a real minus, and gives a sentence that does not rely on colour", () => {
    expect(formatChange(1.3)).toEqual({ text: "+1.30%", direction: "up", label: "up 1.30%" });
    expect(formatChange(-1.3)).toEqual({ text: "\u22121.30%", direction: "down", label: "down 1.30%" });
    expect(formatChange(-0.001)).toEqual({ text: "0.00%", direction: "flat", label: "unchanged" });
    expect(formatChange(null)).toEqual({ text: "—", direction: "flat", label: "unknown" });
  });

  test("percentChange is relative to the first price", () => {
    expect(percentChange(100, 101.5)).toBeCloseTo(1.5);
    expect(percentChange(0, 1)).toBeNull();
  });
});

describe("times and ages", () => {
  test("times are in UTC", () => {
    const at = Date.UTC(2026, 10, 26, 18, 3, 7);
    expect(formatTime(at)).toBe("18:03:07");
    expect(formatDateTime(at)).toBe("Nov 26, 18:03");
  });

  test("ages use the two largest units", () => {
    expect(formatAge(0)).toBe("0s");
    expect(formatAge(59_999)).toBe("59s");
    expect(formatAge(185_000)).toBe("3m 05s");
    expect(formatAge(3 * 3_600_000 + 60_000)).toBe("3h 01m");
    expect(formatAge(50 * 3_600_000)).toBe("2d 2h");
    expect(formatAge(null)).toBe("—");
  });

  test("ids read as names", () => {
    expect(displayName("beldex")).toBe("Beldex");
    expect(displayName("wrapped-bitcoin")).toBe("Wrapped Bitcoin");
  });
});

describe("freshness", () => {
  test("is stale only past twice the fetch interval, and waiting before any tick", () => {
    expect(freshness(1000, 1000 + 120_000, 60_000).state).toBe("fresh");
    expect(freshness(1000, 1000 + 120_001, 60_000).state).toBe("stale");
    expect(freshness(null, 5, 60_000)).toEqual({
      state: "waiting",
      lastTickAt: null,
      ageMs: null,
      staleAfterMs: 120_000,
    });
    // A source clock ahead of ours is not a negative age.
    expect(freshness(5000, 1000, 60_000).ageMs).toBe(0);
  });

  test("the newest tick is the later of the cache's and the consumer's", () => {
    const metrics = { ...createConsumerMetrics(), lastTickAt: Date.parse(makeTick({}, 5).sourceUpdatedAt) };
    expect(newestTickAt([makeTick({}, 3)], metrics)).toBe(metrics.lastTickAt);
    expect(newestTickAt([makeTick({}, 7)], metrics)).toBe(Date.parse(makeTick({}, 7).sourceUpdatedAt));
    expect(newestTickAt([], null)).toBeNull();
  });
});

describe("parameters", () => {
  test("times are ISO date-times with offset, dates, or epoch milliseconds within 2009-2100", () => {
    expect(timeSchema.parse("2026-11-26T18:00:00Z").toISOString()).toBe("2026-11-26T18:00:00.000Z");
    expect(timeSchema.parse("2026-11-26T19:00:00+01:00").toISOString()).toBe("2026-11-26T18:00:00.000Z");
    expect(timeSchema.parse("2026-11-26").toISOString()).toBe("2026-11-26T00:00:00.000Z");
    expect(timeSchema.parse("1795723200000").toISOString()).toBe("2026-11-26T20:00:00.000Z");
    for (const bad of ["2026-11-26T18:00:00", "1000", "2101-01-01", "tomorrow"])
      expect(timeSchema.safeParse(bad).success).toBe(false);
  });

  test("history defaults to usd and 1000 ticks", () => {
    expect(historyQuery.parse({})).toEqual({ currency: "usd", limit: 1000 });
  });

  test("a candles window defaults to a few hundred candles ending now, and refuses too many", () => {
    const now = Date.UTC(2026, 10, 26, 18);
    expect(candleWindow(candlesQuery.parse({ interval: "5m" }), now)).toEqual({
      from: new Date(now - 86_400_000),
      to: new Date(now),
    });
    expect(candleWindow(candlesQuery.parse({ interval: "5m", from: "2026-01-01" }), now)).toEqual({
      error: "window too wide: at most 5000 candles of 5m per request",
    });
  });
});
