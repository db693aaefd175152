import { describe, expect, test } from "bun:test";
import { demoBackfill } from "../lib/demo/backfill.ts";
import { DEMO_FIAT_PER_USD } from "../lib/demo/rates.ts";
import { createDemoSource } from "../lib/demo/source.ts";
import { parseTick, type Tick, tickIdentity } from "../lib/tick.ts";
import { seededRandom } from "./support/seeded-random.ts";

const START = Date.UTC(2026, 10, 26, 18, 3, 7);
const STEP = 600_000;
const DAY = 86_400_000;

function source(assets: string[], currencies: string[], at = START, seed = 1) {
  return createDemoSource({ assets, currencies, now: () => at, random: seededRandom(seed) });
}

const of = (ticks: Tick[], asset: string, currency: string) =>
  ticks.filter((t) => t.asset === asset && t.currency === currency);
const off = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe("demo backfill", () => {
  test("gives every pair a day of valid demo ticks on 10-minute boundaries before now, oldest first", () => {
    const ticks = demoBackfill(source(["beldex", "bitcoin"], ["usd", "eur"]));
    expect(ticks).toHaveLength(4 * 144);
    for (const tick of ticks) {
      expect(parseTick(tick)).toEqual(tick);
      expect(tick.source).toBe("demo");
      expect(tick.fetchedAt).toBe(tick.sourceUpdatedAt);
    }
    const times = of(ticks, "beldex", "usd").map((t) => Date.parse(t.sourceUpdatedAt));
    expect(times).toHaveLength(144);
    expect(times.every((at) => at % STEP === 0)).toBe(true);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times.at(-1)).toBe(Date.UTC(2026, 10, 26, 18, 0));
    expect(times[0]).toBe(Date.UTC(2026, 10, 25, 18, 10));
  });

  test("ends at the source's current prices, in every currency", async () => {
    const demo = source(["beldex", "bitcoin", "ethereum"], ["usd", "eur", "btc", "eth"]);
    const ticks = demoBackfill(demo);
    const live = await demo.fetch();
    for (const now of live.ticks) {
      const newest = of(ticks, now.asset, now.currency).at(-1);
      expect(off(newest?.price ?? 0, now.price)).toBeLessThan(1e-12);
    }
  });

  test("converts with the same rates as the source: beldex in btc is beldex usd over bitcoin usd at each time", () => {
    const ticks = demoBackfill(source(["beldex", "bitcoin"], ["usd", "btc", "eur"]));
    const beldexUsd = of(ticks, "beldex", "usd");
    const beldexBtc = of(ticks, "beldex", "btc");
    const bitcoinUsd = of(ticks, "bitcoin", "usd");
    const beldexEur = of(ticks, "beldex", "eur");
    // A day of walking, not a flat line.
    expect(new Set(beldexUsd.map((t) => t.price)).size).toBeGreaterThan(100);
    beldexBtc.forEach((btc, i) => {
      const usd = beldexUsd[i] as Tick;
      expect(btc.sourceUpdatedAt).toBe(usd.sourceUpdatedAt);
      expect(off(btc.price, usd.price / (bitcoinUsd[i] as Tick).price)).toBeLessThan(1e-12);
      expect(off(btc.marketCap ?? 0, (usd.marketCap ?? 0) * (btc.price / usd.price))).toBeLessThan(1e-12);
      expect(off((beldexEur[i] as Tick).price / usd.price, DEMO_FIAT_PER_USD.eur ?? Number.NaN)).toBeLessThan(
        1e-12,
      );
    });
  });

  test("gives each tick the change against the history a day before it", () => {
    const ticks = demoBackfill(source(["beldex"], ["usd", "eur"]), { spanMs: 2 * DAY });
    const usd = of(ticks, "beldex", "usd");
    expect(usd).toHaveLength(288);
    for (let i = 144; i < usd.length; i++) {
      const now = usd[i] as Tick;
      const dayBefore = usd[i - 144] as Tick;
      expect(Date.parse(now.sourceUpdatedAt) - Date.parse(dayBefore.sourceUpdatedAt)).toBe(DAY);
      expect(now.change24hPct ?? Number.NaN).toBeCloseTo((now.price / dayBefore.price - 1) * 100, 9);
    }
  });

  test("publishes the same identities when the demo restarts within a step, whatever the walk", () => {
    const identities = (at: number, seed: number) =>
      demoBackfill(source(["beldex"], ["usd"], at, seed)).map(tickIdentity);
    expect(identities(START + 60_000, 2)).toEqual(identities(START, 1));
    expect(identities(START + STEP, 1)).not.toEqual(identities(START, 1));
  });

  test("leaves out the pairs the source skips", () => {
    const ticks = demoBackfill(source(["beldex"], ["usd", "xyz"]));
    expect(ticks).toHaveLength(144);
    expect(ticks.every((t) => t.currency === "usd")).toBe(true);
  });
});
