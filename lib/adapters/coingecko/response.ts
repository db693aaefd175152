import { z } from "zod";
import { excerpt, SourceError } from "../../errors.ts";
import { priceEveryPair } from "../../pairs.ts";
import type { FetchResult } from "../../ports.ts";
import { TICK_VERSION, type Tick, tickOrReason } from "../../tick.ts";

/** Value of `source` on every tick built from CoinGecko. */
const COINGECKO_SOURCE = "coingecko";

// CoinGecko answers an object keyed by id. Entries are only checked per pair (in toTick), so that one odd
// entry or field skips its pairs and not the whole fetch.
const simplePriceSchema = z.record(z.string(), z.unknown());

/** A /simple/price body: `{ [id]: { [currency]: price, [currency_market_cap]: ..., last_updated_at: ... } }`. */
export type SimplePriceBody = z.infer<typeof simplePriceSchema>;

/**
 * Parses the text of a /simple/price answer; throws {@link SourceError} with an excerpt of the body
 * when it is not JSON (an HTML page, a truncated body) or not a JSON object.
 * @example parseSimplePriceBody('{"beldex":{"usd":0.07}}') // { beldex: { usd: 0.07 } }
 */
export function parseSimplePriceBody(text: string, status = 200): SimplePriceBody {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    const what = /^\s*</.test(text) ? "an HTML page" : "malformed JSON";
    throw new SourceError(
      `CoinGecko answered ${what} instead of prices: ${excerpt(text) || "(empty body)"}`,
      {
        cause,
        status,
      },
    );
  }
  const parsed = simplePriceSchema.safeParse(json);
  if (!parsed.success) {
    throw new SourceError(`CoinGecko answered ${describeJson(json)} instead of an object: ${excerpt(json)}`, {
      status,
    });
  }
  return parsed.data;
}

function describeJson(json: unknown): string {
  if (json === null) return "null";
  if (Array.isArray(json)) return "an array";
  return `a ${typeof json}`;
}

/** What a tick needs besides the body. */
export interface TickContext {
  assets: readonly string[];
  currencies: readonly string[];
  /** ISO time of the fetch, the same for every tick of one fetch. */
  fetchedAt: string;
  /** The ticks' `source`. Default "coingecko"; "demo" for the built-in fake, so demo data never passes as real. */
  source?: string;
}

/**
 * Turns a /simple/price body into one tick per (asset, currency) pair; every pair that cannot be a valid
 * tick goes to `skipped` with a short reason ("unknown id", "price missing", "price not positive", ...).
 * @example toFetchResult({ beldex: { usd: 0.07, last_updated_at: 1764180000 } },
 *   { assets: ["beldex"], currencies: ["usd"], fetchedAt: new Date().toISOString() })
 */
export function toFetchResult(body: SimplePriceBody, context: TickContext): FetchResult {
  const source = context.source ?? COINGECKO_SOURCE;
  return priceEveryPair(context.assets, context.currencies, (asset, currency) =>
    toTick(asset, currency, Object.hasOwn(body, asset) ? body[asset] : undefined, context.fetchedAt, source),
  );
}

/** One pair as a tick, or the reason it is skipped. */
function toTick(
  asset: string,
  currency: string,
  value: unknown,
  fetchedAt: string,
  source: string,
): Tick | string {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return value === undefined ? "unknown id" : "entry not an object";
  const entry = value as Record<string, unknown>;
  // CoinGecko leaves unknown ids out, or answers {} for them, instead of failing the request.
  if (Object.keys(entry).length === 0) return "unknown id";
  if (!Object.hasOwn(entry, currency)) return "currency missing";
  const price = entry[currency];
  if (price === null || price === undefined) return "price missing";
  if (typeof price !== "number" || !Number.isFinite(price)) return "price not a number";
  if (price <= 0) return "price not positive";
  const updated = entry.last_updated_at;
  if (updated === null || updated === undefined) return "last_updated_at missing";
  if (typeof updated !== "number" || !Number.isFinite(updated) || updated <= 0)
    return "last_updated_at invalid";
  const updatedMs = updated * 1000;
  if (Number.isNaN(new Date(updatedMs).getTime())) return "last_updated_at invalid";
  return tickOrReason({
    v: TICK_VERSION,
    asset,
    currency,
    price,
    marketCap: metric(entry[`${currency}_market_cap`]),
    volume24h: metric(entry[`${currency}_24h_vol`]),
    change24hPct: metric(entry[`${currency}_24h_change`]),
    sourceUpdatedAt: new Date(updatedMs).toISOString(),
    fetchedAt,
    source,
  });
}

/** Optional metrics: anything but a finite number becomes null, as the tick schema wants. */
function metric(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * One line saying what an error body holds: CoinGecko's `error_message` (with its `error_code`) when the body
 * is CoinGecko's error JSON, otherwise an excerpt of the body (an HTML page from the CDN, say).
 * @example summarizeErrorBody('{"status":{"error_code":10002,"error_message":"API Key Missing"}}')
 * // "API Key Missing (error_code 10002)"
 */
export function summarizeErrorBody(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return excerpt(text) || "(empty body)";
  }
  const status = findStatus(json);
  if (status?.message)
    return excerpt(
      status.code === undefined ? status.message : `${status.message} (error_code ${status.code})`,
    );
  return excerpt(json);
}

const statusSchema = z.object({
  error_code: z.union([z.number(), z.string()]).optional(),
  error_message: z.string().optional(),
});

// CoinGecko's error bodies come in three shapes: {status:{...}}, {error:{status:{...}}} and {error:"..."}.
function findStatus(json: unknown): { code?: number | string; message?: string } | undefined {
  if (json === null || typeof json !== "object") return undefined;
  const record = json as Record<string, unknown>;
  if (typeof record.error === "string") return { message: record.error };
  const holder =
    record.error && typeof record.error === "object" ? (record.error as Record<string, unknown>) : record;
  const parsed = statusSchema.safeParse(holder.status);
  if (!parsed.success) return undefined;
  return { code: parsed.data.error_code, message: parsed.data.error_message };
}
