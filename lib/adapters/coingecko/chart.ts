/**
 * A {@link ChartSource} over CoinGecko's /coins/{id}/market_chart/range: one GET per window, through the same
 * budget, key header, retries and errors as the poll, waiting behind it ("background" priority).
 */
import { ConfigError } from "../../errors.ts";
import type { ChartSource } from "../../ports.ts";
import { chartTicks, parseChartBody } from "./chart-response.ts";
import { chartWindows, FINEST_SPACING_MS } from "./chart-windows.ts";
import { type CoinGeckoGetOptions, createCoinGeckoGet } from "./request.ts";
import { coingeckoRoot } from "./settings.ts";

/** Options of {@link createCoinGeckoChart}: those of the shared GET, with the root optional as in the source. */
export type CoinGeckoChartOptions = Omit<CoinGeckoGetOptions, "baseUrl" | "apiKey" | "priority"> & {
  apiKey?: string | null;
  /** Default per plan (COINGECKO_BASE_URLS). */
  baseUrl?: string | null;
};

/**
 * The market_chart/range URL of one pair and window, in unix seconds (from rounded down, to up) with full
 * precision.
 * @example marketChartRangeUrl(base, "beldex", "usd", { from, to, closed: true, granularity: "5m" })
 */
export function marketChartRangeUrl(
  baseUrl: string,
  asset: string,
  currency: string,
  window: { from: number; to: number },
): string {
  const query = [
    `vs_currency=${encodeURIComponent(currency)}`,
    `from=${Math.floor(window.from / 1000)}`,
    `to=${Math.ceil(window.to / 1000)}`,
    "precision=full",
  ].join("&");
  return `${baseUrl.replace(/\/+$/, "")}/coins/${encodeURIComponent(asset)}/market_chart/range?${query}`;
}

/**
 * CoinGecko's price history as a chart source; its ticks say `source: "coingecko-chart"`.
 * @example const chart = createCoinGeckoChart({ plan: "demo", apiKey, log, budget });
 * const { ticks } = await chart.fetch("beldex", "usd", chart.windows(from, now, now)[0], signal);
 */
export function createCoinGeckoChart(options: CoinGeckoChartOptions): ChartSource {
  const apiKey = options.apiKey || undefined;
  if (options.plan === "pro" && !apiKey)
    throw new ConfigError(["COINGECKO_API_KEY: expected your pro key, since COINGECKO_PLAN is pro"]);
  const baseUrl = coingeckoRoot(options.plan, options.baseUrl);
  const now = options.now ?? (() => new Date());
  const get = createCoinGeckoGet({
    ...options,
    apiKey,
    baseUrl,
    baseUrlSet: Boolean(options.baseUrl),
    now,
    priority: "background",
  });
  return {
    finestMs: FINEST_SPACING_MS,
    windows: chartWindows,
    async fetch(asset, currency, window, signal) {
      const url = marketChartRangeUrl(baseUrl, asset, currency, window);
      const body = await get(url, "/coins/{id}/market_chart/range", parseChartBody, signal);
      return chartTicks(body, { asset, currency, window, fetchedAt: now().toISOString() });
    },
  };
}
