// The status app over a latest cache that lost its keys while the history kept every tick: with a repair
// wired in, the API and the page answer from the history's newest ticks instead of 404 and "waiting".
import { describe, expect, test } from "bun:test";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { silentLogger } from "../lib/log.ts";
import { createLatestRepair } from "../lib/pipeline/latest-repair.ts";
import { createConsumerMetrics } from "../lib/pipeline/metrics.ts";
import { createStatusApp, type StatusDeps } from "../lib/status/app.ts";
import type { Tick } from "../lib/tick.ts";
import { makeTick } from "./support/ticks.ts";

const NEWEST = makeTick({}, 29);
const LAST = Date.parse(NEWEST.sourceUpdatedAt);

// 30 minutes of beldex in usd, plus beldex in eur and bitcoin in usd; the cache starts empty, as after FLUSHDB.
function seed(): Tick[] {
  return [
    ...Array.from({ length: 30 }, (_, minute) => makeTick({}, minute)),
    makeTick({ currency: "eur", price: 0.065 }, 29),
    makeTick({ asset: "bitcoin", price: 91_234.5 }, 29),
  ];
}

async function setup(options: { repair?: "shared" | "none"; deps?: Partial<StatusDeps> } = {}) {
  const cache = createMemoryCache();
  const history = createMemoryHistory();
  await history.upsert(seed());
  // Each repair run reads the history's latest ticks once: counting the reads counts the runs.
  let runs = 0;
  const latest = history.latest;
  history.latest = () => {
    runs++;
    return latest();
  };
  const repair = createLatestRepair({ history, cache, log: silentLogger, now: () => LAST });
  const app = createStatusApp({
    cache,
    history,
    // A consumer that has not seen a tick since it started: only the repair can tell the page a price.
    health: () => ({ metrics: createConsumerMetrics(), lag: null, startedAt: LAST }),
    fetchIntervalMs: 60_000,
    now: () => LAST + 30_000,
    ...(options.repair === "none" ? {} : { repair }),
    ...options.deps,
  });
  return { app, cache, history, runs: () => runs };
}

describe("status app over an emptied latest cache", () => {
  test("GET /api/latest/:asset?currency answers 200 with the history's newest tick", async () => {
    const { app, cache } = await setup();
    const res = await app.request("/api/latest/beldex?currency=usd");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ asset: "beldex", ticks: [NEWEST] });
    // The cache itself was repaired, every pair, not only the one asked for.
    expect(await cache.get("bitcoin", "usd")).toEqual(makeTick({ asset: "bitcoin", price: 91_234.5 }, 29));
  });

  test("GET /api/latest/:asset answers every currency the history knows", async () => {
    const { app } = await setup();
    const res = await app.request("/api/latest/beldex");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      asset: "beldex",
      ticks: [makeTick({ currency: "eur", price: 0.065 }, 29), NEWEST],
    });
  });

  test("GET /api/pairs lists the history's pairs", async () => {
    const { app } = await setup();
    expect(await (await app.request("/api/pairs")).json()).toEqual({
      pairs: [
        { asset: "beldex", currency: "eur" },
        { asset: "beldex", currency: "usd" },
        { asset: "bitcoin", currency: "usd" },
      ],
    });
  });

  test("the page shows the price, not the wait for a first tick", async () => {
    const { app } = await setup();
    const html = await (await app.request("/")).text();
    expect(html).toContain('data-field="price">$0.07410<');
    expect(html).not.toContain("Waiting for the first tick");
    expect(html).not.toContain('class="badge waiting"');
  });

  test("/readyz reports the data fresh from the repaired cache", async () => {
    const { app } = await setup();
    const res = await app.request("/readyz");
    expect(res.status).toBe(200);
    expect((await res.json()).checks.data).toBe("ok");
  });

  test("concurrent misses share one repair, and later misses within the interval start none", async () => {
    const { app, cache, runs } = await setup();
    const answers = await Promise.all(
      ["/api/latest/beldex?currency=usd", "/api/pairs", "/", "/api/latest/bitcoin"].map((path) =>
        app.request(path),
      ),
    );
    expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 200]);
    expect(runs()).toBe(1);
    expect(await cache.pairs()).toHaveLength(3);
    // Flushed again at once: the repair is rate-limited, yet a known pair is still answered, from the history.
    cache.entries.clear();
    const res = await app.request("/api/latest/beldex?currency=usd");
    expect(res.status).toBe(200);
    expect((await res.json()).ticks).toEqual([NEWEST]);
    expect(cache.entries.size).toBe(0);
    expect(runs()).toBe(1);
  });

  test("a pair the history does not know stays a 404 and starts no repair", async () => {
    const { app, cache, runs } = await setup();
    await cache.putIfNewer([NEWEST]);
    expect((await app.request("/api/latest/dogecoin?currency=usd")).status).toBe(404);
    expect(runs()).toBe(0);
  });

  test("a repair that hangs is waited for no longer than the sink timeout", async () => {
    const { app } = await setup({ deps: { repair: () => new Promise(() => {}), sinkTimeoutMs: 50 } });
    const started = performance.now();
    const res = await app.request("/api/latest/beldex?currency=usd");
    expect(performance.now() - started).toBeLessThan(1_000);
    // Answered from the history's newest tick although the cache was not repaired.
    expect(res.status).toBe(200);
    expect((await res.json()).ticks).toEqual([NEWEST]);
    expect((await app.request("/api/pairs")).status).toBe(200);
  });

  test("without a repair, an emptied cache is answered as it is", async () => {
    const { app } = await setup({ repair: "none" });
    expect((await app.request("/api/latest/beldex?currency=usd")).status).toBe(404);
    expect(await (await app.request("/api/pairs")).json()).toEqual({ pairs: [] });
    expect(await (await app.request("/")).text()).toContain("Waiting for the first tick");
  });
});
