import { ConfigError, SourceError } from "../../errors.ts";
import type { FetchResult, PriceSource } from "../../ports.ts";
import { stopReason } from "../../retry.ts";
import { chunkIds, MAX_IDS_PER_REQUEST, MAX_URL_LENGTH } from "./chunks.ts";
import { type CoinGeckoGetOptions, createCoinGeckoGet } from "./request.ts";
import { parseSimplePriceBody, toFetchResult } from "./response.ts";
import { coingeckoRoot } from "./settings.ts";

/**
 * Everything {@link createCoinGeckoSource} needs: the shared GET's options (timeouts, retries, backoff, the
 * budget, injectable fetch and clocks) with the root and key optional, plus the pairs and the chunking. Only
 * `assets`, `currencies`, `plan` and `log` are required.
 */
export interface CoinGeckoOptions extends Omit<CoinGeckoGetOptions, "baseUrl" | "apiKey" | "baseUrlSet"> {
  /** CoinGecko ids, e.g. ["beldex"]. */
  assets: string[];
  /** Vs currencies, e.g. ["usd"]. */
  currencies: string[];
  /** Sent in the plan's key header; never sent on the public plan, required on pro. */
  apiKey?: string | null;
  /** Default per plan, see COINGECKO_BASE_URLS in settings.ts; the fake's `url` in tests and demos. */
  baseUrl?: string | null;
  /** The ticks' `source` field. Default "coingecko"; the demo mode says "demo". */
  sourceName?: string;
  /** Most ids per request. Default {@link MAX_IDS_PER_REQUEST} (250). */
  maxIdsPerRequest?: number;
  /** Longest request URL. Default {@link MAX_URL_LENGTH} (2048). */
  maxUrlLength?: number;
}

/**
 * The /simple/price URL asking for every pair of `assets` in `currencies`, with all metrics and full precision.
 * @example simplePriceUrl("https://api.coingecko.com/api/v3", ["beldex"], ["usd"])
 * // "https://api.coingecko.com/api/v3/simple/price?ids=beldex&vs_currencies=usd&include_market_cap=true&..."
 */
export function simplePriceUrl(
  baseUrl: string,
  assets: readonly string[],
  currencies: readonly string[],
): string {
  const list = (values: readonly string[]) => values.map(encodeURIComponent).join(",");
  // Commas stay literal (not %2C) so that the URL reads as CoinGecko documents it, in logs too.
  const query = [
    `ids=${list(assets)}`,
    `vs_currencies=${list(currencies)}`,
    "include_market_cap=true",
    "include_24hr_vol=true",
    "include_24hr_change=true",
    "include_last_updated_at=true",
    "precision=full",
  ].join("&");
  return `${baseUrl.replace(/\/+$/, "")}/simple/price?${query}`;
}

/**
 * How many /simple/price requests one poll of `assets` in `currencies` makes (its chunks), for the budget's
 * reserve. Default limits as {@link createCoinGeckoSource}'s.
 * @example pollRequestCount(COINGECKO_BASE_URLS.public, ["beldex"], ["usd"]) // 1
 */
export function pollRequestCount(
  baseUrl: string,
  assets: readonly string[],
  currencies: readonly string[],
): number {
  return chunkIds(assets, (chunk) => simplePriceUrl(baseUrl, chunk, currencies)).length;
}

/**
 * A {@link PriceSource} reading CoinGecko's /simple/price: the ids in chunks (bounded count and URL length), one
 * GET per chunk, in turn, each retried with full-jitter backoff on 429, 5xx, timeouts, network errors and
 * unreadable bodies (Retry-After is a minimum), every attempt spending a call of the budget. A chunk that still
 * fails skips only its own pairs, with the reason; when every chunk fails the fetch throws its
 * {@link SourceError} (with a hint). Rejects with the caller's abort reason when the caller's signal aborts.
 * The API key never appears in errors or logs.
 * @example
 * const source = createCoinGeckoSource({ assets: ["beldex"], currencies: ["usd"], plan: "demo", apiKey, log });
 * const { ticks, skipped } = await source.fetch(signal);
 */
export function createCoinGeckoSource(options: CoinGeckoOptions): PriceSource {
  const { assets, currencies, plan, log } = options;
  const apiKey = options.apiKey || undefined;
  const problems: string[] = [];
  if (assets.length === 0) problems.push("ASSETS: expected at least one CoinGecko id, e.g. beldex");
  if (currencies.length === 0) problems.push("VS_CURRENCIES: expected at least one currency, e.g. usd");
  if (plan === "pro" && !apiKey)
    problems.push("COINGECKO_API_KEY: expected your pro key, since COINGECKO_PLAN is pro");
  if (problems.length) throw new ConfigError(problems);
  if (plan === "public" && apiKey)
    log.warn("COINGECKO_PLAN is public, so COINGECKO_API_KEY is not sent; set COINGECKO_PLAN to demo or pro");

  const baseUrl = coingeckoRoot(plan, options.baseUrl);
  const chunks = chunkIds(
    assets,
    (chunk) => simplePriceUrl(baseUrl, chunk, currencies),
    options.maxIdsPerRequest ?? MAX_IDS_PER_REQUEST,
    options.maxUrlLength ?? MAX_URL_LENGTH,
  );
  const now = options.now ?? (() => new Date());
  const get = createCoinGeckoGet({
    ...options,
    apiKey,
    baseUrl,
    baseUrlSet: Boolean(options.baseUrl),
    now,
  });
  if (chunks.length > 1)
    log.info("asking CoinGecko for the ids in chunks", { ids: assets.length, requests: chunks.length });

  return {
    async fetch(signal?: AbortSignal): Promise<FetchResult> {
      const ticks: FetchResult["ticks"] = [];
      const skipped: FetchResult["skipped"] = [];
      const failures: SourceError[] = [];
      for (const chunk of chunks) {
        try {
          const body = await get(
            simplePriceUrl(baseUrl, chunk, currencies),
            "/simple/price",
            parseSimplePriceBody,
            signal,
          );
          const result = toFetchResult(body, {
            assets: chunk,
            currencies,
            fetchedAt: now().toISOString(),
            source: options.sourceName,
          });
          ticks.push(...result.ticks);
          skipped.push(...result.skipped);
        } catch (error) {
          if (signal?.aborted) throw stopReason(signal);
          if (!(error instanceof SourceError)) throw error;
          failures.push(error);
          // A short, fixed reason: it is a label of the skip counter, and the log line has the details.
          const reason = `request failed (${error.status === undefined ? "no answer" : `HTTP ${error.status}`})`;
          for (const asset of chunk)
            for (const currency of currencies) skipped.push({ asset, currency, reason });
          if (chunks.length > 1)
            log.warn("coingecko chunk failed: its pairs are skipped this cycle", {
              ids: chunk.length,
              error: error.message,
            });
        }
      }
      // Nothing priced at all is a failed fetch, as it was with one request.
      if (failures.length === chunks.length && failures[0]) throw failures[0];
      return { ticks, skipped };
    },
  };
}
