// The chart in Chromium as a user sees it: a hole in the history breaks the line and is banded and listed, a
// range longer than the data shows where the data starts, the price labels stay outside the plot, and a live
// tick after a silence breaks the line in the browser as the server would. Screenshots under tests/artifacts/.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { createConsumerMetrics } from "../lib/pipeline/metrics.ts";
import { createStatusApp, createTickFeed, serveStatus } from "../lib/status/app.ts";
import type { Tick } from "../lib/tick.ts";
import { runAxe } from "./support/axe.ts";
import { launchChromium, watchErrors } from "./support/browser.ts";
import { makeTick } from "./support/ticks.ts";

const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));
const INTERVAL_MS = 10 * 60_000;
const HOUR = 3_600_000;
/** The server's clock: the history is the 20 hours before it, with no data from 10 h to 8 h ago. */
const NOW = Date.UTC(2026, 10, 28, 12, 0);
const HOLE = { from: NOW - 10 * HOUR, to: NOW - 8 * HOUR };

function tickAt(at: number, price: number): Tick {
  const iso = new Date(at).toISOString();
  return makeTick({ sourceUpdatedAt: iso, fetchedAt: iso, price });
}

const history: Tick[] = [];
for (let at = NOW - 20 * HOUR; at <= NOW - 5 * 60_000; at += INTERVAL_MS)
  if (at <= HOLE.from || at >= HOLE.to) history.push(tickAt(at, 0.07 + Math.sin(at / 5e6) / 500));

let browser: Browser;
let server: ReturnType<typeof serveStatus>;
let page: Page;
let errors: string[];
const feed = createTickFeed();

beforeAll(async () => {
  const cache = createMemoryCache();
  const store = createMemoryHistory();
  await cache.putIfNewer(history);
  await store.upsert(history);
  const started = Date.now();
  const app = createStatusApp({
    cache,
    history: store,
    health: () => ({ metrics: createConsumerMetrics(), lag: 0, startedAt: NOW - HOUR }),
    fetchIntervalMs: INTERVAL_MS,
    now: () => NOW + (Date.now() - started),
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

const open = (range: string) => page.goto(new URL(`/?pair=beldex:usd&range=${range}`, server.url).href);
const subpaths = () =>
  page.locator('[data-role="line"]').evaluate((line) => (line.getAttribute("d")?.match(/M/g) ?? []).length);

describe("the chart in Chromium", () => {
  test("a two-hour hole breaks the line, is banded, and is listed under the chart with its length", async () => {
    await open("24h");
    expect(await subpaths()).toBe(2);
    const band = page.locator('[data-role="gap"]');
    expect(await band.count()).toBe(1);
    expect(await band.locator("title").textContent()).toContain("No data from");
    const listed = page.locator('[data-role="gaps"] li');
    expect(await listed.count()).toBe(1);
    expect(await listed.first().textContent()).toMatch(/2h/);
    await page.locator("figure.chart").screenshot({ path: `${ARTIFACTS}status-chart-gap.png` });
    expect(await runAxe(page)).toEqual([]);
    expect(errors).toEqual([]);
  });

  test("a 7-day range over 20 hours of data spans 7 days, shades the time before the data and says since when", async () => {
    await open("7d");
    const since = page.locator('[data-role="since"]');
    expect(await since.textContent()).toMatch(/^data since /);
    expect(await page.locator('[data-role="before-data"]').count()).toBe(1);
    const labels = await page.locator('[data-role="xtick"]').allTextContents();
    expect(labels.length).toBeGreaterThanOrEqual(3);
    // Day labels for a week, not hours.
    for (const label of labels) expect(label).toMatch(/^[A-Z][a-z]{2} \d{1,2}$/);
    // The x labels span the week: the first sits in the empty part before the data.
    const plot = await page.locator("svg.plot-svg").boundingBox();
    const sinceBox = await since.boundingBox();
    if (!plot || !sinceBox) throw new Error("chart not rendered");
    expect(sinceBox.x - plot.x).toBeGreaterThan(plot.width / 2);
    await page.locator("figure.chart").screenshot({ path: `${ARTIFACTS}status-chart-7d.png` });
    expect(errors).toEqual([]);
  });

  test("the price labels are round numbers and sit left of the plot, never over the line", async () => {
    await open("24h");
    const plot = await page.locator("svg.plot-svg").boundingBox();
    if (!plot) throw new Error("chart not rendered");
    const labels = page.locator(".ylabel");
    const count = await labels.count();
    expect(count).toBeGreaterThanOrEqual(3);
    const values: number[] = [];
    for (let i = 0; i < count; i++) {
      const box = await labels.nth(i).boundingBox();
      expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(plot.x + 1);
      values.push(Number((await labels.nth(i).textContent())?.replace(/[^0-9.]/g, "")));
    }
    // Evenly stepped: round ticks, not the data's own extremes.
    const steps = values.slice(1).map((v, i) => Math.abs(v - (values[i] as number)));
    for (const step of steps) expect(step).toBeCloseTo(steps[0] as number, 6);
  });

  test("a live tick after a silence longer than twice the interval breaks the line in the browser too", async () => {
    await open("24h");
    await page.locator('[data-role="live"][data-state="live"]').waitFor({ timeout: 10_000 });
    const last = history.at(-1) as Tick;
    feed.publish([tickAt(Date.parse(last.sourceUpdatedAt) + 3 * INTERVAL_MS, 0.0712)]);
    await page.waitForFunction(() => document.querySelectorAll('[data-role="gap"]').length === 2, undefined, {
      timeout: 10_000,
    });
    expect(await subpaths()).toBe(3);
    expect(errors).toEqual([]);
  });
});
