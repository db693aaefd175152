import { ConfigError, isRetriable, SourceError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { redactText } from "../../log.ts";
import type { FetchResult, PriceSource } from "../../ports.ts";
import {
  backoffDelay,
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_CAP_MS,
  sleep as defaultSleep,
  parseRetryAfter,
  retry,
  type Sleep,
  stopReason,
} from "../../retry.ts";
import { type CoinGeckoFailureKind, coingeckoFailure, statusKind } from "./failures.ts";
import { parseSimplePriceBody, summarizeErrorBody, toFetchResult } from "./response.ts";
import { type CoinGeckoPlan, coingeckoHeaders, coingeckoRoot } from "./settings.ts";

/** Default request timeout: 10 s. */
const DEFAULT_TIMEOUT_MS = 10_000;
/** Default retries after the first attempt: 3. */
const DEFAULT_RETRIES = 3;
/** Longest Retry-After we wait for inside one fetch: 5 minutes; beyond it the fetch fails. */
const DEFAULT_MAX_RETRY_AFTER_MS = 5 * 60_000;
/** Retries of a body we cannot read (HTML, malformed JSON): a CDN hiccup passes, a wrong URL does not. */
const BODY_RETRIES = 2;

/** Everything {@link createCoinGeckoSource} needs; only `assets`, `currencies`, `plan` and `log` are required. */
export interface CoinGeckoOptions {
  /** CoinGecko ids, e.g. ["beldex"]. */
  assets: string[];
  /** Vs currencies, e.g. ["usd"]. */
  currencies: string[];
  /** Picks the key header and the default root URL. */
  plan: CoinGeckoPlan;
  /** Sent in the plan's key header; never sent on the public plan, required on pro. */
  apiKey?: string | null;
  /** Default per plan, see COINGECKO_BASE_URLS in settings.ts; the fake's `url` in tests and demos. */
  baseUrl?: string | null;
  /** Per attempt. Default 10000 ms. */
  timeoutMs?: number;
  /** Attempts after the first. Default 3. */
  retries?: number;
  /** Retry-After above this fails the fetch instead of waiting. Default 300000 ms (5 min). */
  maxRetryAfterMs?: number;
  /** Backoff curve. Default base 1000 ms, cap 60000 ms. */
  backoff?: { baseMs?: number; capMs?: number };
  /** Gets one warn line per retry and a debug line per fetch. */
  log: Logger;
  /** Injectable for tests. Default globalThis.fetch. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Clock for fetchedAt and HTTP-date Retry-After. Default () => new Date(). */
  now?: () => Date;
  /** Waits between attempts. Default {@link defaultSleep}. */
  sleep?: Sleep;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
  /** The ticks' `source` field. Default "coingecko"; the demo mode says "demo". */
  sourceName?: string;
}

/**
 * The /simple/price URL asking for every pair, with all metrics and full precision, in one request.
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
 * A {@link PriceSource} reading CoinGecko's /simple/price: one GET per fetch for all pairs, retried with
 * full-jitter backoff on 429, 5xx, timeouts, network errors and unreadable bodies (Retry-After is a minimum).
 * Throws {@link SourceError} (with a hint) when the fetch fails; rejects with the caller's abort reason when
 * the caller's signal aborts. The API key never appears in errors or logs.
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
  const url = simplePriceUrl(baseUrl, assets, currencies);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = options.retries ?? DEFAULT_RETRIES;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const backoff = {
    baseMs: options.backoff?.baseMs ?? DEFAULT_BACKOFF_BASE_MS,
    capMs: options.backoff?.capMs ?? DEFAULT_BACKOFF_CAP_MS,
    random: options.random ?? Math.random,
  };
  const fetchImpl = options.fetch ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init));
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? defaultSleep;
  const headers = coingeckoHeaders(plan, apiKey);

  const secrets = apiKey ? [apiKey] : [];
  // Every attempt's message goes through here, so that a key echoed back by a proxy or a body cannot leak;
  // the final error of a fetch only adds to such a message.
  const fail = (
    kind: CoinGeckoFailureKind,
    message: string,
    extra: { cause?: unknown; status?: number; retryAfterMs?: number } = {},
  ): SourceError => {
    const { retriable, fix } = coingeckoFailure(kind, Boolean(options.baseUrl));
    return new SourceError(redactText(message, secrets), { ...extra, retriable, hint: fix });
  };

  const httpError = (response: Response, text: string): SourceError => {
    const status = response.status;
    const summary = summarizeErrorBody(text);
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), now());
    const kind = statusKind(status);
    if (kind === "rate-limited") {
      const wait = retryAfterMs === undefined ? "" : `, Retry-After ${Math.ceil(retryAfterMs / 1000)} s`;
      return fail(kind, `CoinGecko rate limit hit (HTTP 429${wait}): ${summary}`, { status, retryAfterMs });
    }
    if (kind === "server")
      return fail(kind, `CoinGecko server error (HTTP ${status}): ${summary}`, { status, retryAfterMs });
    if (kind === "key")
      return fail(kind, `CoinGecko refused the request (HTTP ${status}, plan ${plan}): ${summary}`, {
        status,
      });
    return fail(
      kind,
      `CoinGecko rejected the request (HTTP ${status}) to ${baseUrl}/simple/price: ${summary}`,
      {
        status,
      },
    );
  };

  const attemptOnce = async (signal: AbortSignal | undefined): Promise<FetchResult> => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(url, { method: "GET", headers, signal: combined });
      text = await response.text();
    } catch (cause) {
      if (signal?.aborted) throw stopReason(signal);
      if (timeout.aborted) {
        throw fail("timeout", `CoinGecko did not answer within ${timeoutMs} ms`, { cause });
      }
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw fail("network", `cannot reach CoinGecko at ${new URL(baseUrl).host}: ${reason}`, { cause });
    }
    if (!response.ok) throw httpError(response, text);
    let body: ReturnType<typeof parseSimplePriceBody>;
    try {
      body = parseSimplePriceBody(text, response.status);
    } catch (error) {
      if (!(error instanceof SourceError)) throw error;
      throw fail("body", error.message, { cause: error.cause, status: error.status });
    }
    return toFetchResult(body, {
      assets,
      currencies,
      fetchedAt: now().toISOString(),
      source: options.sourceName,
    });
  };

  // Only a 2xx answer reaches the body, so a failure with a 2xx status is an unreadable body.
  const unreadable = (error: SourceError) => error.status !== undefined && error.status < 300;
  const shouldRetry = (error: unknown, attempt: number): boolean => {
    if (!(error instanceof SourceError) || !isRetriable(error)) return false;
    if (unreadable(error) && attempt > BODY_RETRIES) return false;
    return (error.retryAfterMs ?? 0) <= maxRetryAfterMs;
  };

  const delayFor = (error: unknown, attempt: number): number => {
    const jitter = backoffDelay(attempt, backoff);
    const asked = error instanceof SourceError ? (error.retryAfterMs ?? 0) : 0;
    return Math.max(jitter, asked);
  };

  return {
    async fetch(signal?: AbortSignal): Promise<FetchResult> {
      let attempts = 0;
      try {
        const result = await retry(
          () => {
            attempts++;
            return attemptOnce(signal);
          },
          {
            retries,
            shouldRetry,
            delayFor,
            sleep,
            signal,
            onRetry: ({ error, attempt, delayMs }) =>
              log.warn("coingecko fetch failed, retrying", {
                attempt,
                retries,
                delayMs,
                status: error instanceof SourceError ? error.status : undefined,
                reason: error instanceof Error ? redactText(error.message, secrets) : String(error),
              }),
          },
        );
        log.debug("coingecko fetched", {
          ticks: result.ticks.length,
          skipped: result.skipped.length,
          attempts,
        });
        return result;
      } catch (error) {
        if (signal?.aborted) throw stopReason(signal);
        // Only transient failures are retried, so only they are worth saying how long we tried.
        if (!(error instanceof SourceError) || !error.retriable) throw error;
        const extra = {
          cause: error,
          status: error.status,
          retryAfterMs: error.retryAfterMs,
          hint: error.hint,
          retriable: true,
        };
        if ((error.retryAfterMs ?? 0) > maxRetryAfterMs) {
          const seconds = Math.ceil((error.retryAfterMs ?? 0) / 1000);
          throw new SourceError(
            `CoinGecko asked us to wait ${seconds} s (Retry-After), more than the ${maxRetryAfterMs / 1000} s we wait within one fetch; giving up: ${error.message}`,
            extra,
          );
        }
        const times = attempts === 1 ? "1 attempt" : `${attempts} attempts`;
        throw new SourceError(`CoinGecko fetch failed after ${times}: ${error.message}`, extra);
      }
    },
  };
}
