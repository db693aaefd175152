import { describe, expect, test } from "bun:test";
import { DEMO_FIAT_PER_USD } from "../lib/demo/rates.ts";
import { DEMO_SEEDS } from "../lib/demo/seeds.ts";
import { createDemoSource } from "../lib/demo/source.ts";
import type { FetchResult } from "../lib/ports.ts";
import { StoppedError } from "../lib/retry.ts";
import { parseTick, type Tick } from "../lib/tick.ts";
import { seededRandom } from "./support/seeded-random.ts";

const START = Date.UTC(2026, 10, 26, 18, 3, 7);

/** A demo source on a clock the test moves, with a seeded walk. */
function demo(assets: string[], currencies: string[], seed = 1) {
  const clock = { now: START };
  const source = createDemoSource({ assets, currencies, now: () => clock.now, random: seededRandom(seed) });
  return { source, clock };
}

function pick(result: FetchResult, asset: string, currency: string): Tick {
  const tick = result.ticks.find((t) => t.asset === asset && t.currency === currency);
  if (!tick) throw new Error(`no ${asset}/${currency} tick`);
  return tick;
}

/** Relative difference, for float comparisons of derived prices. */
const off = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe("demo price source", () => {
  test("prices every configured pair with a valid v1 tick labelled demo, stamped with the fetch time", async () => {
    const assets = ["beldex", "bitcoin", "ethereum", "tether"];
    const currencies = ["usd", "eur", "gbp", "jpy", "btc", "eth"];
    const { source, clock } = demo(assets, currencies);
    clock.now += 10_000;
    const result = await source.fetch();
    expect(result.skipped).toEqual([]);
    expect(result.ticks).toHaveLength(assets.length * currencies.length);
    expect(new Set(result.ticks.map((t) => `${t.asset}/${t.currency}`)).size).toBe(result.ticks.length);
    const at = new Date(clock.now).toISOString();
    for (const tick of result.ticks) {
      expect(parseTick(tick)).toEqual(tick);
      expect(tick).toMatchObject({ source: "demo", sourceUpdatedAt: at, fetchedAt: at });
      expect(tick.marketCap).toBeGreaterThan(0);
      expect(tick.volume24h).toBeGreaterThan(0);
      expect(Number.isFinite(tick.change24hPct)).toBe(true);
    }
  });

  test("starts well-known ids at plausible USD prices and any other id at a price of its own, every start", async () => {
    const first = await demo(["bitcoin", "beldex", "made-up-coin"], ["usd"], 1).source.fetch();
    const again = await demo(["bitcoin", "beldex", "made-up-coin"], ["usd"], 2).source.fetch();
    expect(pick(first, "bitcoin", "usd").price).toBe(DEMO_SEEDS.bitcoin?.usd ?? Number.NaN);
    expect(pick(first, "beldex", "usd").price).toBe(DEMO_SEEDS.beldex?.usd ?? Number.NaN);
    const madeUp = pick(first, "made-up-coin", "usd").price;
    expect(madeUp).toBeGreaterThanOrEqual(0.01);
    expect(madeUp).toBeLessThan(100);
    expect(madeUp).not.toBe(1);
    expect(pick(again, "made-up-coin", "usd").price).toBe(madeUp);
  });

  test("derives every currency from one rate: btc = usd / bitcoin's usd, eth alike, fiat by the fixed table", async () => {
    // bitcoin and ethereum are not configured: the btc and eth rates still come from their demo prices.
    const { source, clock } = demo(["beldex", "solana"], ["usd", "eur", "jpy", "btc", "eth"]);
    for (let fetch = 0; fetch < 5; fetch++) {
      clock.now += 60_000;
      const result = await source.fetch();
      for (const asset of ["beldex", "solana"]) {
        const usd = pick(result, asset, "usd");
        const btc = pick(result, asset, "btc");
        const eth = pick(result, asset, "eth");
        const eur = pick(result, asset, "eur");
        const jpy = pick(result, asset, "jpy");
        expect(off(eur.price, usd.price * (DEMO_FIAT_PER_USD.eur ?? Number.NaN))).toBeLessThan(1e-12);
        expect(off(jpy.price, usd.price * (DEMO_FIAT_PER_USD.jpy ?? Number.NaN))).toBeLessThan(1e-12);
        const bitcoinUsd = source.market.usdAt("bitcoin", clock.now) ?? Number.NaN;
        const ethereumUsd = source.market.usdAt("ethereum", clock.now) ?? Number.NaN;
        expect(off(btc.price, usd.price / bitcoinUsd)).toBeLessThan(1e-12);
        expect(off(eth.price, usd.price / ethereumUsd)).toBeLessThan(1e-12);
        // Market cap and volume go through the same rate as the price.
        for (const quoted of [btc, eth, eur, jpy]) {
          const rate = quoted.price / usd.price;
          expect(off(quoted.marketCap ?? 0, (usd.marketCap ?? 0) * rate)).toBeLessThan(1e-12);
          expect(off(quoted.volume24h ?? 0, (usd.volume24h ?? 0) * rate)).toBeLessThan(1e-12);
        }
      }
    }
  });

  test("quotes bitcoin at exactly 1 btc and keeps beldex in btc equal to beldex usd over bitcoin usd", async () => {
    const { source, clock } = demo(["beldex", "bitcoin"], ["usd", "btc"]);
    clock.now += 3_600_000;
    const result = await source.fetch();
    expect(off(pick(result, "bitcoin", "btc").price, 1)).toBeLessThan(1e-12);
    const ratio = pick(result, "beldex", "usd").price / pick(result, "bitcoin", "usd").price;
    expect(off(pick(result, "beldex", "btc").price, ratio)).toBeLessThan(1e-12);
    expect(pick(result, "beldex", "btc").price).toBeLessThan(1e-5);
  });

  test("gives one 24 h change in every fiat currency and the ratio's change in a crypto currency", async () => {
    const { source, clock } = demo(["beldex", "bitcoin"], ["usd", "eur", "gbp", "btc"]);
    clock.now += 600_000;
    const result = await source.fetch();
    const change = (asset: string, currency: string) =>
      pick(result, asset, currency).change24hPct ?? Number.NaN;
    expect(change("beldex", "eur")).toBeCloseTo(change("beldex", "usd"), 9);
    expect(change("beldex", "gbp")).toBeCloseTo(change("beldex", "usd"), 9);
    // In btc the change is that of beldex over bitcoin: (1 + a) / (1 + b) - 1.
    const expected = ((1 + change("beldex", "usd") / 100) / (1 + change("bitcoin", "usd") / 100) - 1) * 100;
    expect(change("beldex", "btc")).toBeCloseTo(expected, 9);
    // And it is the change against the market's own price of a day before.
    const dayAgo = source.market.usdAt("beldex", clock.now - 86_400_000) ?? Number.NaN;
    const now = pick(result, "beldex", "usd").price;
    expect(change("beldex", "usd")).toBeCloseTo((now / dayAgo - 1) * 100, 9);
  });

  test("skips a currency it has no rate for with the reason, and never prices it at 1", async () => {
    const { source } = demo(["beldex", "bitcoin"], ["usd", "xyz"]);
    const result = await source.fetch();
    expect(result.ticks.map((t) => `${t.asset}/${t.currency}`)).toEqual(["beldex/usd", "bitcoin/usd"]);
    expect(result.skipped).toEqual([
      { asset: "beldex", currency: "xyz", reason: 'no demo rate for currency "xyz"' },
      { asset: "bitcoin", currency: "xyz", reason: 'no demo rate for currency "xyz"' },
    ]);
  });

  test("skips a currency named like an object property instead of reading the prototype", async () => {
    const { source } = demo(["beldex"], ["constructor", "tostring"]);
    const result = await source.fetch();
    expect(result.ticks).toEqual([]);
    expect(result.skipped.map((s) => s.currency)).toEqual(["constructor", "tostring"]);
  });

  test("walks: every fetch is a new tick with a new price", async () => {
    const { source, clock } = demo(["beldex"], ["usd"]);
    let previous = pick(await source.fetch(), "beldex", "usd");
    for (let fetch = 0; fetch < 100; fetch++) {
      clock.now += 10_000;
      const tick = pick(await source.fetch(), "beldex", "usd");
      expect(tick.price).not.toBe(previous.price);
      expect(Date.parse(tick.sourceUpdatedAt)).toBeGreaterThan(Date.parse(previous.sourceUpdatedAt));
      previous = tick;
    }
  });

  test("keeps every price positive and plausible over a month of fetches", async () => {
    const { source, clock } = demo(["beldex", "bitcoin", "tether"], ["usd", "btc"]);
    let lowest = Number.POSITIVE_INFINITY;
    let last: FetchResult = await source.fetch();
    for (let fetch = 0; fetch < 30 * 144; fetch++) {
      clock.now += 600_000;
      last = await source.fetch();
      for (const tick of last.ticks) lowest = Math.min(lowest, tick.price);
    }
    expect(last.skipped).toEqual([]);
    expect(lowest).toBeGreaterThan(0);
    expect(pick(last, "beldex", "usd").price).not.toBe(DEMO_SEEDS.beldex?.usd);
    // A stablecoin walks too, but barely.
    expect(Math.abs(pick(last, "tether", "usd").price - 1)).toBeLessThan(0.1);
  });

  test("moves by small steps between close fetches", async () => {
    const { source, clock } = demo(["bitcoin"], ["usd"]);
    let price = pick(await source.fetch(), "bitcoin", "usd").price;
    for (let fetch = 0; fetch < 100; fetch++) {
      clock.now += 10_000;
      const next = pick(await source.fetch(), "bitcoin", "usd").price;
      expect(off(next, price)).toBeLessThan(0.005);
      price = next;
    }
  });

  test("repeats itself for the same clock and random, and differs for another random", async () => {
    const run = async (seed: number) => {
      const { source, clock } = demo(["beldex"], ["usd", "btc"], seed);
      const results: FetchResult[] = [];
      for (let fetch = 0; fetch < 3; fetch++) {
        clock.now += 10_000;
        results.push(await source.fetch());
      }
      return results;
    };
    expect(await run(7)).toEqual(await run(7));
    expect(await run(7)).not.toEqual(await run(8));
  });

  test("rejects with the stop reason when the signal has already aborted", async () => {
    const { source } = demo(["beldex"], ["usd"]);
    const stop = new AbortController();
    stop.abort(new StoppedError("SIGTERM"));
    await expect(source.fetch(stop.signal)).rejects.toBeInstanceOf(StoppedError);
  });
});
