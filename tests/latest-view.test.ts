// The in-process latest view behind /api/latest and /api/pairs: newest wins, pairs it did not see written are
// read from the cache at most once per TTL, answers and ETags are made once per change, and a restart fills
// the view from the cache.
import { describe, expect, test } from "bun:test";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { createConsumerMetrics } from "../lib/pipeline/metrics.ts";
import type { LatestCache } from "../lib/ports.ts";
import { createStatusApp, createTickFeed } from "../lib/status/app.ts";
import { createLatestView, etagOf } from "../lib/status/latest-view.ts";
import { makeTick } from "./support/ticks.ts";

// A memory cache that counts its reads, to tell an answer from memory from one read through.
function countedCache() {
  const cache = createMemoryCache();
  const reads = { get: 0, pairs: 0 };
  const counted: LatestCache & { entries: typeof cache.entries } = {
    ...cache,
    get: (asset, currency) => {
      reads.get++;
      return cache.get(asset, currency);
    },
    pairs: () => {
      reads.pairs++;
      return cache.pairs();
    },
  };
  return { cache: counted, reads };
}

function clock() {
  let at = 0;
  return {
    now: () => at,
    advance: (ms: number) => {
      at += ms;
    },
  };
}

const bodyOf = async (answer: Promise<{ body: string } | null>) => JSON.parse((await answer)?.body ?? "null");

describe("latest view", () => {
  test("newest wins: neither an older write nor an older cache read moves a pair backwards", async () => {
    const { cache } = countedCache();
    const time = clock();
    const view = createLatestView({ cache, ttlMs: 1000, now: time.now });
    view.apply([makeTick({ price: 0.09 }, 10)]);
    view.apply([makeTick({ price: 0.01 }, 5)]);
    expect((await bodyOf(view.pair("beldex", "usd"))).ticks).toEqual([makeTick({ price: 0.09 }, 10)]);
    // Another writer's older tick in the cache, read once the TTL passed.
    await cache.putIfNewer([makeTick({ price: 0.02 }, 7)]);
    time.advance(1000);
    expect((await bodyOf(view.pair("beldex", "usd"))).ticks).toEqual([makeTick({ price: 0.09 }, 10)]);
  });

  test("a pair the view does not hold is read through, then answered from memory until the TTL passes", async () => {
    const { cache, reads } = countedCache();
    const time = clock();
    await cache.putIfNewer([makeTick({ asset: "bitcoin", price: 90_000 }, 1)]);
    const view = createLatestView({ cache, ttlMs: 1000, now: time.now });
    expect((await bodyOf(view.pair("bitcoin", "usd"))).ticks[0].price).toBe(90_000);
    expect(reads.get).toBe(1);
    // Another consumer of the group writes the pair: not seen before the TTL, seen right after.
    await cache.putIfNewer([makeTick({ asset: "bitcoin", price: 91_000 }, 2)]);
    time.advance(999);
    expect((await bodyOf(view.pair("bitcoin", "usd"))).ticks[0].price).toBe(90_000);
    expect(reads.get).toBe(1);
    time.advance(1);
    expect((await bodyOf(view.pair("bitcoin", "usd"))).ticks[0].price).toBe(91_000);
    expect(reads.get).toBe(2);
  });

  test("concurrent requests for a pair past its TTL share one cache read", async () => {
    const { cache, reads } = countedCache();
    await cache.putIfNewer([makeTick({}, 1)]);
    const view = createLatestView({ cache, now: () => 0 });
    await Promise.all(Array.from({ length: 20 }, () => view.pair("beldex", "usd")));
    expect(reads.get).toBe(1);
  });

  test("a pair no sink knows is null, and new pairs another consumer lists show after the TTL", async () => {
    const { cache } = countedCache();
    const time = clock();
    await cache.putIfNewer([makeTick({}, 1)]);
    const view = createLatestView({ cache, ttlMs: 1000, now: time.now });
    expect(await view.pair("dogecoin", "usd")).toBeNull();
    expect(JSON.parse((await view.pairs()).body).pairs).toEqual([{ asset: "beldex", currency: "usd" }]);
    await cache.putIfNewer([makeTick({ currency: "eur" }, 1)]);
    time.advance(1000);
    expect(JSON.parse((await view.pairs()).body).pairs).toEqual([
      { asset: "beldex", currency: "eur" },
      { asset: "beldex", currency: "usd" },
    ]);
    expect((await bodyOf(view.asset("beldex"))).ticks).toHaveLength(2);
  });

  test("the ETag is the body's SHA-1 and changes only when the body does", async () => {
    const { cache } = countedCache();
    const view = createLatestView({ cache, now: () => 0 });
    view.apply([makeTick({}, 1), makeTick({ currency: "eur" }, 1)]);
    const first = await view.pair("beldex", "usd");
    const asset = await view.asset("beldex");
    expect(first?.etag).toBe(etagOf(first?.body ?? ""));
    expect(first?.etag).toMatch(/^"[0-9a-f]{40}"$/);
    // The same tick again (a replay) and an older one change nothing, not even the answer's identity.
    view.apply([makeTick({}, 1), makeTick({}, 0)]);
    expect(await view.pair("beldex", "usd")).toBe(first as NonNullable<typeof first>);
    expect(await view.asset("beldex")).toBe(asset as NonNullable<typeof asset>);
    view.apply([makeTick({}, 2)]);
    expect((await view.pair("beldex", "usd"))?.etag).not.toBe(first?.etag);
    expect((await view.asset("beldex"))?.etag).not.toBe(asset?.etag);
  });
});

describe("status app over the latest view", () => {
  async function setup(cache: LatestCache = createMemoryCache()) {
    const written = createTickFeed();
    const app = createStatusApp({
      cache,
      history: createMemoryHistory(),
      health: () => ({ metrics: createConsumerMetrics(), lag: null, startedAt: 0 }),
      fetchIntervalMs: 60_000,
      written: written.subscribe,
    });
    // The consumer's order: the cache write, then the feed.
    const write = async (ticks: ReturnType<typeof makeTick>[]) => {
      await cache.putIfNewer(ticks);
      written.publish(ticks);
    };
    return { app, write };
  }

  test("an unchanged answer is a 304 with no-cache on every latest route and /api/pairs", async () => {
    const { app, write } = await setup();
    await write([makeTick({}, 1), makeTick({ currency: "eur" }, 1)]);
    for (const path of ["/api/latest/beldex", "/api/latest/beldex?currency=eur", "/api/pairs"]) {
      const first = await app.request(path);
      expect(first.status).toBe(200);
      expect(first.headers.get("content-type")).toBe("application/json");
      expect(first.headers.get("etag")).toBe(etagOf(await first.text()));
      const again = await app.request(path, {
        headers: { "If-None-Match": first.headers.get("etag") ?? "" },
      });
      expect(again.status).toBe(304);
      expect(again.headers.get("cache-control")).toBe("no-cache");
      expect(await again.text()).toBe("");
    }
  });

  test("a restarted consumer fills its view from the cache and answers without reading it per request", async () => {
    const { cache, reads } = countedCache();
    const before = await setup(cache);
    await before.write([makeTick({}, 3), makeTick({ asset: "bitcoin", price: 90_000 }, 3)]);
    const expected = await (await before.app.request("/api/latest/beldex")).text();

    const after = await setup(cache);
    // The fill runs in the background from the app's creation: wait for its reads to land.
    while (reads.get < 2) await Bun.sleep(1);
    await Bun.sleep(1);
    const counted = { ...reads };
    expect(await (await after.app.request("/api/latest/beldex")).text()).toBe(expected);
    expect((await after.app.request("/api/latest/bitcoin?currency=usd")).status).toBe(200);
    expect(reads).toEqual(counted);
  });
});
