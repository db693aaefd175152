/**
 * How the demo turns a USD price into any other currency: fiat from a fixed table, crypto from the demo's own
 * USD price of the quote asset, so that every cross rate agrees (beldex in btc = beldex usd / bitcoin usd).
 */
import type { DemoMarket } from "./market.ts";

/** Units of each fiat currency per US dollar (rounded, late-2025 magnitudes); fixed while the demo runs. */
export const DEMO_FIAT_PER_USD: Readonly<Record<string, number>> = {
  usd: 1,
  eur: 0.86,
  gbp: 0.76,
  jpy: 155.2,
  chf: 0.8,
  cad: 1.4,
  aud: 1.53,
  nzd: 1.75,
  cny: 7.1,
  hkd: 7.78,
  sgd: 1.3,
  inr: 89.1,
  krw: 1_470,
  brl: 5.35,
  mxn: 18.4,
  sek: 9.45,
  nok: 10.1,
  dkk: 6.45,
  pln: 3.65,
  try: 42.5,
  zar: 17.2,
};

/** Crypto currencies a demo price can be quoted in, each with the asset whose USD price sets its rate. */
const DEMO_CRYPTO_CURRENCIES: Readonly<Record<string, string>> = {
  btc: "bitcoin",
  eth: "ethereum",
};

/**
 * The asset ids whose prices the rates of `currencies` depend on (bitcoin for btc, ethereum for eth), so the
 * market walks them even when they are not configured.
 * @example rateAssets(["usd", "btc"]) // ["bitcoin"]
 */
export function rateAssets(currencies: readonly string[]): string[] {
  return currencies.flatMap((currency) =>
    Object.hasOwn(DEMO_CRYPTO_CURRENCIES, currency) ? [DEMO_CRYPTO_CURRENCIES[currency] as string] : [],
  );
}

/**
 * Units of `currency` per US dollar at `at`, or undefined when the demo has no rate for it (never a made-up 1).
 * @example perUsd(market, "btc", Date.now()) // 1 / bitcoin's USD price
 */
export function perUsd(market: DemoMarket, currency: string, at: number): number | undefined {
  if (Object.hasOwn(DEMO_FIAT_PER_USD, currency)) return DEMO_FIAT_PER_USD[currency];
  if (!Object.hasOwn(DEMO_CRYPTO_CURRENCIES, currency)) return undefined;
  const usd = market.usdAt(DEMO_CRYPTO_CURRENCIES[currency] as string, at);
  return usd === undefined ? undefined : 1 / usd;
}
