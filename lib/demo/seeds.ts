/**
 * Where the demo walk starts: plausible USD figures for well-known CoinGecko ids, and a deterministic stand-in
 * for any other id, so that `--demo` prices every configured asset and looks the same on every start.
 */

/** Where the demo walk starts for one asset, in USD. */
export interface DemoSeed {
  /** Price in USD. */
  usd: number;
  /** Market cap in USD at that price; the supply it implies stays fixed while the price walks. */
  marketCapUsd: number;
  /** 24 h volume in USD at that price; its share of the market cap stays fixed. */
  volume24hUsd: number;
  /** Standard deviation of the log price over a day. Default {@link DEMO_DAILY_VOLATILITY}. */
  volatility?: number;
}

/** Daily volatility of the demo walk: lively enough to watch, tame enough to stay plausible for a day. */
export const DEMO_DAILY_VOLATILITY = 0.05;

// Stablecoins barely move; a demo where tether drifts to 1.08 would look broken.
const STABLE = 0.002;

/** Starting figures of well-known ids (rounded, late-2025 magnitudes: plausible, not a record). */
export const DEMO_SEEDS: Readonly<Record<string, DemoSeed>> = {
  bitcoin: { usd: 91_250.12, marketCapUsd: 1.82e12, volume24hUsd: 4.6e10 },
  ethereum: { usd: 3_021.47, marketCapUsd: 3.65e11, volume24hUsd: 2.2e10 },
  beldex: { usd: 0.0712, marketCapUsd: 5.02e8, volume24hUsd: 2.1e6 },
  tether: { usd: 1, marketCapUsd: 1.84e11, volume24hUsd: 8.1e10, volatility: STABLE },
  "usd-coin": { usd: 1, marketCapUsd: 7.5e10, volume24hUsd: 1.1e10, volatility: STABLE },
  binancecoin: { usd: 880.4, marketCapUsd: 1.23e11, volume24hUsd: 2.0e9 },
  solana: { usd: 139.8, marketCapUsd: 7.8e10, volume24hUsd: 4.1e9 },
  ripple: { usd: 2.11, marketCapUsd: 1.27e11, volume24hUsd: 4.0e9 },
  cardano: { usd: 0.42, marketCapUsd: 1.5e10, volume24hUsd: 7.0e8 },
  dogecoin: { usd: 0.152, marketCapUsd: 2.3e10, volume24hUsd: 1.2e9 },
  litecoin: { usd: 85.3, marketCapUsd: 6.5e9, volume24hUsd: 5.0e8 },
  monero: { usd: 392.5, marketCapUsd: 7.2e9, volume24hUsd: 1.5e8 },
};

/**
 * The starting figures of an id: its {@link DEMO_SEEDS} entry, else a deterministic made-up one (a price
 * between 0.01 and 100 USD, a market cap of 10^8 to 10^10 USD, volume 3 % of it) derived from the id alone.
 * @example demoSeed("bitcoin").usd // 91250.12
 */
export function demoSeed(id: string): DemoSeed {
  if (Object.hasOwn(DEMO_SEEDS, id)) return DEMO_SEEDS[id] as DemoSeed;
  const hash = fnv1a(id);
  // Two independent fractions from one 32-bit hash: enough spread for a made-up asset.
  const priceShare = (hash & 0xffff) / 0x10000;
  const capShare = (hash >>> 16) / 0x10000;
  const usd = Number((10 ** (-2 + 4 * priceShare)).toPrecision(4));
  const marketCapUsd = Number((10 ** (8 + 2 * capShare)).toPrecision(3));
  return { usd, marketCapUsd, volume24hUsd: marketCapUsd * 0.03 };
}

/** 32-bit FNV-1a of a string's UTF-16 code units: small, stable, good enough to spread ids. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
