import { describe, expect, test } from "bun:test";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { RANGE_LIMIT } from "../lib/candles.ts";
import { type ConsumerMetrics, createConsumerMetrics, markDown } from "../lib/pipeline/metrics.ts";
import type { HistoryStore } from "../lib/ports.ts";
import { createStatusApp, createTickFeed, type StatusDeps } from "../lib/status/app.ts";
import { CHART_COLUMNS } from "../lib/status/chart-model.ts";
import { formatPrice } from "../lib/status/format.ts";
import type { Tick } from "../lib/tick.ts";
import { makeTick } from "./support/ticks.ts";

const MINUTE = 60_000;
const LAST = Date.parse(makeTick({}, 29).sourceUpdatedAt);

interface Options extends Partial<StatusDeps> {
  at?: number;
  ticks?: Tick[];
  metrics?: Partial<ConsumerMetrics>;
  lag?: number | null;
  demo?: boolean;
}

async function setup({ at = LAST + 30_000, ticks, metrics, lag = null, demo, ...deps }: Options = {}) {
  const cache = createMemoryCache();
  const history = createMemoryHistory();
  const seeded = ticks ?? [
    ...Array.from({ length: 30 }, (_, minute) => makeTick({}, minute)),
    makeTick(
      { asset: "bitcoin", price: 91_234.5, change24hPct: 2.25, marketCap: 1.8e12, volume24h: 3.4e10 },
      29,
    ),
  ];
  await cache.putIfNewer(seeded);
  await history.upsert(seeded);
  const counters = { ...createConsumerMetrics(), ...metrics };
  const app = createStatusApp({
    cache,
    history,
    health: () => ({ metrics: counters, lag, startedAt: LAST - 3_600_000, demo }),
    fetchIntervalMs: MINUTE,
    now: () => at,
    subscribe: createTickFeed().subscribe,
    ...deps,
  });
  return { app, cache, history };
}

async function page(app: Awaited<ReturnType<typeof setup>>["app"], path = "/") {
  const res = await app.request(path);
  return { res, html: await res.text() };
}

// The price card of a pair (the body also names the selected pair in a data-pair attribute).
const card = (html: string, pair: string) => between(html, `data-pair="${pair}" data-p=`, "</a>");

const between = (html: string, start: string, end: string) => {
  const from = html.indexOf(start);
  return from < 0 ? "" : html.slice(from, html.indexOf(end, from));
};

describe("GET / (status page)", () => {
  test("is an HTML document in English, readable on a phone, light and dark", async () => {
    const { app } = await setup();
    const { res, html } = await page(app);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=UTF-8");
    expect(html.startsWith('<!doctype html><html lang="en">')).toBe(true);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"/>');
    expect(html).toContain('<meta name="color-scheme" content="light dark"/>');
    expect(html).toMatch(/<link rel="stylesheet" href="\/assets\/style\.css\?v=\w+"\/>/);
    expect(html).toMatch(/<script type="module" src="\/assets\/live\.js\?v=\w+"><\/script>/);
  });

  test("shows each pair's latest price with precision suited to its size, and compact market figures", async () => {
    const { app } = await setup();
    const { html } = await page(app);
    const beldex = card(html, "beldex:usd");
    expect(beldex).toContain('<span class="price" data-field="price">$0.07410</span>');
    expect(beldex).toContain(">$512M<");
    expect(beldex).toContain(">$2.1M<");
    const bitcoin = card(html, "bitcoin:usd");
    expect(bitcoin).toContain(">$91,234.50<");
    expect(bitcoin).toContain(">$1.8T<");
    expect(bitcoin).toContain(">$34B<");
  });

  test("shows the 24h change with a sign, an arrow, a colour class and a sentence for screen readers", async () => {
    const { app } = await setup();
    const { html } = await page(app);
    const down = card(html, "beldex:usd");
    expect(down).toContain('class="change down"');
    expect(down).toContain(">▼<");
    expect(down).toContain(">\u22121.30%<");
    expect(down).toContain(
      '<span class="visually-hidden" data-field="change-label">down 1.30% in 24 hours</span>',
    );
    const up = card(html, "bitcoin:usd");
    expect(up).toContain('class="change up"');
    expect(up).toContain(">+2.25%<");
    expect(up).toContain("up 2.25% in 24 hours");
  });

  test("draws a chart with one point per history row of the range, labelled for assistive technology", async () => {
    const { app } = await setup();
    const { html } = await page(app);
    const svg = between(html, '<svg xmlns="http://www.w3.org/2000/svg" class="plot-svg"', ">");
    expect(svg).toContain('role="img"');
    expect(svg).toContain('data-points="30"');
    expect(svg).toContain(
      'aria-label="Price of Beldex in USD over the last 24 hours: 30 points, low $0.07120, high $0.07410, up 4.07%, no gaps, data since Nov 26, 18:00"',
    );
    const line = html.match(/<path class="line" data-role="line" d="([^"]*)"/)?.[1] ?? "";
    expect(line.split(/[ML]/).filter(Boolean)).toHaveLength(30);
    expect(html).toContain("24h change (chart)");
    expect(html).toContain("No gaps longer than 2m 00s in the last 24h.");
    expect(html).toContain('<dd data-role="high">$0.07410</dd>');
    expect(html).toContain('<dd data-role="low">$0.07120</dd>');
  });

  test("switches the chart's range with links, keeping the pair", async () => {
    const old = makeTick({}, -3 * 24 * 60);
    const { app } = await setup({
      ticks: [old, ...Array.from({ length: 5 }, (_, minute) => makeTick({}, minute))],
    });
    const day = await page(app, "/?pair=beldex:usd&range=24h");
    expect(day.html).toContain('data-points="5"');
    const week = await page(app, "/?pair=beldex:usd&range=7d");
    expect(week.html).toContain('data-points="6"');
    expect(week.html).toContain(
      '<a href="/?pair=beldex%3Ausd&amp;range=7d" data-nav="" aria-current="page">7d</a>',
    );
    expect(week.html).toContain('<a href="/?pair=beldex%3Ausd&amp;range=30d" data-nav="">30d</a>');
  });

  test("shows the pair chosen with ?pair=, and falls back to the first pair for a bad or unknown one", async () => {
    const { app } = await setup();
    const bitcoin = await page(app, "/?pair=bitcoin:usd");
    expect(bitcoin.html).toContain('<body data-pair="bitcoin:usd"');
    expect(card(bitcoin.html, "bitcoin:usd")).toContain('aria-current="true"');
    for (const query of ["?pair=dogecoin:usd", "?pair=%3Cscript%3E", "?range=1y", "?pair=a&pair=b"]) {
      const fallback = await page(app, `/${query}`);
      expect(fallback.res.status).toBe(200);
      expect(fallback.html).toContain('<body data-pair="beldex:usd"');
    }
  });

  test("opens on the first configured asset in the first configured currency, and lists cache-only pairs last", async () => {
    const pairs = { assets: ["bitcoin", "ethereum", "beldex"], currencies: ["usd", "eur"] };
    const ticks = ["beldex:usd", "bitcoin:eur", "bitcoin:usd", "dogecoin:usd", "ethereum:usd"].map((pair) => {
      const [asset, currency] = pair.split(":") as [string, string];
      return makeTick({ asset, currency }, 29);
    });
    const { app } = await setup({ ticks, pairs });
    const { html } = await page(app);
    expect(html).toContain('<body data-pair="bitcoin:usd"');
    const order = [...html.matchAll(/<a class="card" href="[^"]*" data-nav="" data-pair="([^"]+)"/g)].map(
      (m) => m[1],
    );
    expect(order).toEqual(["bitcoin:usd", "bitcoin:eur", "ethereum:usd", "beldex:usd", "dogecoin:usd"]);
    // A configured pair without a price yet can be asked for; the default skips it.
    const later = await setup({ ticks: ticks.slice(0, 1), pairs });
    expect((await page(later.app)).html).toContain('<body data-pair="beldex:usd"');
    expect((await page(later.app, "/?pair=ethereum:eur")).html).toContain('<body data-pair="ethereum:eur"');
  });

  test("offers a selector of plain links grouped by asset, keeping the range, only when there is a choice", async () => {
    const pairs = { assets: ["bitcoin", "beldex"], currencies: ["usd", "eur"] };
    const { app } = await setup({ pairs });
    const { html } = await page(app, "/?range=7d");
    const nav = between(html, '<nav class="pairs" aria-label="Pairs"', "</nav>");
    const links = [...nav.matchAll(/<a href="([^"]+)"[^>]*data-pair-option="([^"]+)"[^>]*>(.*?)<\/a>/g)];
    expect(links.map((m) => m[2])).toEqual(["bitcoin:usd", "bitcoin:eur", "beldex:usd", "beldex:eur"]);
    expect(links[0]?.[1]).toBe("/?pair=bitcoin%3Ausd&amp;range=7d");
    expect(links[0]?.[0]).toContain('aria-current="page"');
    // Each link names its pair for a screen reader; a pair without a price says so.
    expect(links[1]?.[3]).toBe(
      '<span class="visually-hidden">Bitcoin in </span>EUR<span class="visually-hidden"> (no price yet)</span>',
    );
    const single = await setup({ ticks: [makeTick({}, 29)] });
    expect((await page(single.app)).html).not.toContain('aria-label="Pairs"');
  });

  test("labels the card's change as CoinGecko's 24h change, and the demo's as the demo's", async () => {
    const { app } = await setup();
    expect(card((await page(app)).html, "beldex:usd")).toContain(
      '<span class="muted" data-field="change-source">CoinGecko 24h change</span>',
    );
    const demo = await setup({ ticks: [makeTick({ source: "demo" }, 29)] });
    expect(card((await page(demo.app)).html, "beldex:usd")).toContain(">demo 24h change<");
  });

  test("puts the chart of the selected pair before the cards, and every banner inside the main landmark", async () => {
    const { app } = await setup({ demo: true });
    const { html } = await page(app);
    const main = html.indexOf('<main id="main">');
    expect(main).toBeGreaterThan(0);
    expect(html.indexOf('<p class="banner" role="note">')).toBeGreaterThan(main);
    expect(html.indexOf('id="chart-title"')).toBeLessThan(html.indexOf('id="prices-title"'));
  });

  test("draws the low and high of each column when a range holds more ticks than one read returns", async () => {
    // One tick a minute for a week and a bit, with one spike: more than a range read returns.
    const ticks = Array.from({ length: RANGE_LIMIT.max + 500 }, (_, i) =>
      makeTick({ price: i === 4000 ? 5 : 1 + (i % 100) / 1000 }, i),
    );
    const at = Date.parse(ticks[ticks.length - 1]?.sourceUpdatedAt ?? "") + MINUTE;
    const { app } = await setup({ ticks, at });
    const { html } = await page(app, "/?range=7d");
    const drawn = Number(/data-points="(\d+)"/.exec(html)?.[1]);
    expect(drawn).toBeGreaterThan(100);
    expect(drawn).toBeLessThanOrEqual(2 * CHART_COLUMNS + 2);
    expect(html).toContain("low and high");
    // The spike survives the reduction.
    expect(html).toContain(`<dd data-role="high">${formatPrice(5, "usd")}</dd>`);
  });

  test("lists the recent points, newest first, each with its change from the one before", async () => {
    const { app } = await setup();
    const { html } = await page(app);
    const table = between(html, '<table class="recent"', "</table>");
    expect(table).toContain("<caption>Most recent prices of Beldex in USD</caption>");
    const rows = table.match(/<tr data-t=/g) ?? [];
    expect(rows).toHaveLength(12);
    const first = between(table, "<tr data-t=", "</tr>");
    expect(first).toContain(">18:29:00<");
    expect(first).toContain(">$0.07410<");
    expect(first).toContain("+0.14%");
    expect(first).toContain("up 0.14% from the previous point");
  });

  test("shows the pipeline health: last tick age, counters and lag", async () => {
    const { app } = await setup({
      lag: 17,
      metrics: {
        consumed: 1234,
        written: 1200,
        duplicates: 30,
        deadLettered: 4,
        sinkErrors: 1,
        batches: 9,
        lastBatchMs: 42,
      },
    });
    const { html } = await page(app);
    const panel = between(html, 'aria-labelledby="health-title"', "</section>");
    expect(panel).toContain('data-state="fresh"');
    expect(panel).toContain(">Fresh<");
    expect(panel).toContain(">30s ago<");
    expect(panel).toContain("stale after 2m 00s");
    expect(panel).toContain('<dd data-health="consumed">1,234</dd>');
    expect(panel).toContain('<dd data-health="deadLettered">4</dd>');
    expect(panel).toContain('<dd data-health="lag">17</dd>');
    expect(panel).toContain('<dd data-health="lastBatch">42 ms</dd>');
  });

  test("shows a stale badge once the newest tick is older than twice the fetch interval", async () => {
    const fresh = await page((await setup({ at: LAST + 2 * MINUTE })).app);
    expect(fresh.html).toContain('class="badge fresh"');
    const stale = await page((await setup({ at: LAST + 2 * MINUTE + 1 })).app);
    expect(stale.html).toContain('class="badge stale"');
    expect(stale.html).toContain(">Stale<");
    expect(stale.html).toContain(">2m 00s ago<");
  });

  test("says the lag is unknown rather than zero", async () => {
    const { app } = await setup({ lag: null });
    expect((await page(app)).html).toContain('<dd data-health="lag">—</dd>');
  });

  test("shows a demo banner only for demo data", async () => {
    expect((await page((await setup({ demo: true })).app)).html).toContain("<strong>Demo data.</strong>");
    expect((await page((await setup()).app)).html).not.toContain("Demo data");
  });

  test("waits politely for the first tick", async () => {
    const { app } = await setup({ ticks: [] });
    const { res, html } = await page(app);
    expect(res.status).toBe(200);
    expect(html).toContain("Waiting for the first tick");
    expect(html).toContain('class="badge waiting"');
    expect(html).toContain(">not yet received<");
  });

  test("still renders, with an alert, when a sink is down", async () => {
    const broken: HistoryStore = {
      ...createMemoryHistory(),
      range: async () => {
        throw new Error("postgres://belly:s3cret@db");
      },
      recent: async () => {
        throw new Error("postgres://belly:s3cret@db");
      },
    };
    const { app } = await setup({ history: broken });
    const { res, html } = await page(app);
    expect(res.status).toBe(200);
    expect(html).toContain('<p class="alert" role="alert">The price history is unavailable');
    expect(html.match(/role="alert"/g)).toHaveLength(1);
    expect(html).toContain('data-points="0"');
    expect(html).toContain('data-field="price">$0.07410<');
    expect(html).not.toContain("s3cret");
  });

  test("is a snapshot without the script when live updates are not wired", async () => {
    const { app } = await setup({ subscribe: undefined });
    const { html } = await page(app);
    expect(html).not.toContain("<script");
    expect(html).toContain(">Snapshot<");
  });
});

describe("escaping", () => {
  test("text from a tick (its free-form source) is escaped, never markup", async () => {
    const evil = '<img src=x onerror="alert(1)">';
    const { app } = await setup({ ticks: [makeTick({ source: evil }, 1)] });
    const { html } = await page(app);
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  });

  test("query values never reach the page unescaped", async () => {
    const { app } = await setup();
    const { html } = await page(app, '/?pair="><script>alert(1)</script>&range="><b>');
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("<b>");
  });

  test("the page has no inline script, inline style or event-handler attribute (the CSP would refuse them)", async () => {
    const { app } = await setup();
    const { html } = await page(app);
    for (const script of html.match(/<script[^>]*>/g) ?? []) expect(script).toMatch(/ src="\/assets\//);
    expect(html).not.toMatch(/<style/);
    expect(html).not.toMatch(/\sstyle="/);
    expect(html).not.toMatch(/\son[a-z]+="/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });
});

describe("assets", () => {
  test("the stylesheet, icon and live script are served from the app with their types", async () => {
    const { app } = await setup();
    const { html } = await page(app);
    for (const [pattern, type] of [
      [/href="(\/assets\/style\.css\?v=\w+)"/, "text/css; charset=utf-8"],
      [/href="(\/assets\/icon\.svg\?v=\w+)"/, "image/svg+xml"],
      [/src="(\/assets\/live\.js\?v=\w+)"/, "text/javascript; charset=utf-8"],
    ] as const) {
      const url = html.match(pattern)?.[1] ?? "";
      const res = await app.request(url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(type);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect((await res.text()).length).toBeGreaterThan(100);
    }
  });

  test("the live script is a self-contained bundle: it imports nothing and needs no server code", async () => {
    const { app } = await setup();
    const script = await (await app.request("/assets/live.js")).text();
    expect(script).not.toMatch(/\bimport\s*[{(*"']/);
    expect(script).toContain("EventSource");
    expect(script).not.toContain("zod");
    expect(script.length).toBeLessThan(30_000);
  });

  test("an unversioned asset is revalidated with its ETag", async () => {
    const { app } = await setup();
    const first = await app.request("/assets/style.css");
    expect(first.headers.get("cache-control")).toBe("no-cache");
    const again = await app.request("/assets/style.css", {
      headers: { "If-None-Match": first.headers.get("etag") ?? "" },
    });
    expect(again.status).toBe(304);
  });
});

/** Counters of a consumer whose history went down at `since` for a wrong password. */
function historyDown(
  since: number,
  error = 'history: upsert failed: password authentication failed for user "belly"',
) {
  const metrics = createConsumerMetrics();
  markDown(metrics, "history", { error, fix: "check the password in DATABASE_URL" }, since);
  return metrics;
}

// The live pill of the header.
const pill = (html: string) => between(html, 'data-role="live"', "</header>");

describe("status page while a dependency is down", () => {
  test("the header pill says Connecting… (then Live) only while every dependency is up", async () => {
    const { html } = await page((await setup()).app);
    expect(pill(html)).toContain('data-state="connecting"');
    expect(pill(html)).toContain(">Connecting…<");
    expect(html).not.toContain('data-health="down"');
  });

  test("the header pill names the down dependency and its fix instead of Live", async () => {
    const { html } = await page((await setup({ metrics: historyDown(LAST - 60_000) })).app);
    expect(pill(html)).toContain('data-state="down"');
    expect(pill(html)).toContain('data-down="history down: check the password in DATABASE_URL"');
    expect(pill(html)).toContain('data-role="live-text">history down: check the password in DATABASE_URL<');
  });

  test("the health panel's alert says since when, the error and the fix", async () => {
    const { html } = await page((await setup({ metrics: historyDown(LAST - 60_000) })).app);
    const alert = between(html, '<div class="alert" role="alert" data-health="down">', "</div>");
    expect(alert).toContain(
      "history down since 18:28:00 UTC (1m 30s): history: upsert failed: password authentication failed for user &quot;belly&quot;. Fix: check the password in DATABASE_URL.",
    );
    expect(html).not.toContain("The consumer's last write to a sink failed");
  });

  test("a snapshot page (no live updates) names the down dependency too", async () => {
    const { html } = await page((await setup({ subscribe: undefined, metrics: historyDown(LAST) })).app);
    expect(pill(html)).toContain(">history down: check the password in DATABASE_URL<");
    expect(html).not.toContain(">Snapshot<");
  });

  test("escapes the error line, which is free text from a driver", async () => {
    const evil = '<img src=x onerror="alert(1)">';
    const { html } = await page((await setup({ metrics: historyDown(LAST, evil) })).app);
    expect(html).not.toContain(evil);
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  });
});
