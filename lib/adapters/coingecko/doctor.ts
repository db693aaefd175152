/**
 * CoinGecko checks: the plan's root answers /ping, and one /simple/price for the configured pairs — the very
 * request the producer makes, through the same source code, without retries — proves the key fits the plan.
 */

import { type Check, type CheckGroup, fail, ok, warn } from "../../checks/check.ts";
import type { Fetch } from "../../checks/http.ts";
import { describeError, SourceError } from "../../errors.ts";
import { silentLogger } from "../../log.ts";
import { coingeckoFailure } from "./failures.ts";
import { type CoinGeckoSettings as CoinGeckoConfig, coingeckoHeaders, coingeckoRoot } from "./settings.ts";
import { createCoinGeckoSource } from "./source.ts";

/** What the CoinGecko checks read from the config. */
export type CoinGeckoSettings = CoinGeckoConfig & {
  assets: string[];
  currencies: string[];
  fetchIntervalMs: number;
};

/**
 * The CoinGecko check group: reach (/ping) → key and pairs (/simple/price).
 * @example const group = coingeckoChecks({ ...config.coingecko, assets, currencies, fetchIntervalMs });
 */
export function coingeckoChecks(settings: CoinGeckoSettings, fetchImpl: Fetch = fetch): CheckGroup {
  const { plan, apiKey } = settings;
  const base = coingeckoRoot(plan, settings.baseUrl);
  const host = new URL(base).host;
  const headers = coingeckoHeaders(plan, apiKey);

  const reach: Check = {
    id: "coingecko.reach",
    title: `reach ${host}`,
    timeoutMs: settings.timeoutMs + 2_000,
    timeoutFix: "check the network; raise COINGECKO_TIMEOUT_MS if it is slow",
    async run(signal) {
      let response: Response;
      try {
        response = await fetchImpl(`${base}/ping`, { headers, signal });
        await response.text();
      } catch (error) {
        if (signal.aborted) throw error;
        return fail(`cannot reach ${host}: ${describeError(error)}`, coingeckoFailure("network").fix);
      }
      if (response.status === 404)
        return fail(
          `${base}/ping answered HTTP 404`,
          "COINGECKO_BASE_URL must be the API root, ending in /api/v3",
        );
      return ok(`reachable (${base}, plan ${plan}, /ping answered HTTP ${response.status})`);
    },
  };

  const priced: Check = {
    id: "coingecko.price",
    title: "price request",
    needs: [reach.id],
    timeoutMs: settings.timeoutMs + 2_000,
    timeoutFix: "check the network; raise COINGECKO_TIMEOUT_MS if it is slow",
    async run(signal) {
      const source = createCoinGeckoSource({
        assets: settings.assets,
        currencies: settings.currencies,
        plan,
        apiKey,
        baseUrl: base,
        timeoutMs: settings.timeoutMs,
        retries: 0,
        log: silentLogger,
        fetch: fetchImpl,
      });
      const keyed = plan === "public" ? "the public API (no key)" : `the ${plan} key`;
      try {
        const { ticks, skipped } = await source.fetch(signal);
        const [first] = ticks;
        const sample = first ? `, e.g. ${first.asset}/${first.currency} = ${first.price}` : "";
        if (skipped.length > 0)
          return warn(
            `${keyed} works, but CoinGecko has no price for ${skipped.map((s) => `${s.asset}/${s.currency}`).join(", ")}${sample}`,
            "check ASSETS (CoinGecko ids, e.g. beldex, not tickers like BDX) and VS_CURRENCIES",
          );
        return ok(`${keyed} works: ${ticks.length} pair${ticks.length === 1 ? "" : "s"} priced${sample}`);
      } catch (error) {
        if (signal.aborted) throw error;
        const message = describeError(error).replace(/ \(fix: .*\)$/, "");
        if (error instanceof SourceError && error.status === 429)
          return warn(
            `rate limited (HTTP 429): fine for now, but requests are too frequent — ${message}`,
            `slow down: raise FETCH_INTERVAL (now ${settings.fetchIntervalMs / 1000} s)${plan === "public" ? " or use a free demo key (COINGECKO_API_KEY)" : ""}`,
          );
        // The source's own hint: the doctor asks through the very code the producer runs.
        const fix = error instanceof SourceError && error.hint ? error.hint : coingeckoFailure("network").fix;
        if (error instanceof SourceError && (error.status === 401 || error.status === 403))
          return fail(`key and plan do not match: ${message}`, fix);
        return fail(message, fix);
      }
    },
  };

  return { subject: "coingecko", checks: [reach, priced] };
}
