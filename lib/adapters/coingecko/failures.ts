/**
 * What CoinGecko failures mean, for the price source (SourceError hint and retriable) and the doctor alike: a
 * rate limit, a server error, a timeout, a network error or an unreadable body is worth another attempt; a
 * refused key or a rejected request is a setting to fix.
 */
import { COINGECKO_BASE_URLS } from "./settings.ts";

/** Why a CoinGecko request failed. */
export type CoinGeckoFailureKind =
  | "rate-limited"
  | "server"
  | "key"
  | "request"
  | "timeout"
  | "network"
  | "body";

/** A classified CoinGecko failure: whether trying again later may succeed, and the one-line fix. */
interface CoinGeckoFailure {
  kind: CoinGeckoFailureKind;
  retriable: boolean;
  fix: string;
}

/** The kind of an HTTP error status: 429 rate-limited, 5xx and 408 server, 401 and 403 key, any other request. */
export function statusKind(status: number): CoinGeckoFailureKind {
  if (status === 429) return "rate-limited";
  // 408 is CoinGecko saying our request arrived too slowly: as transient as our own timeout.
  if (status >= 500 || status === 408) return "server";
  if (status === 401 || status === 403) return "key";
  return "request";
}

/**
 * What a failure of `kind` means; `baseUrlSet` says whether COINGECKO_BASE_URL overrides the plan's root.
 * Default false.
 * @example coingeckoFailure("network") // { kind: "network", retriable: true, fix: "check the network and COINGECKO_BASE_URL" }
 */
export function coingeckoFailure(kind: CoinGeckoFailureKind, baseUrlSet = false): CoinGeckoFailure {
  const fixes: Record<CoinGeckoFailureKind, string> = {
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
    network: "check the network and COINGECKO_BASE_URL",
    body: "check COINGECKO_BASE_URL and the network",
  };
  return { kind, retriable: kind !== "key" && kind !== "request", fix: fixes[kind] };
}
