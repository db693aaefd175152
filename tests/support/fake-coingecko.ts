/**
 * A local stand-in for CoinGecko's /simple/price, /coins/{id}/market_chart/range and /ping, with a
 * controllable price book, a deterministic price history, a calls-per-minute limit and fault modes, for tests
 * only (`--demo` has its own price source, lib/demo/source.ts).
 * Runnable: `bun run tests/support/fake-coingecko.ts --port 18080 --auto`.
 */
import { parseArgs } from "node:util";
import type { Server } from "bun";

/** Ways the fake can misbehave on /simple/price, like the real API or its CDN sometimes does. */
export const FAKE_FAULT_MODES = [
  "429",
  "429-no-retry-after",
  "500",
  "502",
  "503",
  "html",
  "malformed",
  "timeout",
  "empty",
  "null-fields",
  "401",
  "403",
  "408",
  "1020",
] as const;

/**
 * One of {@link FAKE_FAULT_MODES}: "429" rate limit with Retry-After, "429-no-retry-after", "500"/"502"/"503",
 * "html" (200 with a CDN page), "malformed" (200 with truncated JSON), "timeout" (never answers until the
 * client gives up), "empty" (200 `{}`), "null-fields" (200 with null prices and market caps), "401" (CoinGecko's key error 10002),
 * "403" (forbidden), "408" (request timeout), "1020" (403 from the CDN's firewall: "error code: 1020").
 */
export type FakeFaultMode = (typeof FAKE_FAULT_MODES)[number];

/** How long a fault lasts and what it sends. */
export interface FakeFaultOptions {
  /** How many /simple/price requests it answers; default 1. `Infinity` makes it sticky. */
  times?: number;
  /** Same as `times: Infinity`: stays until {@link FakeCoinGecko.clearFaults}. */
  sticky?: boolean;
  /** Retry-After in seconds; default 1 for "429", none for the 5xx modes unless given. */
  retryAfterSeconds?: number;
  /** Sends Retry-After as an HTTP-date (now + retryAfterSeconds) instead of seconds. */
  retryAfterAsDate?: boolean;
  /** Which requests the fault answers: "simple-price" (default) or "market-chart" (/market_chart/range). */
  route?: FakeDataRoute;
}

/** The fake's data routes a fault can target. */
export type FakeDataRoute = "simple-price" | "market-chart";

/** What the fake's calls-per-minute counter saw since it started or {@link FakeCoinGecko.resetRate}. */
export interface FakeRateCounter {
  /** Calls allowed in any 60 s; null when the fake has no limit. */
  limit: number | null;
  /** Every request counted, failed ones included, as CoinGecko counts them. */
  total: number;
  /** Most requests seen within any 60 s (sliding, on the fake's clock). */
  peakPerMinute: number;
  /** Requests the limit answered with 429. */
  limited: number;
}

/** Granularity of a market_chart/range answer, as CoinGecko picks it from the span. */
export type FakeGranularity = "5m" | "1h" | "1d";

/** Spacing of each granularity's points, in ms. */
export const FAKE_GRANULARITY_MS: Readonly<Record<FakeGranularity, number>> = {
  "5m": 300_000,
  "1h": 3_600_000,
  "1d": 86_400_000,
};

/** A price in the fake's book. Metrics left out keep their current value (null for a new pair). */
export interface FakeQuoteInput {
  price: number | null;
  marketCap?: number | null;
  volume24h?: number | null;
  change24hPct?: number | null;
  /** Unix seconds; sets the asset's last_updated_at (CoinGecko reports one per asset). Default: now. */
  updatedAt?: number;
}

/** A pair as the fake currently reports it. */
export interface FakeQuote {
  price: number | null;
  marketCap: number | null;
  volume24h: number | null;
  change24hPct: number | null;
  /** The asset's last_updated_at, unix seconds. */
  updatedAt: number;
}

/** A request the fake received, for assertions. */
export interface FakeRequest {
  method: string;
  /** Path without the query, e.g. "/api/v3/simple/price". */
  path: string;
  /** The full request URL. */
  url: string;
  /** Decoded query parameters. */
  query: Record<string, string>;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** Epoch ms on the fake's clock. */
  at: number;
}

/** Which key the fake demands, like CoinGecko's demo or pro root. */
export interface FakeKeyRequirement {
  plan: "demo" | "pro";
  key: string;
}

/** Options of {@link startFakeCoinGecko}; all optional. */
export interface FakeCoinGeckoOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default "127.0.0.1". */
  hostname?: string;
  /** Starting prices per asset and currency; default {@link DEFAULT_FAKE_BOOK}. */
  book?: Record<string, Record<string, FakeQuoteInput>>;
  /** When set, requests without this key (in the plan's header or query parameter) get CoinGecko's 401. */
  requireKey?: FakeKeyRequirement;
  /** Moves prices by themselves: "request" before each /simple/price answer, or every `intervalMs`. Default off. */
  auto?: false | "request" | { intervalMs: number };
  /** Largest relative move of one {@link FakeCoinGecko.advance}, in percent; default 0.5. */
  walkPct?: number;
  /** Clock in epoch ms; default Date.now. */
  now?: () => number;
  /** Uniform random in [0, 1) for the walk; default Math.random. */
  random?: () => number;
  /** Answers 429 to requests beyond this many within any 60 s (sliding). Default none (but counted). */
  callsPerMinute?: number;
  /** Delay before each market_chart/range answer, in ms, so that a test can kill a backfill midway. Default 0. */
  chartDelayMs?: number;
  /**
   * The price history's "now": its newest point and what "ending now" means. Default `now`; a frozen one makes
   * reruns see exactly the same history while the rate counter runs on `now`.
   */
  chartNow?: () => number;
}

/** A running fake CoinGecko. */
export interface FakeCoinGecko {
  /** Base URL to use as COINGECKO_BASE_URL, e.g. "http://127.0.0.1:41234/api/v3". */
  readonly url: string;
  readonly port: number;
  /** Every request received, oldest first; cleared in place by {@link FakeCoinGecko.reset}. */
  readonly requests: FakeRequest[];
  /** Ids in the book; other ids are left out of answers, as CoinGecko does. */
  readonly knownIds: string[];
  /** Adds or changes one pair. */
  setPrice(asset: string, currency: string, quote: FakeQuoteInput): void;
  /** The pair as the fake would report it, or undefined. */
  getPrice(asset: string, currency: string): FakeQuote | undefined;
  /** Forgets an asset, so that it becomes an unknown id. */
  removeAsset(asset: string): void;
  /** Moves every price by a small random walk and bumps every last_updated_at (always forward). */
  advance(): void;
  /**
   * Queues a fault for the next /simple/price requests (FIFO); sticky faults stay until cleared.
   * @example fake.fault("429", { retryAfterSeconds: 7 }); fake.fault("503", { times: 2 });
   */
  fault(mode: FakeFaultMode, options?: FakeFaultOptions): void;
  /** Drops every queued and sticky fault. */
  clearFaults(): void;
  /** Forgets recorded requests and faults (the book stays). */
  reset(): void;
  /** The calls-per-minute counter. */
  readonly rate: FakeRateCounter;
  /** Starts the counter afresh (each producer process has a budget of its own). */
  resetRate(): void;
  /** Changes the calls-per-minute limit; null removes it. */
  setCallsPerMinute(limit: number | null): void;
  /** Changes the delay before each market_chart/range answer. */
  setChartDelay(ms: number): void;
  /** Answers held requests, stops auto mode and closes the server and its connections. */
  stop(): Promise<void>;
}

/** Realistic default book: beldex, bitcoin, ethereum in usd and eur. */
export const DEFAULT_FAKE_BOOK: Readonly<Record<string, Record<string, FakeQuoteInput>>> = {
  beldex: {
    usd: { price: 0.0712, marketCap: 5.02e8, volume24h: 2.1e6, change24hPct: -1.3 },
    eur: { price: 0.0615, marketCap: 4.34e8, volume24h: 1.8e6, change24hPct: -1.1 },
  },
  bitcoin: {
    usd: { price: 91_250.12, marketCap: 1.82e12, volume24h: 4.6e10, change24hPct: 0.8 },
    eur: { price: 78_840.55, marketCap: 1.57e12, volume24h: 3.97e10, change24hPct: 1.0 },
  },
  ethereum: {
    usd: { price: 3_021.47, marketCap: 3.65e11, volume24h: 2.2e10, change24hPct: -0.4 },
    eur: { price: 2_610.9, marketCap: 3.15e11, volume24h: 1.9e10, change24hPct: -0.2 },
  },
};

/** The body of /ping. */
export const FAKE_PING_BODY = { gecko_says: "(V3) To the Moon!" } as const;

const API_PREFIX = "/api/v3";
const KEY_HEADERS = { demo: "x-cg-demo-api-key", pro: "x-cg-pro-api-key" } as const;
const KEY_PARAMS = { demo: "x_cg_demo_api_key", pro: "x_cg_pro_api_key" } as const;

const CDN_PAGE = `<!DOCTYPE html>
<html lang="en-US"><head><title>Just a moment...</title><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="robots" content="noindex,nofollow"></head>
<body><div class="main-wrapper" role="main"><div class="main-content"><h1>api.coingecko.com</h1>
<p>Checking if the site connection is secure. api.coingecko.com needs to review the security of your connection before proceeding.</p>
</div></div><div class="footer">Ray ID: 8e5f0c3a1b2d4e6f &middot; Performance &amp; security by Cloudflare</div></body></html>`;

const BAD_GATEWAY_PAGE = `<html><head><title>502 Bad Gateway</title></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>`;

/** How near the fake's now a 1-day window must end to get 5-minutely points, as "a 1-day window ending now". */
const RECENT_TOLERANCE_MS = 10 * 60_000;
const DAY_MS = 86_400_000;

/**
 * The granularity CoinGecko documents for a market_chart/range window: a window of at most a day ending now
 * gives 5-minutely points, any other window of up to 90 days hourly ones, longer windows daily ones (00:00 UTC).
 * @example fakeChartGranularity(now - 3_600_000, now, now) // "5m"
 */
export function fakeChartGranularity(fromMs: number, toMs: number, nowMs: number): FakeGranularity {
  const span = toMs - fromMs;
  if (span <= DAY_MS && toMs >= nowMs - RECENT_TOLERANCE_MS) return "5m";
  return span <= 90 * DAY_MS ? "1h" : "1d";
}

/**
 * The fake's history of one quote at `ms`: a deterministic wave around today's value, so that every run (and
 * every rerun) serves the same points for the same times.
 * @example fakeChartValue(0.0712, Date.parse("2026-11-01T00:00:00Z"))
 */
export function fakeChartValue(base: number, ms: number): number {
  const wave =
    0.03 * Math.sin((2 * Math.PI * ms) / DAY_MS) + 0.01 * Math.sin((2 * Math.PI * ms) / 25_200_000);
  return base * (1 + wave);
}

/** The point times CoinGecko would answer for [fromMs, toMs] seen at `nowMs`: multiples of the step. */
export function fakeChartTimes(fromMs: number, toMs: number, nowMs: number): number[] {
  const step = FAKE_GRANULARITY_MS[fakeChartGranularity(fromMs, toMs, nowMs)];
  const out: number[] = [];
  const last = Math.min(toMs, nowMs);
  for (let t = Math.ceil(fromMs / step) * step; t <= last; t += step) out.push(t);
  return out;
}

const CHART_PATH = /^\/coins\/([^/]+)\/market_chart\/range$/;

interface AssetEntry {
  updatedAt: number;
  quotes: Map<string, Omit<FakeQuote, "updatedAt">>;
}

interface QueuedFault {
  mode: FakeFaultMode;
  remaining: number;
  options: FakeFaultOptions;
}

/**
 * Starts a fake CoinGecko on 127.0.0.1 (a random port by default) serving GET /api/v3/simple/price and
 * GET /api/v3/ping. Stop it with {@link FakeCoinGecko.stop}.
 * @example
 * const fake = await startFakeCoinGecko();
 * fake.fault("429", { retryAfterSeconds: 2 });
 * const source = createCoinGeckoSource({ assets: ["beldex"], currencies: ["usd"], plan: "public", baseUrl: fake.url, log });
 * await fake.stop();
 */
export async function startFakeCoinGecko(options: FakeCoinGeckoOptions = {}): Promise<FakeCoinGecko> {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const walk = (options.walkPct ?? 0.5) / 100;
  const nowSeconds = () => Math.floor(now() / 1000);
  const book = new Map<string, AssetEntry>();
  const faults: QueuedFault[] = [];
  const requests: FakeRequest[] = [];
  // Resolvers of "timeout" requests, so that stop() can release them instead of waiting on clients.
  const held = new Set<() => void>();

  const setPrice = (asset: string, currency: string, quote: FakeQuoteInput) => {
    let entry = book.get(asset);
    if (!entry) {
      entry = { updatedAt: nowSeconds(), quotes: new Map() };
      book.set(asset, entry);
    }
    const cur = currency.toLowerCase();
    const previous = entry.quotes.get(cur);
    entry.quotes.set(cur, {
      price: quote.price,
      marketCap: quote.marketCap !== undefined ? quote.marketCap : (previous?.marketCap ?? null),
      volume24h: quote.volume24h !== undefined ? quote.volume24h : (previous?.volume24h ?? null),
      change24hPct: quote.change24hPct !== undefined ? quote.change24hPct : (previous?.change24hPct ?? null),
    });
    entry.updatedAt = quote.updatedAt ?? nowSeconds();
  };

  for (const [asset, currencies] of Object.entries(options.book ?? DEFAULT_FAKE_BOOK))
    for (const [currency, quote] of Object.entries(currencies)) setPrice(asset, currency, quote);

  const advance = () => {
    for (const entry of book.values()) {
      for (const quote of entry.quotes.values()) {
        const factor = 1 + (random() * 2 - 1) * walk;
        if (quote.price !== null) quote.price *= factor;
        if (quote.marketCap !== null) quote.marketCap *= factor;
        if (quote.volume24h !== null) quote.volume24h *= 1 + (random() * 2 - 1) * walk;
        if (quote.change24hPct !== null) quote.change24hPct += (factor - 1) * 100;
      }
      // Always forward, so that every advance gives new tick identities even within one second.
      entry.updatedAt = Math.max(nowSeconds(), entry.updatedAt + 1);
    }
  };

  const nextFault = (route: FakeDataRoute): QueuedFault | undefined => {
    const index = faults.findIndex((f) => (f.options.route ?? "simple-price") === route);
    const head = faults[index];
    if (!head) return undefined;
    head.remaining--;
    if (head.remaining <= 0) faults.splice(index, 1);
    return head;
  };

  // Every request counts, failed ones too, within a sliding minute on the fake's clock.
  let limit = options.callsPerMinute ?? null;
  let chartDelayMs = options.chartDelayMs ?? 0;
  const chartNow = options.chartNow ?? now;
  const rate: FakeRateCounter = { limit, total: 0, peakPerMinute: 0, limited: 0 };
  let recent: number[] = [];
  const countCall = (at: number): Response | undefined => {
    recent = recent.filter((t) => t > at - 60_000);
    recent.push(at);
    rate.total++;
    rate.peakPerMinute = Math.max(rate.peakPerMinute, recent.length);
    if (limit === null || recent.length <= limit) return undefined;
    rate.limited++;
    const wait = Math.max(1, Math.ceil(((recent[0] ?? at) + 60_000 - at) / 1000));
    return json(
      {
        status: {
          error_code: 429,
          error_message:
            "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits.",
        },
      },
      429,
      { "retry-after": String(wait) },
    );
  };

  const parseTime = (value: string | null): number | undefined => {
    if (value === null || value === "") return undefined;
    if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
    const at = Date.parse(/T|Z/.test(value) ? value : `${value}T00:00:00Z`);
    return Number.isNaN(at) ? undefined : at;
  };

  const marketChart = async (id: string, query: URLSearchParams): Promise<Response> => {
    const currency = query.get("vs_currency")?.toLowerCase();
    if (!currency) return json({ error: "Missing parameter vs_currency" }, 400);
    const from = parseTime(query.get("from"));
    const to = parseTime(query.get("to"));
    if (from === undefined || to === undefined)
      return json({ error: "Invalid or missing parameter from, to" }, 400);
    const quote = book.get(id)?.quotes.get(currency);
    if (!book.has(id)) return json({ error: "coin not found" }, 404);
    if (chartDelayMs > 0) await Bun.sleep(chartDelayMs);
    if (!quote || quote.price === null) return json({ prices: [], market_caps: [], total_volumes: [] });
    const times = from > to ? [] : fakeChartTimes(from, to, chartNow());
    const { price, marketCap, volume24h } = quote;
    return json({
      prices: times.map((t) => [t, fakeChartValue(price, t)]),
      market_caps: times.map((t) => [t, marketCap === null ? null : fakeChartValue(marketCap, t)]),
      total_volumes: times.map((t) => [
        t,
        volume24h === null ? null : fakeChartValue(volume24h, t + 3_600_000),
      ]),
    });
  };

  const simplePrice = (query: URLSearchParams, nullFields: boolean): Response => {
    const vs = query.get("vs_currencies");
    if (!vs) return json({ error: "Missing parameter vs_currencies" }, 400);
    const ids = unique(split(query.get("ids")));
    const currencies = unique(split(vs).map((c) => c.toLowerCase()));
    const flag = (name: string) => query.get(name) === "true";
    const digits = precisionDigits(query.get("precision"));
    const out: Record<string, Record<string, number | null>> = {};
    for (const id of ids) {
      const entry = book.get(id);
      if (!entry) continue;
      const item: Record<string, number | null> = {};
      for (const currency of currencies) {
        const quote = entry.quotes.get(currency);
        if (!quote) continue;
        item[currency] = nullFields ? null : round(quote.price, digits);
        if (flag("include_market_cap")) item[`${currency}_market_cap`] = nullFields ? null : quote.marketCap;
        if (flag("include_24hr_vol")) item[`${currency}_24h_vol`] = quote.volume24h;
        if (flag("include_24hr_change")) item[`${currency}_24h_change`] = quote.change24hPct;
      }
      if (Object.keys(item).length > 0 && flag("include_last_updated_at"))
        item.last_updated_at = entry.updatedAt;
      out[id] = item;
    }
    return json(out);
  };

  const faultResponse = (fault: QueuedFault, query: URLSearchParams): Response | "timeout" => {
    const retryAfter = (fallback: number | undefined): Record<string, string> => {
      const seconds = fault.options.retryAfterSeconds ?? fallback;
      if (seconds === undefined) return {};
      const value = fault.options.retryAfterAsDate
        ? new Date(now() + seconds * 1000).toUTCString()
        : String(Math.round(seconds));
      return { "retry-after": value };
    };
    switch (fault.mode) {
      case "429":
      case "429-no-retry-after":
        return json(
          {
            status: {
              error_code: 429,
              error_message:
                "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits.",
            },
          },
          429,
          fault.mode === "429" ? retryAfter(1) : {},
        );
      case "500":
        return json(
          { status: { error_code: 500, error_message: "Internal server error" } },
          500,
          retryAfter(undefined),
        );
      case "502":
        return new Response(BAD_GATEWAY_PAGE, {
          status: 502,
          headers: { "content-type": "text/html", ...retryAfter(undefined) },
        });
      case "503":
        return json(
          { status: { error_code: 503, error_message: "Service Unavailable" } },
          503,
          retryAfter(undefined),
        );
      case "html":
        return new Response(CDN_PAGE, {
          status: 200,
          headers: { "content-type": "text/html; charset=UTF-8" },
        });
      case "malformed": {
        const text = JSON.stringify(
          Object.fromEntries(unique(split(query.get("ids"))).map((id) => [id, { usd: 0.07 }])),
        );
        const whole = text.length > 2 ? text : '{"beldex":{"usd":0.07}}';
        return new Response(whole.slice(0, Math.max(1, Math.floor(whole.length / 2))), {
          status: 200,
          headers: { "content-type": "application/json; charset=utf-8" },
        });
      }
      case "empty":
        return json({});
      case "null-fields":
        return simplePrice(query, true);
      case "timeout":
        return "timeout";
      case "401":
        return coingeckoError(10002, "API Key Missing");
      case "403":
        return json({ status: { error_code: 403, error_message: "Forbidden" } }, 403);
      case "408":
        return json({ status: { error_code: 408, error_message: "Request Timeout" } }, 408);
      case "1020":
        // Cloudflare's firewall answer: plain text, no JSON, status 403.
        return new Response("error code: 1020", { status: 403, headers: { "content-type": "text/plain" } });
    }
  };

  const hold = (request: Request, server: Server<undefined>): Promise<Response> => {
    // Without this Bun would close the idle connection itself and the client would see a reset, not a timeout.
    server.timeout(request, 0);
    return new Promise<Response>((resolve) => {
      const release = () => {
        held.delete(release);
        resolve(new Response(null, { status: 504 }));
      };
      held.add(release);
      if (request.signal.aborted) release();
      else request.signal.addEventListener("abort", release, { once: true });
    });
  };

  const checkKey = (request: Request, query: URLSearchParams): Response | undefined => {
    const required = options.requireKey;
    if (!required) return undefined;
    const other = required.plan === "demo" ? "pro" : "demo";
    const given = request.headers.get(KEY_HEADERS[required.plan]) ?? query.get(KEY_PARAMS[required.plan]);
    if (given === required.key) return undefined;
    if (given === null && (request.headers.has(KEY_HEADERS[other]) || query.has(KEY_PARAMS[other]))) {
      // CoinGecko's answers to a key sent to the other plan's root URL.
      return required.plan === "demo"
        ? coingeckoError(
            10010,
            "If you are using Pro API key, please change your root URL from api.coingecko.com to pro-api.coingecko.com",
          )
        : coingeckoError(
            10011,
            "If you are using Demo API key, please change your root URL from pro-api.coingecko.com to api.coingecko.com",
          );
    }
    return given === null
      ? coingeckoError(10002, "API Key Missing")
      : coingeckoError(10002, "Invalid API Key");
  };

  const handle = async (request: Request, server: Server<undefined>): Promise<Response> => {
    const url = new URL(request.url);
    const path = url.pathname.replace(/\/+$/, "") || "/";
    requests.push({
      method: request.method,
      path,
      url: request.url,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(request.headers),
      at: now(),
    });
    const limited = countCall(now());
    if (limited) return limited;
    const route = path.startsWith(API_PREFIX) ? path.slice(API_PREFIX.length) : undefined;
    const chartId = route === undefined ? undefined : CHART_PATH.exec(route)?.[1];
    if (request.method !== "GET" || (route !== "/ping" && route !== "/simple/price" && !chartId))
      return json({ error: "Incorrect path. Please check https://www.coingecko.com/api/" }, 404);
    const refused = checkKey(request, url.searchParams);
    if (refused) return refused;
    if (route === "/ping") return json(FAKE_PING_BODY);
    const fault = nextFault(chartId ? "market-chart" : "simple-price");
    if (fault) {
      const answer = faultResponse(fault, url.searchParams);
      return answer === "timeout" ? hold(request, server) : answer;
    }
    if (chartId) return marketChart(decodeURIComponent(chartId), url.searchParams);
    if (options.auto === "request") advance();
    return simplePrice(url.searchParams, false);
  };

  const server = Bun.serve({
    port: options.port ?? 0,
    hostname: options.hostname ?? "127.0.0.1",
    // Longer than the source's default 10 s timeout, so that the client gives up before the server does.
    idleTimeout: 60,
    fetch: handle,
  });
  const auto = options.auto;
  const timer =
    auto && typeof auto === "object" ? setInterval(advance, Math.max(10, auto.intervalMs)) : undefined;
  const port = server.port ?? 0;

  return {
    url: `http://${server.hostname}:${port}${API_PREFIX}`,
    port,
    requests,
    get knownIds() {
      return [...book.keys()];
    },
    setPrice,
    getPrice(asset, currency) {
      const entry = book.get(asset);
      const quote = entry?.quotes.get(currency.toLowerCase());
      return entry && quote ? { ...quote, updatedAt: entry.updatedAt } : undefined;
    },
    removeAsset(asset) {
      book.delete(asset);
    },
    advance,
    fault(mode, faultOptions = {}) {
      const times = faultOptions.sticky ? Number.POSITIVE_INFINITY : (faultOptions.times ?? 1);
      if (times > 0) faults.push({ mode, remaining: times, options: faultOptions });
    },
    clearFaults() {
      faults.length = 0;
    },
    reset() {
      faults.length = 0;
      requests.length = 0;
    },
    get rate() {
      return { ...rate, limit };
    },
    resetRate() {
      recent = [];
      Object.assign(rate, { total: 0, peakPerMinute: 0, limited: 0 });
    },
    setCallsPerMinute(value) {
      limit = value;
    },
    setChartDelay(ms) {
      chartDelayMs = ms;
    },
    async stop() {
      if (timer) clearInterval(timer);
      for (const release of [...held]) release();
      await server.stop(true);
    },
  };
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

function coingeckoError(code: number, message: string): Response {
  return json({ status: { error_code: code, error_message: message } }, 401);
}

function split(value: string | null): string[] {
  return (value ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** "full" or absent: as stored; "0".."18": that many decimals. */
function precisionDigits(value: string | null): number | undefined {
  if (value === null || value === "full" || !/^\d{1,2}$/.test(value)) return undefined;
  const digits = Number(value);
  return digits <= 18 ? digits : undefined;
}

function round(value: number | null, digits: number | undefined): number | null {
  if (value === null || digits === undefined) return value;
  return Number(value.toFixed(digits));
}

const USAGE = `usage: bun run tests/support/fake-coingecko.ts [--port 18080] [--host 127.0.0.1]
       [--auto | --every SECONDS] [--require-key KEY --plan demo|pro]
  --auto          move prices before every /simple/price answer
  --every S       move prices every S seconds
  --require-key   answer 401 unless the key comes in the plan's header`;

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string", default: "18080" },
      host: { type: "string", default: "127.0.0.1" },
      auto: { type: "boolean", default: false },
      every: { type: "string" },
      "require-key": { type: "string" },
      plan: { type: "string", default: "demo" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  const every = values.every === undefined ? undefined : Number(values.every);
  const plan = values.plan;
  if (!Number.isInteger(port) || port < 0 || port > 65_535 || (every !== undefined && !(every > 0))) {
    console.error(USAGE);
    process.exit(2);
  }
  if (plan !== "demo" && plan !== "pro") {
    console.error(`--plan: expected demo or pro, got "${plan}"\n${USAGE}`);
    process.exit(2);
  }
  const key = values["require-key"];
  const fake = await startFakeCoinGecko({
    port,
    hostname: values.host,
    auto: every !== undefined ? { intervalMs: every * 1000 } : values.auto ? "request" : false,
    requireKey: key ? { plan, key } : undefined,
  });
  // The URL alone on stdout, so that scripts can capture it; the rest goes to stderr.
  console.log(fake.url);
  console.error(`fake CoinGecko ready: set COINGECKO_BASE_URL=${fake.url} (Ctrl-C to stop)`);
  const shutdown = () => {
    fake.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

if (import.meta.main) await main(Bun.argv.slice(2));
