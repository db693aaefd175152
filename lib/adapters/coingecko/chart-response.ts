/** Reading a /coins/{id}/market_chart/range answer: `{ prices, market_caps, total_volumes }` of [ms, value]. */
import { z } from "zod";
import { excerpt, SourceError } from "../../errors.ts";
import type { ChartFetchResult, ChartWindow } from "../../ports.ts";
import { BACKFILL_SOURCE, TICK_VERSION, tickOrReason } from "../../tick.ts";

/** Value of `source` on every tick read from CoinGecko's price history, so the page can tell them apart. */
export const COINGECKO_CHART_SOURCE = BACKFILL_SOURCE;

// Points are checked one by one (in chartTicks), so that one odd point drops itself and not the window.
const series = z.array(z.array(z.unknown())).optional().default([]);
const chartSchema = z.object({ prices: series, market_caps: series, total_volumes: series });

/** A market_chart/range body. */
export type ChartBody = z.infer<typeof chartSchema>;

/**
 * Parses the text of a market_chart/range answer; throws {@link SourceError} with an excerpt when it is not
 * JSON (an HTML page from the CDN with status 200, say) or has no series.
 * @example parseChartBody('{"prices":[[1764180000000,0.07]]}') // { prices: [[...]], market_caps: [], ... }
 */
export function parseChartBody(text: string, status = 200): ChartBody {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    const what = /^\s*</.test(text) ? "an HTML page" : "malformed JSON";
    throw new SourceError(`CoinGecko answered ${what} instead of a price history: ${excerpt(text)}`, {
      cause,
      status,
    });
  }
  const parsed = chartSchema.safeParse(json);
  if (!parsed.success || json === null || typeof json !== "object" || !("prices" in json))
    throw new SourceError(`CoinGecko answered no price history: ${excerpt(json)}`, { status });
  return parsed.data;
}

/**
 * One tick per price point inside `window`, with the market cap and 24h volume of the same timestamp (null when
 * CoinGecko has none for it) and no 24h change; points that cannot be a valid tick are counted as dropped.
 * @example chartTicks(body, { asset: "beldex", currency: "usd", window, fetchedAt: new Date().toISOString() })
 */
export function chartTicks(
  body: ChartBody,
  context: { asset: string; currency: string; window: ChartWindow; fetchedAt: string },
): ChartFetchResult {
  const { window } = context;
  const byTime = (points: unknown[][]) => {
    const map = new Map<number, number>();
    for (const [t, v] of points)
      if (typeof t === "number" && typeof v === "number" && Number.isFinite(v)) map.set(t, v);
    return map;
  };
  const caps = byTime(body.market_caps);
  const volumes = byTime(body.total_volumes);
  const ticks: ChartFetchResult["ticks"] = [];
  const seen = new Set<number>();
  let dropped = 0;
  for (const [t, price] of body.prices) {
    if (typeof t !== "number" || !Number.isFinite(t)) {
      dropped++;
      continue;
    }
    // CoinGecko answers whole seconds around the window; the window's own bounds decide, so windows never overlap.
    if (t < window.from || t > window.to || (t === window.to && !window.closed) || seen.has(t)) continue;
    seen.add(t);
    const tick = tickOrReason({
      v: TICK_VERSION,
      asset: context.asset,
      currency: context.currency,
      price,
      marketCap: caps.get(t) ?? null,
      volume24h: volumes.get(t) ?? null,
      change24hPct: null,
      sourceUpdatedAt: new Date(t).toISOString(),
      fetchedAt: context.fetchedAt,
      source: COINGECKO_CHART_SOURCE,
    });
    if (typeof tick === "string") dropped++;
    else ticks.push(tick);
  }
  return { ticks, dropped };
}
