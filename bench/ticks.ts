/** Deterministic tick streams shaped like the producer's: every pair once per minute, pairs in a fixed order. */
import type { BusMessage } from "../lib/ports.ts";
import type { Tick } from "../lib/tick.ts";
import { asMessages, makeTick } from "../tests/support/ticks.ts";

/** Ten assets by five currencies: the 50 pairs every benchmark spreads its ticks over. */
const ASSETS = [
  "bitcoin",
  "ethereum",
  "beldex",
  "solana",
  "cardano",
  "ripple",
  "dogecoin",
  "tron",
  "polkadot",
  "litecoin",
] as const;
const CURRENCIES = ["usd", "eur", "gbp", "jpy", "btc"] as const;

/** The 50 pairs, asset-major. */
export const PAIRS = ASSETS.flatMap((asset) => CURRENCIES.map((currency) => ({ asset, currency })));

/**
 * `count` ticks: minute by minute from `firstMinute`, all 50 pairs per minute, so a batch of 500 holds ten
 * polls of every pair, as the consumer sees them. Prices wander deterministically so runs compare.
 * @example benchTicks(20_000) // 400 minutes × 50 pairs
 */
export function benchTicks(count: number, firstMinute = 0): Tick[] {
  const ticks: Tick[] = [];
  for (let index = 0; index < count; index++) {
    const pairIndex = index % PAIRS.length;
    const pair = PAIRS[pairIndex] as (typeof PAIRS)[number];
    const minute = firstMinute + Math.floor(index / PAIRS.length);
    // A cheap deterministic wobble: distinct prices per pair and minute without a random source.
    const price = (pairIndex + 1) * 1.37 * (1 + Math.sin(minute * 0.7 + pairIndex) / 50);
    ticks.push(makeTick({ ...pair, price, change24hPct: Math.cos(minute + pairIndex) * 3 }, minute));
  }
  return ticks;
}

/** {@link benchTicks} encoded as bus messages, the input of the consumer's batch step. */
export function benchMessages(count: number, firstMinute = 0): BusMessage[] {
  return asMessages(benchTicks(count, firstMinute));
}
