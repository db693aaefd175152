/** CoinGecko API plans: keyless public, free demo key, paid pro key. */
export type CoinGeckoPlan = "public" | "demo" | "pro";

/**
 * Which CoinGecko API to call, and with which key: the keyed plans always carry their key; the public plan
 * never sends one (a key given anyway is only warned about).
 */
export type CoinGeckoSettings = {
  baseUrl: string | null;
  timeoutMs: number;
  /** Calls per minute the plan allows (COINGECKO_CALLS_PER_MINUTE); default per plan, see COINGECKO_CALLS_PER_MINUTE. */
  callsPerMinute?: number;
} & ({ plan: "public"; apiKey: string | null } | { plan: "demo" | "pro"; apiKey: string });

/** Root URL per plan: demo keys only work on api.coingecko.com, pro keys only on pro-api.coingecko.com. */
export const COINGECKO_BASE_URLS: Readonly<Record<CoinGeckoPlan, string>> = {
  public: "https://api.coingecko.com/api/v3",
  demo: "https://api.coingecko.com/api/v3",
  pro: "https://pro-api.coingecko.com/api/v3",
};

/**
 * Calls per minute each plan allows when COINGECKO_CALLS_PER_MINUTE is unset: public 5 (the low end of the
 * keyless API's varying limit, so that a busy day never rate-limits us), demo 30 (CoinGecko's documented Demo
 * limit), pro 500 (the smallest paid plan's); every request counts, failed ones included.
 */
export const COINGECKO_CALLS_PER_MINUTE: Readonly<Record<CoinGeckoPlan, number>> = {
  public: 5,
  demo: 30,
  pro: 500,
};

/** Header that carries the key, per keyed plan (CoinGecko recommends headers over query parameters). */
const KEY_HEADERS = { demo: "x-cg-demo-api-key", pro: "x-cg-pro-api-key" } as const;

/**
 * The API root to call: `baseUrl` when set (COINGECKO_BASE_URL, the fake's URL in tests), else the plan's,
 * without a trailing slash.
 * @example coingeckoRoot("pro") // "https://pro-api.coingecko.com/api/v3"
 */
export function coingeckoRoot(plan: CoinGeckoPlan, baseUrl?: string | null): string {
  return (baseUrl || COINGECKO_BASE_URLS[plan]).replace(/\/+$/, "");
}

/**
 * The headers of every CoinGecko request: JSON, and the key in the plan's header (never on the public plan).
 * @example coingeckoHeaders("demo", "CG-x") // { accept: "application/json", "x-cg-demo-api-key": "CG-x" }
 */
export function coingeckoHeaders(plan: CoinGeckoPlan, apiKey?: string | null): Record<string, string> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (apiKey && plan !== "public") headers[KEY_HEADERS[plan]] = apiKey;
  return headers;
}
