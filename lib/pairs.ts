import type { FetchResult, SkippedPair } from "./ports.ts";
import type { Tick } from "./tick.ts";

/**
 * One fetch's result from a price function called for every (asset, currency) pair, assets first: a pair
 * whose function returns a string is skipped with that reason, so that one bad pair never fails the fetch.
 * @example priceEveryPair(["beldex"], ["usd", "btc"], (asset, currency) => tickOf(asset, currency) ?? "no rate")
 */
export function priceEveryPair(
  assets: readonly string[],
  currencies: readonly string[],
  price: (asset: string, currency: string) => Tick | string,
): FetchResult {
  const ticks: Tick[] = [];
  const skipped: SkippedPair[] = [];
  for (const asset of assets)
    for (const currency of currencies) {
      const outcome = price(asset, currency);
      if (typeof outcome === "string") skipped.push({ asset, currency, reason: outcome });
      else ticks.push(outcome);
    }
  return { ticks, skipped };
}
