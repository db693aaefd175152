import { ConfigError, SourceError } from "../../errors.ts";
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
import { parseSimplePriceBody, summarizeErrorBody, toFetchResult } from "./response.ts";

/** CoinGecko API plans: keyless public, free demo key, paid pro key. */
export type CoinGeckoPlan = "public" | "demo" | "pro";

/** Root URL per plan: demo keys only work on api.coingecko.com, pro keys only on pro-api.coingecko.com. */
export const COINGECKO_BASE_URLS: Readonly<Record<CoinGeckoPlan, string>> = {
  public: "https://api.coingecko.com/api/v3",
  demo: "https://api.coingecko.com/api/v3",
  pro: "https://pro-api.coingecko.com/api/v3",
};

/** Header that carries the key, per keyed plan (CoinGecko recommends headers over query parameters). */
export const COINGECKO_KEY_HEADERS = {
  demo: "x-cg-demo-api-key",
  pro: "x-cg-pro-api-key",
} as const;

/** Default request timeout: 10 s. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Default retries after the first attempt: 3. */
export const DEFAULT_RETRIES = 3;
/** Longest Retry-After we wait for inside one fetch: 5 minutes; beyond it the fetch fails. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 5 * 60_000;
/** Retries of a body we cannot read (HTML, malformed JSON): a CDN hiccup passes, a wrong URL does not. */
export const BODY_RETRIES = 2;

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
  /** Default per plan, see {@link COINGECKO_BASE_URLS}; the fake's `url` in tests and demos. */
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

type FailureKind = "rate-limited" | "server" | "timeout" | "network" | "body" | "client";

const RETRYABLE: ReadonlySet<FailureKind> = new Set(["rate-limited", "server", "timeout", "network", "body"]);

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

  const baseUrl = (options.baseUrl || COINGECKO_BASE_URLS[plan]).replace(/\/+$/, "");
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
  const headers: Record<string, string> = { accept: "application/json" };
  if (apiKey && plan !== "public") headers[COINGECKO_KEY_HEADERS[plan]] = apiKey;

  const kinds = new WeakMap<SourceError, FailureKind>();
  const secrets = apiKey ? [apiKey] : [];
  // Every message goes through here, so that a key echoed back by a proxy or a body cannot leak.
  const fail = (
    kind: FailureKind,
    message: string,
    extra: { cause?: unknown; status?: number; retryAfterMs?: number; hint?: string } = {},
  ): SourceError => {
    const error = new SourceError(redactText(message, secrets), {
      ...extra,
      hint: extra.hint === undefined ? undefined : redactText(extra.hint, secrets),
    });
    kinds.set(error, kind);
    return error;
  };

  const httpError = (response: Response, text: string): SourceError => {
    const status = response.status;
    const summary = summarizeErrorBody(text);
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), now());
    if (status === 429) {
      const wait = retryAfterMs === undefined ? "" : `, Retry-After ${Math.ceil(retryAfterMs / 1000)} s`;
      return fail("rate-limited", `CoinGecko rate limit hit (HTTP 429${wait}): ${summary}`, {
        status,
        retryAfterMs,
        hint: "fetch less often (FETCH_INTERVAL) or use a CoinGecko key (COINGECKO_API_KEY, COINGECKO_PLAN)",
      });
    }
    // 408 is CoinGecko saying our request arrived too slowly: as transient as our own timeout.
    if (status >= 500 || status === 408) {
      return fail("server", `CoinGecko server error (HTTP ${status}): ${summary}`, {
        status,
        retryAfterMs,
        hint: "CoinGecko is having trouble; see https://status.coingecko.com",
      });
    }
    if (status === 401 || status === 403) {
      return fail("client", `CoinGecko refused the request (HTTP ${status}, plan ${plan}): ${summary}`, {
        status,
        hint:
          "check COINGECKO_API_KEY and COINGECKO_PLAN: a demo key needs COINGECKO_PLAN=demo (api.coingecko.com), " +
          `a pro key needs COINGECKO_PLAN=pro and the pro base URL ${COINGECKO_BASE_URLS.pro}` +
          (options.baseUrl ? " (COINGECKO_BASE_URL overrides it)" : ""),
      });
    }
    return fail(
      "client",
      `CoinGecko rejected the request (HTTP ${status}) to ${baseUrl}/simple/price: ${summary}`,
      {
        status,
        hint: "check COINGECKO_BASE_URL (it must end in /api/v3), ASSETS (CoinGecko ids, e.g. beldex) and VS_CURRENCIES",
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
        throw fail("timeout", `CoinGecko did not answer within ${timeoutMs} ms`, {
          cause,
          hint: "raise COINGECKO_TIMEOUT_MS if the network is slow",
        });
      }
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw fail("network", `cannot reach CoinGecko at ${new URL(baseUrl).host}: ${reason}`, {
        cause,
        hint: "check the network and COINGECKO_BASE_URL",
      });
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

  const shouldRetry = (error: unknown, attempt: number): boolean => {
    if (!(error instanceof SourceError)) return false;
    const kind = kinds.get(error);
    if (kind === undefined || !RETRYABLE.has(kind)) return false;
    if (kind === "body" && attempt > BODY_RETRIES) return false;
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
        if (!(error instanceof SourceError)) throw error;
        const kind = kinds.get(error);
        if (kind === undefined || !RETRYABLE.has(kind)) throw error;
        const extra = {
          cause: error,
          status: error.status,
          retryAfterMs: error.retryAfterMs,
          hint: error.hint,
        };
        if ((error.retryAfterMs ?? 0) > maxRetryAfterMs) {
          const seconds = Math.ceil((error.retryAfterMs ?? 0) / 1000);
          throw fail(
            kind,
            `CoinGecko asked us to wait ${seconds} s (Retry-After), more than the ${maxRetryAfterMs / 1000} s we wait within one fetch; giving up: ${error.message}`,
            extra,
          );
        }
        const times = attempts === 1 ? "1 attempt" : `${attempts} attempts`;
        throw fail(kind, `CoinGecko fetch failed after ${times}: ${error.message}`, extra);
      }
    },
  };
}
