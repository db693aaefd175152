// The rendered page is reused between ticks for at most a second, and rendered anew as soon as what it shows
// changes: a pair's newest tick, a dependency going down, the data turning stale.
import { describe, expect, test } from "bun:test";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { createConsumerMetrics, markDown } from "../lib/pipeline/metrics.ts";
import { createStatusApp } from "../lib/status/app.ts";
import { createPageCache } from "../lib/status/page-cache.ts";
import { makeTick } from "./support/ticks.ts";

describe("page cache", () => {
  test("keeps a page per key while its stamp holds and for at most maxAgeMs; shares a render in flight", async () => {
    let now = 0;
    const pages = createPageCache({ now: () => now, maxAgeMs: 1_000 });
    let n = 0;
    const render = async () => `page ${++n}`;
    const [a, b] = await Promise.all([pages.get("k", "s1", render), pages.get("k", "s1", render)]);
    expect([a, b]).toEqual(["page 1", "page 1"]);
    now = 999;
    expect(await pages.get("k", "s1", render)).toBe("page 1");
    expect(await pages.get("other", "s1", render)).toBe("page 2");
    expect(await pages.get("k", "s2", render)).toBe("page 3");
    now = 2_000;
    expect(await pages.get("k", "s2", render)).toBe("page 4");
    expect(pages.renders).toBe(4);
  });

  test("does not keep a render that failed", async () => {
    const pages = createPageCache({ now: () => 0 });
    await expect(pages.get("k", "s", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await Bun.sleep(0);
    expect(await pages.get("k", "s", async () => "ok")).toBe("ok");
  });
});

describe("GET / between ticks", () => {
  test("answers the same page until a tick, a failing dependency or a second changes what it shows", async () => {
    const first = makeTick({}, 1);
    let now = Date.parse(first.sourceUpdatedAt) + 5_000;
    const cache = createMemoryCache();
    const history = createMemoryHistory();
    await cache.putIfNewer([first]);
    await history.upsert([first]);
    const metrics = createConsumerMetrics();
    const app = createStatusApp({
      cache,
      history,
      health: () => ({ metrics, lag: 0, startedAt: now - 60_000 }),
      fetchIntervalMs: 600_000,
      now: () => now,
    });
    const body = async () => (await app.request("/")).text();
    const page1 = await body();
    now += 500;
    expect(await body()).toBe(page1);

    const second = makeTick({ price: 0.09 }, 2);
    await cache.putIfNewer([second]);
    await history.upsert([second]);
    const page2 = await body();
    expect(page2).not.toBe(page1);
    expect(page2).toContain("$0.09000");

    markDown(metrics, "history", { error: "history: upsert failed", fix: "check DATABASE_URL" }, now);
    const page3 = await body();
    expect(page3).toContain("history down: check DATABASE_URL");

    now += 1_000;
    expect(await body()).not.toBe(page3); // the age and uptime it prints moved on
  });
});
