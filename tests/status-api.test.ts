import { describe, expect, test } from "bun:test";
import { hc } from "hono/client";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { createConsumerMetrics } from "../lib/pipeline/metrics.ts";
import type { HistoryStore, LatestCache } from "../lib/ports.ts";
import { createStatusApp, createTickFeed, type StatusApp, type StatusDeps } from "../lib/status/app.ts";
import type { Tick } from "../lib/tick.ts";
import { makeTick } from "./support/ticks.ts";

const NOW = Date.UTC(2026, 10, 26, 19, 0);

async function setup(overrides: Partial<StatusDeps> = {}, ticks: Tick[] = seed()) {
  const cache = createMemoryCache();
  const history = createMemoryHistory();
  await cache.putIfNewer(ticks);
  await history.upsert(ticks);
  const app = createStatusApp({
    cache,
    history,
    health: () => ({ metrics: createConsumerMetrics(), lag: null, startedAt: NOW - 60_000 }),
    fetchIntervalMs: 60_000,
    now: () => NOW,
    ...overrides,
  });
  return { app, cache, history };
}

// 30 minutes of beldex in usd, one tick a minute, plus the latest beldex in eur and bitcoin in usd.
function seed(): Tick[] {
  return [
    ...Array.from({ length: 30 }, (_, minute) => makeTick({}, minute)),
    makeTick({ currency: "eur", price: 0.065 }, 29),
    makeTick({ asset: "bitcoin", price: 91_234.5 }, 29),
  ];
}

const failing = (): never => {
  // What a real adapter might say: it must never reach the client.
  throw new Error("connect ECONNREFUSED redis://:hunter2@10.0.0.7:6379");
};

function brokenCache(): LatestCache {
  return {
    ...createMemoryCache(),
    get: async () => failing(),
    pairs: async () => failing(),
    ping: async () => failing(),
  };
}

function brokenHistory(): HistoryStore {
  return {
    ...createMemoryHistory(),
    recent: async () => failing(),
    range: async () => failing(),
    candles: async () => failing(),
    ping: async () => failing(),
  };
}

describe("GET /api/pairs", () => {
  test("lists every cached pair, sorted", async () => {
    const { app } = await setup();
    const res = await app.request("/api/pairs");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      pairs: [
        { asset: "beldex", currency: "eur" },
        { asset: "beldex", currency: "usd" },
        { asset: "bitcoin", currency: "usd" },
      ],
    });
  });

  test("rejects unknown query parameters", async () => {
    const { app } = await setup();
    const res = await app.request("/api/pairs?debug=1");
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe("invalid parameters");
  });
});

describe("GET /api/latest/:asset", () => {
  test("answers the latest tick in every currency", async () => {
    const { app } = await setup();
    const body = await (await app.request("/api/latest/beldex")).json();
    expect(body.asset).toBe("beldex");
    expect(body.ticks.map((tick: Tick) => [tick.currency, tick.price])).toEqual([
      ["eur", 0.065],
      ["usd", makeTick({}, 29).price],
    ]);
  });

  test("answers one currency with ?currency=", async () => {
    const { app } = await setup();
    const body = await (await app.request("/api/latest/beldex?currency=eur")).json();
    expect(body.ticks).toEqual([makeTick({ currency: "eur", price: 0.065 }, 29)]);
  });

  test("answers 404 for an unknown asset or pair", async () => {
    const { app } = await setup();
    const asset = await app.request("/api/latest/dogecoin");
    expect(asset.status).toBe(404);
    expect(await asset.json()).toEqual({ error: "unknown asset dogecoin" });
    const pair = await app.request("/api/latest/bitcoin?currency=eur");
    expect(pair.status).toBe(404);
    expect(await pair.json()).toEqual({ error: "unknown pair bitcoin:eur" });
  });

  test("answers 400 naming the parameter for a malformed asset or currency", async () => {
    const { app } = await setup();
    const res = await app.request("/api/latest/Beldex?currency=US%20D");
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.issues.map((issue: { path: string }) => issue.path)).toEqual(["asset"]);
    const currency = await (await app.request("/api/latest/beldex?currency=US%20D")).json();
    expect(currency.issues[0].path).toBe("currency");
  });
});

describe("GET /api/history/:asset", () => {
  test("answers the ticks of a window, oldest first, usd by default", async () => {
    const { app } = await setup();
    const from = new Date(Date.UTC(2026, 10, 26, 18, 10)).toISOString();
    const to = new Date(Date.UTC(2026, 10, 26, 18, 15)).toISOString();
    const res = await app.request(`/api/history/beldex?from=${from}&to=${to}`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ asset: "beldex", currency: "usd", from, to, limit: 1000 });
    expect(body.ticks.map((tick: Tick) => tick.sourceUpdatedAt)).toEqual(
      [10, 11, 12, 13, 14].map((minute) => makeTick({}, minute).sourceUpdatedAt),
    );
  });

  test("keeps the most recent `limit` ticks", async () => {
    const { app } = await setup();
    const body = await (await app.request("/api/history/beldex?currency=usd&limit=3")).json();
    expect(body.ticks.map((tick: Tick) => tick.sourceUpdatedAt)).toEqual(
      [27, 28, 29].map((minute) => makeTick({}, minute).sourceUpdatedAt),
    );
  });

  test("accepts dates and epoch milliseconds as bounds", async () => {
    const { app } = await setup();
    const date = await app.request("/api/history/beldex?from=2026-11-26");
    expect((await date.json()).ticks).toHaveLength(30);
    const epoch = await app.request(`/api/history/beldex?from=${Date.UTC(2026, 10, 26, 18, 25)}`);
    expect((await epoch.json()).ticks).toHaveLength(5);
  });

  test("answers an empty list for a known pair with nothing in the window", async () => {
    const { app } = await setup();
    const res = await app.request("/api/history/beldex?from=2026-11-27");
    expect(res.status).toBe(200);
    expect((await res.json()).ticks).toEqual([]);
  });

  test("answers 404 for a pair no sink knows", async () => {
    const { app } = await setup();
    const res = await app.request("/api/history/beldex?currency=jpy");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "unknown pair beldex:jpy" });
  });

  test("answers 400 when from is not before to, or limit is out of range", async () => {
    const { app } = await setup();
    const backwards = await app.request("/api/history/beldex?from=2026-11-27&to=2026-11-26");
    expect(backwards.status).toBe(400);
    expect((await backwards.json()).issues).toEqual([{ path: "from", message: "from must be before to" }]);
    for (const limit of ["0", "-1", "10001", "1.5", "1e3", ""]) {
      const res = await app.request(`/api/history/beldex?limit=${limit}`);
      expect(res.status).toBe(400);
    }
  });
});

describe("GET /api/candles/:asset", () => {
  test("answers store-computed candles over the default window", async () => {
    const { app } = await setup();
    const res = await app.request("/api/candles/beldex?interval=5m");
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({
      asset: "beldex",
      currency: "usd",
      interval: "5m",
      from: new Date(NOW - 86_400_000).toISOString(),
      to: new Date(NOW).toISOString(),
    });
    expect(body.candles).toHaveLength(6);
    expect(body.candles[0]).toEqual({
      start: "2026-11-26T18:00:00.000Z",
      open: makeTick({}, 0).price,
      high: makeTick({}, 4).price,
      low: makeTick({}, 0).price,
      close: makeTick({}, 4).price,
      count: 5,
    });
  });

  test("defaults to hourly candles", async () => {
    const { app } = await setup();
    const body = await (await app.request("/api/candles/beldex")).json();
    expect(body.interval).toBe("1h");
    expect(body.candles).toHaveLength(1);
  });

  test("answers 400 for an unknown interval or a window with too many candles", async () => {
    const { app } = await setup();
    const interval = await app.request("/api/candles/beldex?interval=1m");
    expect(interval.status).toBe(400);
    expect((await interval.json()).issues[0].path).toBe("interval");
    const wide = await app.request("/api/candles/beldex?interval=5m&from=2010-01-01");
    expect(wide.status).toBe(400);
    expect((await wide.json()).error).toContain("window too wide");
  });

  test("answers 404 for an unknown pair", async () => {
    const { app } = await setup();
    expect((await app.request("/api/candles/dogecoin")).status).toBe(404);
  });
});

describe("GET /openapi.json", () => {
  test("is an OpenAPI 3.1 document describing every API route", async () => {
    const { app } = await setup();
    const res = await app.request("/openapi.json");
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual([
      "/api/candles/{asset}",
      "/api/history/{asset}",
      "/api/latest/{asset}",
      "/api/pairs",
      "/api/stream",
    ]);
    // Every $ref points at a defined schema.
    const refs = JSON.stringify(doc).match(/#\/components\/schemas\/\w+/g) ?? [];
    for (const ref of new Set(refs))
      expect(doc.components.schemas[ref.split("/").pop() as string]).toBeDefined();
  });
});

describe("typed client", () => {
  test("hc<StatusApp> sends typed parameters through app.request and reads typed bodies", async () => {
    const { app } = await setup();
    const client = hc<StatusApp>("http://status.test", { fetch: app.request });
    const history = client.api.history[":asset"];
    const res = await history.$get({ param: { asset: "beldex" }, query: { currency: "usd", limit: "2" } });
    if (res.status !== 200) throw new Error(`expected 200, got ${res.status}`);
    const body = await res.json();
    expect(body.limit).toBe(2);
    expect(body.ticks.map((tick) => tick.sourceUpdatedAt)).toEqual(
      [28, 29].map((minute) => makeTick({}, minute).sourceUpdatedAt),
    );

    const bad = await history.$get({ param: { asset: "beldex" }, query: { limit: "0" } });
    if (bad.status !== 400) throw new Error(`expected 400, got ${bad.status}`);
    expect((await bad.json()).issues?.map((issue) => issue.path)).toEqual(["limit"]);
  });
});

describe("sink failures", () => {
  test("answer 503 with a short reason, never the adapter's message", async () => {
    const { app } = await setup({ cache: brokenCache(), history: brokenHistory() });
    for (const path of [
      "/api/pairs",
      "/api/latest/beldex",
      "/api/latest/beldex?currency=usd",
      "/api/history/beldex",
      "/api/candles/beldex",
    ]) {
      const res = await app.request(path);
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(JSON.parse(text).error).toMatch(/^(cache|history) unavailable$/);
      expect(text).not.toContain("hunter2");
      expect(text).not.toContain("ECONNREFUSED");
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
  });

  test("answer 503 when a sink does not answer in time", async () => {
    const hanging = { ...createMemoryHistory(), range: () => new Promise<never>(() => {}) };
    const { app } = await setup({ history: hanging, sinkTimeoutMs: 20 });
    const res = await app.request("/api/history/beldex");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: "history unavailable" });
  });

  test("history still answers when only the cache is down", async () => {
    const { app } = await setup({ cache: brokenCache() });
    const res = await app.request("/api/history/beldex?limit=1");
    expect(res.status).toBe(200);
    expect((await res.json()).ticks).toHaveLength(1);
  });

  test("are logged with the reason the client does not see", async () => {
    const lines: unknown[] = [];
    const log = {
      debug() {},
      info() {},
      warn: (msg: string, fields?: Record<string, unknown>) => lines.push({ msg, ...fields }),
      error() {},
      child() {
        return log;
      },
      redact: (text: string) => text,
    };
    const { app } = await setup({ cache: brokenCache(), log });
    await app.request("/api/pairs");
    expect(JSON.stringify(lines)).toContain("ECONNREFUSED");
  });
});

describe("caching", () => {
  test("API answers carry an ETag and no-cache, and a matching If-None-Match gets an empty 304", async () => {
    const { app } = await setup();
    const first = await app.request("/api/latest/beldex?currency=usd");
    const tag = first.headers.get("etag");
    expect(tag).toMatch(/^"[0-9a-f]+"$/);
    expect(first.headers.get("cache-control")).toBe("no-cache");
    const again = await app.request("/api/latest/beldex?currency=usd", {
      headers: { "If-None-Match": tag ?? "" },
    });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("etag")).toBe(tag);
    expect(again.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  test("a list of validators, weak ones or `*` in If-None-Match get the 304 too, on every prepared answer", async () => {
    const { app } = await setup();
    for (const path of ["/api/pairs", "/api/latest/beldex", "/api/latest/beldex?currency=usd"]) {
      const tag = (await app.request(path)).headers.get("etag") ?? "";
      for (const validators of [`"other", W/${tag}`, "*", ` ${tag} `]) {
        const again = await app.request(path, { headers: { "If-None-Match": validators } });
        expect(again.status).toBe(304);
        expect(again.headers.get("cache-control")).toBe("no-cache");
        expect(again.headers.get("content-type")).toBeNull();
      }
      const other = await app.request(path, { headers: { "If-None-Match": '"other"' } });
      expect(other.status).toBe(200);
      expect(other.headers.get("content-type")).toBe("application/json");
    }
  });

  test("a new tick the consumer wrote changes the ETag at once", async () => {
    const written = createTickFeed();
    const { app, cache } = await setup({ written: written.subscribe });
    const before = (await app.request("/api/latest/beldex?currency=usd")).headers.get("etag");
    const tick = makeTick({ price: 0.08 }, 45);
    await cache.putIfNewer([tick]);
    written.publish([tick]);
    const after = await app.request("/api/latest/beldex?currency=usd", {
      headers: { "If-None-Match": before ?? "" },
    });
    expect(after.status).toBe(200);
    expect(after.headers.get("etag")).not.toBe(before);
  });
});

describe("security headers", () => {
  test("the page carries a strict same-origin CSP with no inline code, anti-framing and no referrer", async () => {
    const { app } = await setup();
    const res = await app.request("/");
    expect(res.headers.get("content-type")).toStartWith("text/html");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toMatch(/https?:/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("permissions-policy")).toContain("camera=()");
    expect(res.headers.get("x-powered-by")).toBeNull();
  });

  test("every other answer, JSON, errors, metrics and assets, lets nothing load and cannot be framed or sniffed", async () => {
    const { app } = await setup();
    for (const path of [
      "/api/pairs",
      "/api/latest/beldex",
      "/api/latest/beldex?currency=usd",
      "/api/latest/nope",
      "/api/history/%3Cx%3E",
      "/nowhere",
      "/metrics",
      "/healthz",
      "/openapi.json",
      "/assets/icon.svg",
    ]) {
      const res = await app.request(path);
      expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("cross-origin-resource-policy")).toBe("same-origin");
      expect(res.headers.get("strict-transport-security")).toStartWith("max-age=");
      // What only a document does (send a referrer, open windows, use the camera) is the page's to govern.
      expect(res.headers.get("referrer-policy")).toBeNull();
      expect(res.headers.get("permissions-policy")).toBeNull();
      expect(res.headers.get("x-powered-by")).toBeNull();
    }
  });

  test("an unknown route is a JSON 404", async () => {
    const { app } = await setup();
    const res = await app.request("/api/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "not found" });
  });
});
