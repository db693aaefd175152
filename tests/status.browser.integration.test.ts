import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { createConsumerMetrics, markDown, markUp } from "../lib/pipeline/metrics.ts";
import { createStatusApp, createTickFeed, serveStatus } from "../lib/status/app.ts";
import { formatPrice } from "../lib/status/format.ts";
import type { Tick } from "../lib/tick.ts";
import { launchChromium, watchErrors } from "./support/browser.ts";
import { makeTick } from "./support/ticks.ts";

const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));
/** History points of the charted pair: one every 15 minutes over the last 24 hours. */
const POINTS = 96;
const STEP_MS = 15 * 60_000;
const START = Date.UTC(2026, 10, 25, 18, 0);

// A seeded random walk, so the screenshot looks like a market and is the same on every run.
function walk(count: number, start: number, seed: number): number[] {
  let state = seed;
  const prices: number[] = [];
  let price = start;
  for (let i = 0; i < count; i++) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    price *= 1 + (state / 2 ** 31 - 0.48) * 0.012;
    prices.push(price);
  }
  return prices;
}

function tickAt(at: number, overrides: Partial<Tick>): Tick {
  const iso = new Date(at).toISOString();
  return makeTick({ sourceUpdatedAt: iso, fetchedAt: iso, ...overrides });
}

const beldex = walk(POINTS, 0.0712, 7).map((price, i) =>
  tickAt(START + i * STEP_MS, { price, change24hPct: 2.84, marketCap: 512_400_000, volume24h: 2_130_000 }),
);
const others = [
  tickAt(START + (POINTS - 1) * STEP_MS, {
    asset: "bitcoin",
    price: 91_234.5,
    change24hPct: -0.72,
    marketCap: 1.81e12,
    volume24h: 3.4e10,
  }),
  tickAt(START + (POINTS - 1) * STEP_MS, {
    asset: "ethereum",
    price: 3_104.27,
    change24hPct: 1.05,
    marketCap: 3.74e11,
    volume24h: 1.6e10,
  }),
];
const lastSeeded = beldex[POINTS - 1] as Tick;

let browser: Browser;
let server: ReturnType<typeof serveStatus>;
let page: Page;
let errors: string[];
const feed = createTickFeed();
const metrics = {
  ...createConsumerMetrics(),
  consumed: 1_284,
  written: 1_190,
  duplicates: 88,
  deadLettered: 6,
  batches: 214,
  lastBatchMs: 38,
};

beforeAll(async () => {
  const cache = createMemoryCache();
  const history = createMemoryHistory();
  await cache.putIfNewer([...beldex, ...others]);
  await history.upsert([...beldex, ...others]);
  // The server's clock starts 20 s after the newest tick and runs at real speed.
  const base = Date.parse(lastSeeded.sourceUpdatedAt) + 20_000;
  const started = Date.now();
  const app = createStatusApp({
    cache,
    history,
    health: () => ({ metrics, lag: 4, startedAt: base - 5 * 3_600_000 }),
    fetchIntervalMs: 60_000,
    now: () => base + (Date.now() - started),
    subscribe: feed.subscribe,
  });
  server = serveStatus(app, 0, "127.0.0.1");
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  errors = watchErrors(page);
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop(true);
});

const url = (path = "/?pair=beldex:usd&range=24h") => new URL(path, server.url).href;

describe("status page in Chromium", () => {
  test("shows the seeded latest price and goes live", async () => {
    await page.goto(url());
    const price = page.locator('a.card[data-pair="beldex:usd"] [data-field="price"]');
    expect(await price.textContent()).toBe(formatPrice(lastSeeded.price, "usd"));
    await page.locator('[data-role="live"][data-state="live"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('[data-role="live-text"]').textContent()).toBe("Live");
  });

  test("draws one chart point per history row", async () => {
    const svg = page.locator("svg.plot-svg");
    expect(await svg.getAttribute("data-points")).toBe(String(POINTS));
    const vertices = await page
      .locator('[data-role="line"]')
      .evaluate((line) => (line.getAttribute("d")?.match(/[ML]/g) ?? []).length);
    expect(vertices).toBe(POINTS);
    const box = await svg.boundingBox();
    expect(box?.width).toBeGreaterThan(900);
    expect(box?.height).toBeGreaterThan(200);
  });

  test("a published tick shows up over SSE without a reload", async () => {
    await page.evaluate(() => {
      (window as unknown as { marker: string }).marker = "same page";
    });
    const next = tickAt(Date.parse(lastSeeded.sourceUpdatedAt) + 60_000, {
      price: lastSeeded.price * 1.021,
      change24hPct: 3.41,
      marketCap: 523_000_000,
    });
    feed.publish([next]);
    const expected = formatPrice(next.price, "usd");
    await page.waitForFunction(
      (text) =>
        document.querySelector('a.card[data-pair="beldex:usd"] [data-field="price"]')?.textContent === text,
      expected,
      { timeout: 10_000 },
    );
    expect(await page.locator("svg.plot-svg").getAttribute("data-points")).toBe(String(POINTS + 1));
    expect(
      await page
        .locator('[data-role="line"]')
        .evaluate((line) => (line.getAttribute("d")?.match(/[ML]/g) ?? []).length),
    ).toBe(POINTS + 1);
    const firstRow = page.locator('[data-role="rows"] tr').first();
    expect(await firstRow.locator("td").nth(1).textContent()).toBe(expected);
    expect(await firstRow.locator('[data-field="change-text"]').textContent()).toBe("+2.10%");
    expect(
      await page.locator('a.card[data-pair="beldex:usd"] [data-field="change-text"]').textContent(),
    ).toBe("+3.41%");
    expect(await page.title()).toBe(`Beldex ${expected} · belly-stream`);
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe("same page");
  });

  test("a tick of another pair updates its card only", async () => {
    const ethereum = tickAt(Date.parse(lastSeeded.sourceUpdatedAt) + 90_000, {
      asset: "ethereum",
      price: 3_050.1,
      change24hPct: -0.4,
    });
    feed.publish([ethereum]);
    await page.waitForFunction(
      () =>
        document.querySelector('a.card[data-pair="ethereum:usd"] [data-field="price"]')?.textContent ===
        "$3,050.10",
      undefined,
      { timeout: 10_000 },
    );
    expect(
      await page.locator('a.card[data-pair="ethereum:usd"] [data-field="change"]').getAttribute("class"),
    ).toBe("change down");
    expect(await page.locator("svg.plot-svg").getAttribute("data-points")).toBe(String(POINTS + 1));
  });

  test("hovering the chart reads out the nearest point", async () => {
    const box = await page.locator("svg.plot-svg").boundingBox();
    if (!box) throw new Error("chart not visible");
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const tooltip = page.locator('[data-role="tooltip"]');
    await tooltip.waitFor({ state: "visible" });
    expect(await tooltip.textContent()).toMatch(/^\$0\.0\d+Nov 2[56], \d\d:\d\d UTC$/);
    await page.mouse.move(0, 0);
    await tooltip.waitFor({ state: "hidden" });
  });

  test("writes desktop, mobile and dark screenshots", async () => {
    await page.mouse.move(0, 0);
    // Animations (the price flash) are finished first, so the picture shows the settled page.
    await page.screenshot({ path: `${ARTIFACTS}status-page.png`, fullPage: true, animations: "disabled" });
    const mobile = await browser.newPage({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
    });
    const mobileErrors = watchErrors(mobile);
    await mobile.goto(url());
    await mobile.locator('[data-role="live"][data-state="live"]').waitFor();
    // Nothing may be wider than the phone: no sideways scrolling.
    expect(await mobile.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await mobile.screenshot({
      path: `${ARTIFACTS}status-page-mobile.png`,
      fullPage: true,
      animations: "disabled",
    });
    const dark = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: "dark" });
    const darkErrors = watchErrors(dark);
    await dark.goto(url());
    await dark.locator('[data-role="live"][data-state="live"]').waitFor();
    expect(await dark.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
      "rgb(11, 15, 23)",
    );
    await dark.screenshot({
      path: `${ARTIFACTS}status-page-dark.png`,
      fullPage: true,
      animations: "disabled",
    });
    expect(feed.size).toBe(3);
    await Promise.all([mobile.close(), dark.close()]);
    expect([...mobileErrors, ...darkErrors]).toEqual([]);
    // The server notices closed pages and drops their streams.
    for (let i = 0; i < 50 && feed.size > 1; i++) await Bun.sleep(50);
    expect(feed.size).toBe(1);
  });

  test("a page opened before the first tick fills in when it arrives", async () => {
    const emptyFeed = createTickFeed();
    const cache = createMemoryCache();
    const history = createMemoryHistory();
    const empty = serveStatus(
      createStatusApp({
        cache,
        history,
        health: () => ({ metrics: createConsumerMetrics(), lag: null, startedAt: Date.now() }),
        fetchIntervalMs: 60_000,
        subscribe: emptyFeed.subscribe,
      }),
      0,
      "127.0.0.1",
    );
    const fresh = await browser.newPage();
    const freshErrors = watchErrors(fresh);
    try {
      await fresh.goto(new URL("/", empty.url).href);
      expect(await fresh.locator(".empty").textContent()).toContain("Waiting for the first tick");
      await fresh.locator('[data-role="live"][data-state="live"]').waitFor();
      const first = tickAt(Date.now(), { price: 0.0731 });
      // As the consumer does: store, then publish.
      await cache.putIfNewer([first]);
      await history.upsert([first]);
      emptyFeed.publish([first]);
      await fresh.locator('a.card[data-pair="beldex:usd"]').waitFor({ timeout: 10_000 });
      expect(await fresh.locator('a.card [data-field="price"]').textContent()).toBe("$0.07310");
      expect(await fresh.locator("svg.plot-svg").getAttribute("data-points")).toBe("1");
      expect(freshErrors).toEqual([]);
    } finally {
      await fresh.close();
      await empty.stop(true);
    }
  });

  test("a down dependency replaces Live with its name and fix, and Live comes back once it is up", async () => {
    const pill = page.locator('[data-role="live"]');
    const alert = page.locator('[data-health="down"]');
    const at = (seconds: number) => Date.parse(lastSeeded.sourceUpdatedAt) + seconds * 1000;
    markDown(
      metrics,
      "history",
      { error: 'history: <b>upsert</b> failed for user "belly"', fix: "check the password in DATABASE_URL" },
      Date.now(),
    );
    feed.publish([tickAt(at(120), { price: lastSeeded.price * 1.03 })]);
    await page.locator('[data-role="live"][data-state="down"]').waitFor({ timeout: 10_000 });
    expect(await pill.locator('[data-role="live-text"]').textContent()).toBe(
      "history down: check the password in DATABASE_URL",
    );
    // The error is copied as text: its markup shows as written, and makes no element.
    expect(await alert.textContent()).toContain('history: <b>upsert</b> failed for user "belly"');
    expect(await alert.locator("b").count()).toBe(0);

    markUp(metrics, "history", Date.now());
    feed.publish([tickAt(at(180), { price: lastSeeded.price * 1.04 })]);
    await page.locator('[data-role="live"][data-state="live"]').waitFor({ timeout: 10_000 });
    expect(await pill.locator('[data-role="live-text"]').textContent()).toBe("Live");
    expect(await alert.count()).toBe(0);
  });

  test("a long down headline wraps on a phone instead of widening the page", async () => {
    markDown(
      metrics,
      "history",
      {
        error: "history: upsert failed",
        fix: "run `bun run migrate` with this DATABASE_URL (or paste supabase/migrations/20261126000000_price_history.sql into the Supabase SQL editor)",
      },
      Date.now(),
    );
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    const phoneErrors = watchErrors(phone);
    try {
      await phone.goto(url());
      await phone.locator('[data-role="live"][data-state="down"]').waitFor();
      expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      expect(phoneErrors).toEqual([]);
    } finally {
      markUp(metrics, "history", Date.now());
      await phone.close();
    }
  });

  test("logs no console error, page error or failed request (CSP violations included)", async () => {
    await page.reload();
    await page.locator('[data-role="live"][data-state="live"]').waitFor();
    expect(errors).toEqual([]);
  });
});
