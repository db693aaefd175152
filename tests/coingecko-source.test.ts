import { afterEach, describe, expect, test } from "bun:test";
import {
  parseSimplePriceBody,
  summarizeErrorBody,
  toFetchResult,
} from "../lib/adapters/coingecko/response.ts";
import { COINGECKO_BASE_URLS } from "../lib/adapters/coingecko/settings.ts";
import {
  type CoinGeckoOptions,
  createCoinGeckoSource,
  simplePriceUrl,
} from "../lib/adapters/coingecko/source.ts";
import { ConfigError, describeError, SourceError } from "../lib/errors.ts";
import { createLogger } from "../lib/log.ts";
import type { PriceSource } from "../lib/ports.ts";
import {
  type FakeCoinGecko,
  type FakeCoinGeckoOptions,
  startFakeCoinGecko,
} from "./support/fake-coingecko.ts";

const NOW = new Date("2026-11-26T18:00:00.000Z");
const UPDATED = 1_764_180_000;
const KEY = "CG-s3cr3t-demo-key-0123456789";

let fake: FakeCoinGecko | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

interface Harness {
  fake: FakeCoinGecko;
  source: PriceSource;
  /** Delays the source asked to sleep, in order. */
  delays: number[];
  /** Parsed log lines. */
  logs: Array<Record<string, unknown>>;
  /** Raw log lines, to search for secrets. */
  lines: string[];
}

async function setup(
  options: Partial<CoinGeckoOptions> = {},
  fakeOptions: FakeCoinGeckoOptions = {},
): Promise<Harness> {
  fake = await startFakeCoinGecko({ now: () => NOW.getTime(), ...fakeOptions });
  const delays: number[] = [];
  const lines: string[] = [];
  // No `secrets` on purpose: the source itself must keep the key out, not the logger's redaction.
  const log = createLogger({ level: "debug", sink: (line) => lines.push(line) });
  const source = createCoinGeckoSource({
    assets: ["beldex"],
    currencies: ["usd"],
    plan: "public",
    baseUrl: fake.url,
    log,
    now: () => NOW,
    random: () => 0.5,
    sleep: async (ms) => void delays.push(ms),
    ...options,
  });
  return {
    fake,
    source,
    delays,
    lines,
    get logs() {
      return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<SourceError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SourceError) return error;
    throw error;
  }
  throw new Error("expected the fetch to fail");
}

function warnings(h: Harness) {
  return h.logs.filter((line) => line.level === "warn");
}

describe("CoinGecko source: prices", () => {
  test("fetches 3 assets x 2 currencies in one request and builds 6 ticks", async () => {
    const h = await setup({ assets: ["beldex", "bitcoin", "ethereum"], currencies: ["usd", "eur"] });
    const { ticks, skipped } = await h.source.fetch();
    expect(h.fake.requests).toHaveLength(1);
    expect(skipped).toEqual([]);
    expect(ticks.map((t) => `${t.asset}:${t.currency}`).sort()).toEqual([
      "beldex:eur",
      "beldex:usd",
      "bitcoin:eur",
      "bitcoin:usd",
      "ethereum:eur",
      "ethereum:usd",
    ]);
  });

  test("asks for every metric at full precision with accept: application/json", async () => {
    const h = await setup({ assets: ["beldex", "bitcoin"], currencies: ["usd", "eur"] });
    await h.source.fetch();
    const request = h.fake.requests[0];
    expect(request?.path).toBe("/api/v3/simple/price");
    expect(request?.url).toContain("ids=beldex,bitcoin&vs_currencies=usd,eur");
    expect(request?.query).toEqual({
      ids: "beldex,bitcoin",
      vs_currencies: "usd,eur",
      include_market_cap: "true",
      include_24hr_vol: "true",
      include_24hr_change: "true",
      include_last_updated_at: "true",
      precision: "full",
    });
    expect(request?.headers.accept).toBe("application/json");
  });

  test("builds a v1 tick with every metric and the asset's last_updated_at", async () => {
    const h = await setup();
    h.fake.setPrice("beldex", "usd", {
      price: 0.07,
      marketCap: 5e8,
      volume24h: 2e6,
      change24hPct: -1.3,
      updatedAt: UPDATED,
    });
    const { ticks } = await h.source.fetch();
    expect(ticks).toEqual([
      {
        v: 1,
        asset: "beldex",
        currency: "usd",
        price: 0.07,
        marketCap: 5e8,
        volume24h: 2e6,
        change24hPct: -1.3,
        sourceUpdatedAt: "2025-11-26T18:00:00.000Z",
        fetchedAt: NOW.toISOString(),
        source: "coingecko",
      },
    ]);
  });

  test("turns null optional metrics into null", async () => {
    const h = await setup();
    h.fake.setPrice("beldex", "usd", { price: 0.07, marketCap: null, volume24h: null, change24hPct: null });
    const { ticks } = await h.source.fetch();
    expect(ticks[0]).toMatchObject({ price: 0.07, marketCap: null, volume24h: null, change24hPct: null });
  });

  test("skips a pair whose price is null and publishes the rest", async () => {
    const h = await setup({ assets: ["beldex", "bitcoin"], currencies: ["usd", "eur"] });
    h.fake.setPrice("beldex", "usd", { price: null });
    const { ticks, skipped } = await h.source.fetch();
    expect(skipped).toEqual([{ asset: "beldex", currency: "usd", reason: "price missing" }]);
    expect(ticks).toHaveLength(3);
  });

  test("skips a pair whose price is zero or negative", async () => {
    const h = await setup({ assets: ["beldex", "bitcoin"] });
    h.fake.setPrice("beldex", "usd", { price: 0 });
    h.fake.setPrice("bitcoin", "usd", { price: -5 });
    const { ticks, skipped } = await h.source.fetch();
    expect(ticks).toEqual([]);
    expect(skipped.map((s) => s.reason)).toEqual(["price not positive", "price not positive"]);
  });

  test("skips unknown ids and keeps the known ones", async () => {
    const h = await setup({ assets: ["beldex", "not-a-coin"], currencies: ["usd", "eur"] });
    const { ticks, skipped } = await h.source.fetch();
    expect(ticks).toHaveLength(2);
    expect(skipped).toEqual([
      { asset: "not-a-coin", currency: "usd", reason: "unknown id" },
      { asset: "not-a-coin", currency: "eur", reason: "unknown id" },
    ]);
  });

  test("skips a currency CoinGecko does not report for the asset", async () => {
    const h = await setup({ currencies: ["usd", "xyz"] });
    const { ticks, skipped } = await h.source.fetch();
    expect(ticks).toHaveLength(1);
    expect(skipped).toEqual([{ asset: "beldex", currency: "xyz", reason: "currency missing" }]);
  });

  test("an empty {} answer skips every pair as unknown without failing", async () => {
    const h = await setup({ assets: ["beldex", "bitcoin"] });
    h.fake.fault("empty");
    const { ticks, skipped } = await h.source.fetch();
    expect(ticks).toEqual([]);
    expect(skipped.map((s) => s.reason)).toEqual(["unknown id", "unknown id"]);
    expect(h.delays).toEqual([]);
  });

  test("a null-fields answer skips every pair as price missing", async () => {
    const h = await setup({ currencies: ["usd", "eur"] });
    h.fake.fault("null-fields");
    const { ticks, skipped } = await h.source.fetch();
    expect(ticks).toEqual([]);
    expect(skipped.map((s) => s.reason)).toEqual(["price missing", "price missing"]);
  });
});

describe("CoinGecko source: plans and keys", () => {
  test("sends a demo key in x-cg-demo-api-key", async () => {
    const h = await setup({ plan: "demo", apiKey: KEY }, { requireKey: { plan: "demo", key: KEY } });
    expect((await h.source.fetch()).ticks).toHaveLength(1);
    expect(h.fake.requests[0]?.headers["x-cg-demo-api-key"]).toBe(KEY);
    expect(h.fake.requests[0]?.headers["x-cg-pro-api-key"]).toBeUndefined();
  });

  test("sends a pro key in x-cg-pro-api-key", async () => {
    const h = await setup({ plan: "pro", apiKey: KEY }, { requireKey: { plan: "pro", key: KEY } });
    expect((await h.source.fetch()).ticks).toHaveLength(1);
    expect(h.fake.requests[0]?.headers["x-cg-pro-api-key"]).toBe(KEY);
    expect(h.fake.requests[0]?.headers["x-cg-demo-api-key"]).toBeUndefined();
  });

  test("sends no key on the public plan, and warns that a configured key is unused", async () => {
    const h = await setup({ plan: "public", apiKey: KEY });
    await h.source.fetch();
    const headers = h.fake.requests[0]?.headers ?? {};
    expect(Object.keys(headers).filter((name) => name.startsWith("x-cg-"))).toEqual([]);
    expect(warnings(h)[0]?.msg).toContain("COINGECKO_PLAN is public");
  });

  test("uses the plan's default root URL when no base URL is given", async () => {
    const seen: string[] = [];
    const recordingFetch = async (input: string) => {
      seen.push(input);
      return new Response("{}", { headers: { "content-type": "application/json" } });
    };
    for (const plan of ["public", "demo", "pro"] as const) {
      const source = createCoinGeckoSource({
        assets: ["beldex"],
        currencies: ["usd"],
        plan,
        apiKey: plan === "public" ? undefined : KEY,
        log: createLogger({ sink: () => {} }),
        fetch: recordingFetch,
      });
      await source.fetch();
    }
    expect(seen.map((url) => url.split("/simple/price")[0])).toEqual([
      "https://api.coingecko.com/api/v3",
      "https://api.coingecko.com/api/v3",
      "https://pro-api.coingecko.com/api/v3",
    ]);
    expect(COINGECKO_BASE_URLS.pro).toBe("https://pro-api.coingecko.com/api/v3");
  });

  test("refuses a pro plan without a key, and empty asset or currency lists", () => {
    const log = createLogger({ sink: () => {} });
    expect(() =>
      createCoinGeckoSource({ assets: ["beldex"], currencies: ["usd"], plan: "pro", log }),
    ).toThrow(ConfigError);
    expect(() => createCoinGeckoSource({ assets: [], currencies: ["usd"], plan: "public", log })).toThrow(
      /ASSETS/,
    );
    expect(() => createCoinGeckoSource({ assets: ["beldex"], currencies: [], plan: "public", log })).toThrow(
      /VS_CURRENCIES/,
    );
  });

  test("a rejected key fails at once with a hint about COINGECKO_API_KEY, COINGECKO_PLAN and the pro URL", async () => {
    const h = await setup(
      { plan: "demo", apiKey: KEY },
      { requireKey: { plan: "demo", key: "another-key" } },
    );
    const error = await failure(h.source.fetch());
    expect(error.status).toBe(401);
    expect(error.message).toContain("Invalid API Key");
    expect(error.hint).toContain("COINGECKO_API_KEY");
    expect(error.hint).toContain("COINGECKO_PLAN");
    expect(error.hint).toContain("https://pro-api.coingecko.com/api/v3");
    expect(h.fake.requests).toHaveLength(1);
    expect(h.delays).toEqual([]);
  });

  test("the error says whether it is retriable: a refused key no, a 5xx that outlasted its retries yes", async () => {
    const refused = await setup(
      { plan: "demo", apiKey: KEY },
      { requireKey: { plan: "demo", key: "other" } },
    );
    expect((await failure(refused.source.fetch())).retriable).toBe(false);
    await refused.fake.stop();
    const down = await setup({ retries: 1 });
    down.fake.fault("503", { sticky: true });
    const error = await failure(down.source.fetch());
    expect(error.retriable).toBe(true);
    expect((error.cause as SourceError).retriable).toBe(true);
  });

  test("a pro key sent to the demo root reports CoinGecko's root URL advice", async () => {
    const h = await setup({ plan: "pro", apiKey: KEY }, { requireKey: { plan: "demo", key: KEY } });
    const error = await failure(h.source.fetch());
    expect(error.status).toBe(401);
    expect(error.message).toContain("error_code 10010");
    expect(error.message).toContain("pro-api.coingecko.com");
  });

  test("a 404 (wrong base URL) fails at once with a hint about COINGECKO_BASE_URL", async () => {
    const h = await setup();
    const source = createCoinGeckoSource({
      assets: ["beldex"],
      currencies: ["usd"],
      plan: "public",
      baseUrl: h.fake.url.replace("/api/v3", "/api/v2"),
      log: createLogger({ sink: () => {} }),
      sleep: async (ms) => void h.delays.push(ms),
    });
    const error = await failure(source.fetch());
    expect(error.status).toBe(404);
    expect(error.hint).toContain("COINGECKO_BASE_URL");
    expect(h.fake.requests).toHaveLength(1);
    expect(h.delays).toEqual([]);
  });

  test("never puts the API key in errors or log lines", async () => {
    const h = await setup(
      { plan: "demo", apiKey: KEY, retries: 2 },
      { requireKey: { plan: "demo", key: KEY } },
    );
    h.fake.fault("503", { times: 2 });
    h.fake.fault("html");
    const failed = await failure(h.source.fetch());
    await h.source.fetch();
    const source = createCoinGeckoSource({
      assets: ["beldex"],
      currencies: ["usd"],
      plan: "pro",
      apiKey: KEY,
      baseUrl: h.fake.url,
      log: createLogger({ level: "debug", sink: (line) => h.lines.push(line) }),
      sleep: async () => {},
    });
    const refused = await failure(source.fetch());
    expect(h.lines.length).toBeGreaterThan(2);
    for (const error of [failed, refused]) {
      expect(`${describeError(error)} ${error.hint} ${error.stack}`).not.toContain(KEY);
      expect(String((error.cause as Error | undefined)?.message)).not.toContain(KEY);
    }
    for (const line of h.lines) expect(line).not.toContain(KEY);
  });

  test("redacts the key should an answer echo it back", async () => {
    const echo = async (_input: string, init: RequestInit) => {
      const headers = new Headers(init.headers);
      return new Response(`<html>bad key ${headers.get("x-cg-demo-api-key")}</html>`, { status: 403 });
    };
    const lines: string[] = [];
    const source = createCoinGeckoSource({
      assets: ["beldex"],
      currencies: ["usd"],
      plan: "demo",
      apiKey: KEY,
      log: createLogger({ sink: (line) => lines.push(line) }),
      fetch: echo,
    });
    const error = await failure(source.fetch());
    expect(error.status).toBe(403);
    expect(error.message).toContain("bad key ***");
    expect(error.message).not.toContain(KEY);
  });
});

describe("CoinGecko source: retries", () => {
  test("honours a Retry-After in seconds as the wait, then succeeds", async () => {
    const h = await setup();
    h.fake.fault("429", { retryAfterSeconds: 7 });
    const { ticks } = await h.source.fetch();
    expect(ticks).toHaveLength(1);
    expect(h.delays).toEqual([7000]);
    expect(h.fake.requests).toHaveLength(2);
  });

  test("honours a Retry-After given as an HTTP-date", async () => {
    const h = await setup();
    h.fake.fault("429", { retryAfterSeconds: 30, retryAfterAsDate: true });
    await h.source.fetch();
    expect(h.delays).toEqual([30_000]);
  });

  test("keeps the backoff when it is longer than Retry-After", async () => {
    const h = await setup({ random: () => 0.9 });
    h.fake.fault("429", { retryAfterSeconds: 1, times: 3 });
    await h.source.fetch();
    // Jitter ceilings 1 s, 2 s, 4 s at 0.9: 900 (< 1000, so Retry-After wins), 1800, 3600.
    expect(h.delays).toEqual([1000, 1800, 3600]);
  });

  test("backs off with full jitter on a 429 without Retry-After", async () => {
    const h = await setup();
    h.fake.fault("429-no-retry-after", { times: 2 });
    await h.source.fetch();
    expect(h.delays).toEqual([500, 1000]);
  });

  test("gives up at once when Retry-After exceeds the 5 minute cap", async () => {
    const h = await setup();
    h.fake.fault("429", { retryAfterSeconds: 600 });
    const error = await failure(h.source.fetch());
    expect(error.status).toBe(429);
    expect(error.retryAfterMs).toBe(600_000);
    expect(error.message).toContain("wait 600 s");
    expect(error.cause).toBeInstanceOf(SourceError);
    expect(h.delays).toEqual([]);
    expect(h.fake.requests).toHaveLength(1);
  });

  for (const mode of ["500", "502", "503"] as const) {
    test(`retries a ${mode} with exponential backoff, then fails with status and cause`, async () => {
      const h = await setup();
      h.fake.fault(mode, { sticky: true });
      const error = await failure(h.source.fetch());
      expect(h.fake.requests).toHaveLength(4);
      expect(h.delays).toEqual([500, 1000, 2000]);
      expect(error.status).toBe(Number(mode));
      expect(error.message).toContain("after 4 attempts");
      expect(error.message).toContain(`HTTP ${mode}`);
      expect(error.cause).toBeInstanceOf(SourceError);
    });
  }

  test("recovers when a 5xx clears before the retries run out", async () => {
    const h = await setup();
    h.fake.fault("503", { times: 2 });
    expect((await h.source.fetch()).ticks).toHaveLength(1);
    expect(h.delays).toEqual([500, 1000]);
  });

  test("honours Retry-After on a 503 too", async () => {
    const h = await setup();
    h.fake.fault("503", { retryAfterSeconds: 9 });
    await h.source.fetch();
    expect(h.delays).toEqual([9000]);
  });

  test("respects the retries option", async () => {
    const h = await setup({ retries: 1 });
    h.fake.fault("500", { sticky: true });
    const error = await failure(h.source.fetch());
    expect(h.fake.requests).toHaveLength(2);
    expect(error.message).toContain("after 2 attempts");
  });

  test("logs each retry at warn with the reason, attempt and delay", async () => {
    const h = await setup();
    h.fake.fault("503");
    h.fake.fault("429", { retryAfterSeconds: 3 });
    await h.source.fetch();
    const lines = warnings(h);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      msg: "coingecko fetch failed, retrying",
      attempt: 1,
      delayMs: 500,
      status: 503,
    });
    expect(String(lines[0]?.reason)).toContain("HTTP 503");
    expect(lines[1]).toMatchObject({ attempt: 2, delayMs: 3000, status: 429 });
    expect(String(lines[1]?.reason)).toContain("rate limit");
  });

  test("retries an HTML page and gives up after two retries with an excerpt of it", async () => {
    const h = await setup();
    h.fake.fault("html", { sticky: true });
    const error = await failure(h.source.fetch());
    expect(h.fake.requests).toHaveLength(3);
    expect(error.status).toBe(200);
    expect(error.message).toContain("an HTML page");
    expect(error.message).toContain("<!DOCTYPE html>");
    expect(error.message).toMatch(/… \(\d+ chars\)/);
    expect(error.message.length).toBeLessThan(400);
  });

  test("retries a malformed JSON body once and succeeds", async () => {
    const h = await setup();
    h.fake.fault("malformed");
    expect((await h.source.fetch()).ticks).toHaveLength(1);
    expect(h.delays).toEqual([500]);
    expect(String(warnings(h)[0]?.reason)).toContain("malformed JSON");
  });

  test("retries a request that timed out", async () => {
    const h = await setup({ timeoutMs: 100 });
    h.fake.fault("timeout");
    expect((await h.source.fetch()).ticks).toHaveLength(1);
    expect(h.fake.requests).toHaveLength(2);
    expect(String(warnings(h)[0]?.reason)).toContain("did not answer within 100 ms");
  });

  test("fails with a timeout error once retries are exhausted", async () => {
    const h = await setup({ timeoutMs: 50, retries: 1 });
    h.fake.fault("timeout", { sticky: true });
    const error = await failure(h.source.fetch());
    expect(error.message).toContain("did not answer within 50 ms");
    expect(error.status).toBeUndefined();
    expect(error.hint).toContain("COINGECKO_TIMEOUT_MS");
  });

  test("retries a network error, then fails naming the host", async () => {
    const h = await setup();
    const url = h.fake.url;
    const host = new URL(url).host;
    await h.fake.stop();
    fake = undefined;
    const error = await failure(h.source.fetch());
    expect(h.delays).toEqual([500, 1000, 2000]);
    expect(error.message).toContain(`cannot reach CoinGecko at ${host}`);
    expect(error.cause).toBeInstanceOf(SourceError);
  });

  test("stops when the caller aborts during a backoff wait, with the caller's reason", async () => {
    const h = await setup({ sleep: undefined });
    h.fake.fault("503", { sticky: true, retryAfterSeconds: 60 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("shutdown")), 30);
    const started = performance.now();
    await expect(h.source.fetch(controller.signal)).rejects.toThrow("shutdown");
    expect(performance.now() - started).toBeLessThan(2000);
    expect(h.fake.requests).toHaveLength(1);
  });

  test("stops when the caller aborts a request in flight, without retrying", async () => {
    const h = await setup({ timeoutMs: 10_000 });
    h.fake.fault("timeout", { sticky: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("shutdown")), 30);
    await expect(h.source.fetch(controller.signal)).rejects.toThrow("shutdown");
    expect(h.delays).toEqual([]);
  });
});

describe("CoinGecko response parsing", () => {
  const context = { assets: ["beldex"], currencies: ["usd"], fetchedAt: NOW.toISOString() };
  const reason = (entry: unknown) => toFetchResult({ beldex: entry }, context).skipped[0]?.reason;

  test("skips a pair without a usable last_updated_at", () => {
    expect(reason({ usd: 0.07 })).toBe("last_updated_at missing");
    expect(reason({ usd: 0.07, last_updated_at: null })).toBe("last_updated_at missing");
    expect(reason({ usd: 0.07, last_updated_at: "yesterday" })).toBe("last_updated_at invalid");
    expect(reason({ usd: 0.07, last_updated_at: -1 })).toBe("last_updated_at invalid");
    expect(reason({ usd: 0.07, last_updated_at: 1e20 })).toBe("last_updated_at invalid");
  });

  test("skips a price that is not a number, and an entry that is not an object", () => {
    expect(reason({ usd: "0.07", last_updated_at: UPDATED })).toBe("price not a number");
    expect(reason(0.07)).toBe("entry not an object");
    expect(reason({})).toBe("unknown id");
  });

  test("turns a non-numeric metric into null", () => {
    const { ticks } = toFetchResult(
      { beldex: { usd: 0.07, usd_market_cap: "big", usd_24h_vol: 3, last_updated_at: UPDATED } },
      context,
    );
    expect(ticks[0]).toMatchObject({ marketCap: null, volume24h: 3, change24hPct: null });
  });

  test("skips a pair that fails the tick schema with the schema's reason", () => {
    const result = toFetchResult(
      { BELDEX: { usd: 0.07, last_updated_at: UPDATED } },
      { ...context, assets: ["BELDEX"] },
    );
    expect(result.skipped[0]?.reason).toContain("asset");
  });

  test("rejects a body that is not a JSON object", () => {
    expect(() => parseSimplePriceBody("[1,2]")).toThrow(/an array/);
    expect(() => parseSimplePriceBody("null")).toThrow(/null/);
    expect(() => parseSimplePriceBody('"hello"')).toThrow(/a string/);
    expect(() => parseSimplePriceBody("")).toThrow(/empty body/);
  });

  test("summarizes CoinGecko's error body shapes", () => {
    expect(summarizeErrorBody('{"status":{"error_code":10002,"error_message":"API Key Missing"}}')).toBe(
      "API Key Missing (error_code 10002)",
    );
    expect(summarizeErrorBody('{"error":{"status":{"error_code":10005,"error_message":"Pro only"}}}')).toBe(
      "Pro only (error_code 10005)",
    );
    expect(summarizeErrorBody('{"error":"coin not found"}')).toBe("coin not found");
    expect(summarizeErrorBody("<html>  down </html>")).toBe("<html> down </html>");
  });

  test("builds the documented /simple/price URL", () => {
    expect(simplePriceUrl("https://api.coingecko.com/api/v3/", ["beldex", "bitcoin"], ["usd"])).toBe(
      "https://api.coingecko.com/api/v3/simple/price?ids=beldex,bitcoin&vs_currencies=usd&include_market_cap=true" +
        "&include_24hr_vol=true&include_24hr_change=true&include_last_updated_at=true&precision=full",
    );
  });
});
