/**
 * One CoinGecko GET with everything every endpoint needs: the plan's key header, the request budget, a timeout
 * per attempt, retries with full-jitter backoff (Retry-After as a minimum) on transient failures, and errors
 * that name the fix and never the key. The price source and the chart source share it.
 */
import { isRetriable, SourceError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { redactText } from "../../log.ts";
import type { RequestBudget, RequestPriority } from "../../request-budget.ts";
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
import { summarizeErrorBody } from "./response.ts";
import { type CoinGeckoPlan, coingeckoHeaders } from "./settings.ts";

/** Default request timeout: 10 s. */
const DEFAULT_TIMEOUT_MS = 10_000;
/** Default retries after the first attempt: 3. */
const DEFAULT_RETRIES = 3;
/** Longest Retry-After we wait for inside one fetch: 5 minutes; beyond it the fetch fails. */
const DEFAULT_MAX_RETRY_AFTER_MS = 5 * 60_000;
/** Retries of a body we cannot read (HTML, malformed JSON): a CDN hiccup passes, a wrong URL does not. */
const BODY_RETRIES = 2;

/** How {@link createCoinGeckoGet} calls CoinGecko; only `plan`, `baseUrl` and `log` are required. */
export interface CoinGeckoGetOptions {
  plan: CoinGeckoPlan;
  /** Sent in the plan's key header; never on the public plan. */
  apiKey?: string;
  /** The API root the URLs start with (for messages). */
  baseUrl: string;
  /** Whether COINGECKO_BASE_URL overrides the plan's root (for the fix). Default false. */
  baseUrlSet?: boolean;
  /** Per attempt. Default 10000 ms. */
  timeoutMs?: number;
  /** Attempts after the first. Default 3. */
  retries?: number;
  /** Retry-After above this fails the fetch instead of waiting. Default 300000 ms (5 min). */
  maxRetryAfterMs?: number;
  /** Backoff curve. Default base 1000 ms, cap 60000 ms. */
  backoff?: { baseMs?: number; capMs?: number };
  log: Logger;
  /** Injectable for tests. Default globalThis.fetch. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Clock for HTTP-date Retry-After. Default () => new Date(). */
  now?: () => Date;
  /** Waits between attempts. Default {@link defaultSleep}. */
  sleep?: Sleep;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
  /** Every attempt, retries included, spends a call of it. Default none (unlimited). */
  budget?: RequestBudget;
  /** Which queue of the budget the requests wait in. Default "live". */
  priority?: RequestPriority;
}

/** Reads a 2xx body; throws SourceError when it cannot (HTML, malformed JSON, a wrong shape). */
export type BodyParser<T> = (text: string, status: number) => T;

/** A GET of one CoinGecko URL: resolves with the parsed body, or throws SourceError (retriable or not). */
export type CoinGeckoGet = <T>(
  url: string,
  path: string,
  parse: BodyParser<T>,
  signal?: AbortSignal,
) => Promise<T>;

/**
 * The GET every CoinGecko adapter uses. `path` names the endpoint in messages ("/simple/price"). Rejects with
 * the caller's abort reason when its signal aborts.
 * @example const get = createCoinGeckoGet({ plan: "demo", apiKey, baseUrl, log, budget });
 * const body = await get(url, "/simple/price", parseSimplePriceBody, signal);
 */
export function createCoinGeckoGet(options: CoinGeckoGetOptions): CoinGeckoGet {
  const { plan, baseUrl, log } = options;
  const apiKey = options.apiKey || undefined;
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
    const { retriable, fix } = coingeckoFailure(kind, Boolean(options.baseUrlSet));
    return new SourceError(redactText(message, secrets), { ...extra, retriable, hint: fix });
  };

  const httpError = (response: Response, text: string, path: string): SourceError => {
    const status = response.status;
    const summary = summarizeErrorBody(text);
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), now());
    const kind = statusKind(status, text);
    if (kind === "rate-limited") {
      const wait = retryAfterMs === undefined ? "" : `, Retry-After ${Math.ceil(retryAfterMs / 1000)} s`;
      return fail(kind, `CoinGecko rate limit hit (HTTP 429${wait}): ${summary}`, { status, retryAfterMs });
    }
    if (kind === "server")
      return fail(kind, `CoinGecko server error (HTTP ${status}): ${summary}`, { status, retryAfterMs });
    if (kind === "blocked")
      return fail(kind, `CoinGecko's CDN denied access (HTTP ${status}, error 1020): ${summary}`, { status });
    if (kind === "key")
      return fail(kind, `CoinGecko refused the request (HTTP ${status}, plan ${plan}): ${summary}`, {
        status,
      });
    return fail(kind, `CoinGecko rejected the request (HTTP ${status}) to ${baseUrl}${path}: ${summary}`, {
      status,
    });
  };

  const attemptOnce = async <T>(
    url: string,
    path: string,
    parse: BodyParser<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> => {
    // Waiting for the budget is not the request's time: the timeout starts once the call is ours.
    await options.budget?.take(options.priority ?? "live", signal);
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
    if (!response.ok) throw httpError(response, text, path);
    try {
      return parse(text, response.status);
    } catch (error) {
      if (!(error instanceof SourceError)) throw error;
      throw fail("body", error.message, { cause: error.cause, status: error.status });
    }
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

  return async <T>(url: string, path: string, parse: BodyParser<T>, signal?: AbortSignal): Promise<T> => {
    let attempts = 0;
    try {
      const result = await retry(
        () => {
          attempts++;
          return attemptOnce(url, path, parse, signal);
        },
        {
          retries,
          shouldRetry,
          delayFor,
          sleep,
          signal,
          onRetry: ({ error, attempt, delayMs }) =>
            log.warn("coingecko fetch failed, retrying", {
              path,
              attempt,
              retries,
              delayMs,
              status: error instanceof SourceError ? error.status : undefined,
              reason: error instanceof Error ? redactText(error.message, secrets) : String(error),
            }),
        },
      );
      log.debug("coingecko fetched", { path, attempts });
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
  };
}
