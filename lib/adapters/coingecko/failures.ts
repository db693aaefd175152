/**
 * What CoinGecko failures mean, for the price source (SourceError) and the doctor alike: a rate limit, a server
 * error, a timeout, a network error or an unreadable body is worth another attempt; a refused key or a rejected
 * request is a setting to fix.
 */
import type { Failure } from "../../errors.ts";
import { COINGECKO_BASE_URLS } from "./settings.ts";

/** The fix per kind of failure; `baseUrlSet` says whether COINGECKO_BASE_URL overrides the plan's root. */
const fixes = (baseUrlSet: boolean) => ({
  "rate-limited":
    "fetch less often (FETCH_INTERVAL) or use a CoinGecko key (COINGECKO_API_KEY, COINGECKO_PLAN)",
  server: "CoinGecko is having trouble; see https://status.coingecko.com",
  key:
    "check COINGECKO_API_KEY and COINGECKO_PLAN: a demo key needs COINGECKO_PLAN=demo (api.coingecko.com), " +
    `a pro key needs COINGECKO_PLAN=pro and the pro base URL ${COINGECKO_BASE_URLS.pro}` +
    (baseUrlSet ? " (COINGECKO_BASE_URL overrides it)" : ""),
  request:
    "check COINGECKO_BASE_URL (it must end in /api/v3), ASSETS (CoinGecko ids, e.g. beldex) and VS_CURRENCIES",
  timeout: "raise COINGECKO_TIMEOUT_MS if the network is slow",
  blocked:
    "CoinGecko's CDN firewall denies this client (error 1020): run from another network or IP, or use a key (COINGECKO_API_KEY)",
  network: "check the network and COINGECKO_BASE_URL",
  body: "check COINGECKO_BASE_URL and the network",
});

/** Why a CoinGecko request failed. */
export type CoinGeckoFailureKind = keyof ReturnType<typeof fixes>;

/**
 * The kind of an HTTP error status: 429 rate-limited, 5xx and 408 server, the CDN's 1020 (a 403 whose body says
 * "error code: 1020") blocked, 401 and other 403 key, any other request. `body` default "".
 */
export function statusKind(status: number, body = ""): CoinGeckoFailureKind {
  if (status === 429) return "rate-limited";
  if (status === 403 && /error code:?\s*1020/i.test(body)) return "blocked";
  // 408 is CoinGecko saying our request arrived too slowly: as transient as our own timeout.
  if (status >= 500 || status === 408) return "server";
  if (status === 401 || status === 403) return "key";
  return "request";
}

/**
 * What a failure of `kind` means: all but a refused key and a rejected request are retriable. `baseUrlSet` as
 * above. Default false.
 * @example coingeckoFailure("network").fix // "check the network and COINGECKO_BASE_URL"
 */
export function coingeckoFailure(
  kind: CoinGeckoFailureKind,
  baseUrlSet = false,
): Failure<CoinGeckoFailureKind> {
  // A firewall block does not lift within a fetch's retries, so it is not retried either.
  return {
    kind,
    retriable: kind !== "key" && kind !== "request" && kind !== "blocked",
    fix: fixes(baseUrlSet)[kind],
  };
}
