import { DEFAULT_FAKE_BOOK, type FakeQuoteInput } from "../../tests/support/fake-coingecko.ts";
import type { Tick } from "../tick.ts";

/**
 * The demo fake's book for the configured pairs: the default book's quotes where it has them, a price of 1
 * otherwise, so that `--demo` works for any ASSETS and VS_CURRENCIES.
 */
export function demoBook(
  assets: string[],
  currencies: string[],
): Record<string, Record<string, FakeQuoteInput>> {
  return Object.fromEntries(
    assets.map((asset) => [
      asset,
      Object.fromEntries(
        currencies.map((currency) => [currency, DEFAULT_FAKE_BOOK[asset]?.[currency] ?? { price: 1 }]),
      ),
    ]),
  );
}

/**
 * A day of made-up history ending just before `endMs` (one tick per `stepMs`, a gentle random walk ending at
 * each pair's book price), so that a fresh demo shows a chart at once. Every tick says `source: "demo"`.
 * Defaults: 24 h at 10-minute steps.
 */
export function demoBackfill(
  book: Record<string, Record<string, FakeQuoteInput>>,
  endMs: number,
  options: { spanMs?: number; stepMs?: number; random?: () => number } = {},
): Tick[] {
  const span = options.spanMs ?? 86_400_000;
  const step = options.stepMs ?? 600_000;
  const random = options.random ?? Math.random;
  const last = Math.floor(endMs / step) * step - step;
  const ticks: Tick[] = [];
  for (const [asset, quotes] of Object.entries(book))
    for (const [currency, quote] of Object.entries(quotes)) {
      let price = quote.price ?? 1;
      for (let at = last; at > last - span; at -= step) {
        ticks.push({
          v: 1,
          asset,
          currency,
          price,
          marketCap: quote.marketCap ?? null,
          volume24h: quote.volume24h ?? null,
          change24hPct: quote.change24hPct ?? null,
          sourceUpdatedAt: new Date(at).toISOString(),
          fetchedAt: new Date(at).toISOString(),
          source: "demo",
        });
        price *= 1 + (random() - 0.5) * 0.01; // walking backwards from today's price keeps the ends joined
      }
    }
  return ticks.reverse();
}
