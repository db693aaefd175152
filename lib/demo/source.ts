/**
 * The `--demo` price source: the demo market behind the source port, so the pipeline runs without CoinGecko
 * (or any server) and every tick says `source: "demo"`.
 */
import type { FetchResult, PriceSource } from "../ports.ts";
import { stopReason } from "../retry.ts";
import { createDemoMarket, type DemoMarket } from "./market.ts";
import { rateAssets } from "./rates.ts";
import { type DemoPairs, demoTicks } from "./ticks.ts";

/** Options of {@link createDemoSource}. */
export interface DemoSourceOptions extends DemoPairs {
  /** Clock in epoch ms; default Date.now. */
  now?: () => number;
  /** Uniform random in [0, 1) for the walk; default Math.random. */
  random?: () => number;
}

/** A demo price source, with the market it reads (the backfill reads the same one). */
export interface DemoSource extends PriceSource, DemoPairs {
  readonly market: DemoMarket;
}

/**
 * A price source that makes prices up: a random walk per asset in USD from plausible seeds, every other
 * currency by consistent rates. Each fetch walks to the clock's time and stamps every tick with it, so each
 * fetch gives new ticks; a pair it cannot price is skipped with the reason.
 * @example const source = createDemoSource({ assets: ["beldex"], currencies: ["usd", "btc"] });
 */
export function createDemoSource(options: DemoSourceOptions): DemoSource {
  const now = options.now ?? Date.now;
  const pairs: DemoPairs = { assets: [...options.assets], currencies: [...options.currencies] };
  const market = createDemoMarket({
    ids: [...pairs.assets, ...rateAssets(pairs.currencies)],
    at: now(),
    ...(options.random ? { random: options.random } : {}),
  });
  return {
    ...pairs,
    market,
    async fetch(signal?: AbortSignal): Promise<FetchResult> {
      if (signal?.aborted) throw stopReason(signal);
      const at = now();
      market.advance(at);
      return demoTicks(market, pairs, at);
    },
  };
}
