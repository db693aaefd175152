/**
 * The demo market's prices at one instant as v1 ticks: every figure of a pair (price, market cap, volume,
 * 24 h change) converted by the same rate, the same way for the live source and for the backfill.
 */
import { priceEveryPair } from "../pairs.ts";
import type { FetchResult } from "../ports.ts";
import { TICK_VERSION, type Tick, tickOrReason } from "../tick.ts";
import { DAY_MS, type DemoMarket } from "./market.ts";
import { perUsd } from "./rates.ts";
import { demoSeed } from "./seeds.ts";

/** Value of `source` on every demo tick, so demo data never passes for real prices. */
const DEMO_SOURCE = "demo";

/** The pairs to price. */
export interface DemoPairs {
  assets: readonly string[];
  currencies: readonly string[];
}

/**
 * One tick per (asset, currency) pair at `at` (which is both its source time and its fetch time); a pair the
 * demo cannot price, such as a currency without a demo rate, goes to `skipped` with the reason.
 * @example demoTicks(market, { assets: ["beldex"], currencies: ["usd", "btc"] }, market.at)
 */
export function demoTicks(market: DemoMarket, pairs: DemoPairs, at: number): FetchResult {
  const time = new Date(at).toISOString();
  return priceEveryPair(pairs.assets, pairs.currencies, (asset, currency) =>
    demoTick(market, asset, currency, at, time),
  );
}

/** One pair as a tick, or the reason it is skipped. */
function demoTick(
  market: DemoMarket,
  asset: string,
  currency: string,
  at: number,
  time: string,
): Tick | string {
  const rate = perUsd(market, currency, at);
  const rateDayAgo = perUsd(market, currency, at - DAY_MS);
  if (rate === undefined || rateDayAgo === undefined) return `no demo rate for currency "${currency}"`;
  const usd = market.usdAt(asset, at);
  const usdDayAgo = market.usdAt(asset, at - DAY_MS);
  if (usd === undefined || usdDayAgo === undefined) return "asset not in the demo market";
  const seed = demoSeed(asset);
  const price = usd * rate;
  // The supply and the volume's share of the cap stay as seeded, so both follow the price in every currency.
  const marketCap = (seed.marketCapUsd / seed.usd) * price;
  return tickOrReason({
    v: TICK_VERSION,
    asset,
    currency,
    price,
    marketCap,
    volume24h: marketCap * (seed.volume24hUsd / seed.marketCapUsd),
    change24hPct: (price / (usdDayAgo * rateDayAgo) - 1) * 100,
    sourceUpdatedAt: time,
    fetchedAt: time,
    source: DEMO_SOURCE,
  });
}
