// Number, time and age formatting shared by the server-rendered page and the browser script (bundled into
// /assets/live.js), so that a live update reads exactly like a server render. Browser-safe: Intl only.

/** Locale of every formatted value: the page is in English, whatever the server's locale. */
const LOCALE = "en-US";

const cache = new Map<string, Intl.NumberFormat>();

function numberFormat(options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = JSON.stringify(options);
  let format = cache.get(key);
  if (!format) {
    format = new Intl.NumberFormat(LOCALE, options);
    cache.set(key, format);
  }
  return format;
}

// CoinGecko vs-currencies include ISO codes (usd, eur) and crypto ones (btc, eth, sats, bits): Intl accepts any
// well-formed three-letter code and shows unknown ones as "BTC 0.1"; longer codes get a plain suffix.
function currencyStyle(currency: string): Intl.NumberFormatOptions | null {
  return /^[a-z]{3}$/.test(currency)
    ? { style: "currency", currency: currency.toUpperCase(), currencyDisplay: "narrowSymbol" }
    : null;
}

function withCurrency(value: number | string, currency: string, options: Intl.NumberFormatOptions): string {
  const style = currencyStyle(currency);
  if (style) return numberFormat({ ...style, ...options }).format(value as number);
  return `${numberFormat(options).format(value as number)} ${currency.toUpperCase()}`;
}

/** Significant digits a price keeps at least: in a fiat currency, and in a crypto one (BTC, ETH, sats). */
export const PRICE_DIGITS = { fiat: 4, crypto: 6 } as const;

// ISO 4217 currencies as Intl knows them (with their minor units, e.g. JPY 0, KWD 3); anything else CoinGecko
// quotes in (btc, eth, sats, bits) is a crypto unit, which has no minor unit and needs more digits.
const ISO_CURRENCIES = new Set(Intl.supportedValuesOf("currency").map((code) => code.toLowerCase()));
const minorUnits = new Map<string, number | null>();

/** The currency's minor units (USD 2, JPY 0), or null for a crypto unit. */
function minorUnitsOf(currency: string): number | null {
  let digits = minorUnits.get(currency);
  if (digits === undefined) {
    digits = ISO_CURRENCIES.has(currency)
      ? (numberFormat({ style: "currency", currency: currency.toUpperCase() }).resolvedOptions()
          .maximumFractionDigits ?? 2)
      : null;
    minorUnits.set(currency, digits);
  }
  return digits;
}

/**
 * A price by significant digits, the one function the cards, the chart (axis, readout) and the table all use:
 * at least 4 significant digits (6 in a crypto unit) and at least the currency's minor units (JPY none, USD
 * two), trailing zeros kept so that a column of prices lines up. Digits beyond are cut, never rounded, so a
 * price never shows higher than it is: 0.99999 reads $0.9999, not $1.000.
 * @example formatPrice(0.0712345, "usd") // "$0.07123"
 * @example formatPrice(0.99999, "usd") // "$0.9999"
 * @example formatPrice(90123.456, "usd") // "$90,123.45"
 * @example formatPrice(14123456.78, "jpy") // "¥14,123,456"
 * @example formatPrice(0.0345678, "btc") // "BTC 0.0345678"
 */
export function formatPrice(price: number, currency: string): string {
  if (!Number.isFinite(price)) return "—";
  const minor = minorUnitsOf(currency);
  const digits = minor === null ? PRICE_DIGITS.crypto : PRICE_DIGITS.fiat;
  // Zero has no significant digit to keep: it shows the minor units only.
  const significant = price === 0 ? 0 : digits - 1 - Math.floor(Math.log10(Math.abs(price)));
  // Intl allows at most 100 fraction digits; prices never come near, but a denormal must not throw.
  const fraction = Math.min(100, Math.max(minor ?? 2, significant));
  // The shortest decimal string of the number, so that cutting acts on 0.29 and not on 0.28999999999999998.
  return withCurrency(String(price), currency, {
    minimumFractionDigits: fraction,
    maximumFractionDigits: fraction,
    roundingMode: "trunc",
  });
}

/**
 * A large amount (market cap, volume) in compact notation; "—" when unknown.
 * @example formatCompact(512_345_678, "usd") // "$512.35M"
 */
export function formatCompact(value: number | null, currency: string): string {
  if (value === null || !Number.isFinite(value)) return "—";
  return withCurrency(value, currency, { notation: "compact", maximumFractionDigits: 2 });
}

/**
 * A plain count with thousands separators.
 * @example formatCount(12345) // "12,345"
 */
export function formatCount(value: number): string {
  return numberFormat({ maximumFractionDigits: 0 }).format(value);
}

/** Direction of a change, for colour and arrow. */
export type ChangeDirection = "up" | "down" | "flat";

/** A signed percentage change, its direction, and a sentence for screen readers (colour is not the only cue). */
export interface ChangeView {
  /** "+1.30%", "−1.30%" (a real minus sign), "0.00%", or "—" when unknown. */
  text: string;
  direction: ChangeDirection;
  /** "up 1.30%", "down 1.30%", "unchanged", "unknown". */
  label: string;
}

/**
 * Formats a percentage change with a sign and a spoken label.
 * @example formatChange(-1.3) // { text: "−1.30%", direction: "down", label: "down 1.30%" }
 */
export function formatChange(pct: number | null): ChangeView {
  if (pct === null || !Number.isFinite(pct)) return { text: "—", direction: "flat", label: "unknown" };
  const magnitude = numberFormat({ minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(
    Math.abs(pct),
  );
  // Rounds before deciding the direction, so that -0.001 reads "0.00%", not "−0.00%".
  if (magnitude === "0.00") return { text: "0.00%", direction: "flat", label: "unchanged" };
  return pct > 0
    ? { text: `+${magnitude}%`, direction: "up", label: `up ${magnitude}%` }
    : { text: `\u2212${magnitude}%`, direction: "down", label: `down ${magnitude}%` };
}

/**
 * Percentage change from one price to another, or null when the base is not positive.
 * @example percentChange(100, 101.5) // 1.5
 */
export function percentChange(from: number, to: number): number | null {
  return from > 0 ? ((to - from) / from) * 100 : null;
}

const timeFormat = new Intl.DateTimeFormat(LOCALE, {
  timeZone: "UTC",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});
const dateTimeFormat = new Intl.DateTimeFormat(LOCALE, {
  timeZone: "UTC",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

/**
 * A time of day in UTC (the page says so once, in its headings), with seconds.
 * @example formatTime(Date.UTC(2026, 10, 26, 18, 3)) // "18:03:00"
 */
export function formatTime(epochMs: number): string {
  return Number.isFinite(epochMs) ? timeFormat.format(epochMs) : "—";
}

/**
 * A day and time in UTC, for axes that span days.
 * @example formatDateTime(Date.UTC(2026, 10, 26, 18, 3)) // "Nov 26, 18:03"
 */
export function formatDateTime(epochMs: number): string {
  return Number.isFinite(epochMs) ? dateTimeFormat.format(epochMs) : "—";
}

/**
 * A duration as the two largest units, for "last tick 3m 05s ago"; "—" when unknown.
 * @example formatAge(185_000) // "3m 05s"
 */
export function formatAge(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "—";
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${String(minutes % 60).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/**
 * A CoinGecko id as a title: "beldex" -> "Beldex", "wrapped-bitcoin" -> "Wrapped Bitcoin".
 * @example displayName("usd-coin") // "Usd Coin"
 */
export function displayName(id: string): string {
  return id
    .split(/[-_.]+/)
    .filter(Boolean)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(" ");
}

/**
 * What the page calls a tick's source: "backfill" for CoinGecko's price history (BACKFILL_SOURCE in tick.ts,
 * spelled out here so the browser bundle stays free of the tick schema), "poll" for CoinGecko's live price,
 * any other source as it is ("demo").
 * @example sourceLabel("coingecko-chart") // "backfill"
 */
export function sourceLabel(source: string): string {
  if (source === "coingecko-chart") return "backfill";
  return source === "coingecko" ? "poll" : source;
}

/** Labels of the data freshness states (see snapshot.ts), shared by the page and the browser script. */
export const STATE_LABELS = { waiting: "Waiting", fresh: "Fresh", stale: "Stale" } as const;
