// Backfilled points in Chromium: the tooltip names them, the table's source column, and a backfill streaming
// older ticks live never moves a card back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { createConsumerMetrics } from "../lib/pipeline/metrics.ts";
import { createStatusApp, createTickFeed, serveStatus } from "../lib/status/app.ts";
import { formatPrice } from "../lib/status/format.ts";
import { BACKFILL_SOURCE, type Tick } from "../lib/tick.ts";
import { launchChromium, watchErrors } from "./support/browser.ts";
import { makeTick } from "./support/ticks.ts";

const POINTS = 96;
const BACKFILLED = 80;
const STEP_MS = 15 * 60_000;
const START = Date.UTC(2026, 10, 25, 18, 0);

function tickAt(at: number, overrides: Partial<Tick> = {}): Tick {
  const iso = new Date(at).toISOString();
  return makeTick({ sourceUpdatedAt: iso, fetchedAt: iso, price: 0.07 + (at % 7) / 1000, ...overrides });
}

const ticks = Array.from({ length: POINTS }, (_, i) =>
  tickAt(START + i * STEP_MS, i < BACKFILLED ? { source: BACKFILL_SOURCE, change24hPct: null } : {}),
);
const last = ticks[POINTS - 1] as Tick;

let browser: Browser;
let server: ReturnType<typeof serveStatus>;
let page: Page;
let errors: string[];
const feed = createTickFeed();

beforeAll(async () => {
  const cache = createMemoryCache();
  const history = createMemoryHistory();
  await cache.putIfNewer(ticks);
  await history.upsert(ticks);
  const base = Date.parse(last.sourceUpdatedAt) + 20_000;
  const started = Date.now();
  const app = createStatusApp({
    cache,
    history,
    health: () => ({ metrics: createConsumerMetrics(), lag: 0, startedAt: base - 3_600_000 }),
    fetchIntervalMs: 600_000,
    now: () => base + (Date.now() - started),
    subscribe: feed.subscribe,
  });
  server = serveStatus(app, 0, "127.0.0.1");
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  errors = watchErrors(page);
  await page.goto(new URL("/?pair=beldex:usd&range=24h", server.url).href);
  await page.locator('[data-role="live"][data-state="live"]').waitFor({ timeout: 10_000 });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop(true);
});

async function tooltipAt(fraction: number): Promise<string> {
  const box = await page.locator("svg.plot-svg").boundingBox();
  if (!box) throw new Error("chart not visible");
  await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
  const tooltip = page.locator('[data-role="tooltip"]');
  await tooltip.waitFor({ state: "visible" });
  return (await tooltip.textContent()) ?? "";
}

describe("backfilled points in Chromium", () => {
  test("the tooltip says a point was backfilled from CoinGecko's price history, and a polled one does not", async () => {
    expect(await tooltipAt(0.2)).toContain("backfill (CoinGecko price history)");
    expect(await tooltipAt(0.99)).not.toContain("backfill");
    await page.mouse.move(0, 0);
  });

  test("an older backfilled tick streamed live leaves the card alone; a new polled one adds a row marked poll", async () => {
    const card = page.locator('a.card[data-pair="beldex:usd"] [data-field="price"]');
    const shown = await card.textContent();
    feed.publish([tickAt(START + 3 * STEP_MS, { source: BACKFILL_SOURCE, price: 5 })]);
    // The stream is local: a second is ample for the script to have seen (and passed over) the old tick.
    await Bun.sleep(1_000);
    expect(await card.textContent()).toBe(shown);
    const next = tickAt(Date.parse(last.sourceUpdatedAt) + 60_000, { price: 0.08 });
    feed.publish([next]);
    await page.waitForFunction(
      (text) =>
        document.querySelector('a.card[data-pair="beldex:usd"] [data-field="price"]')?.textContent === text,
      formatPrice(next.price, "usd"),
      { timeout: 10_000 },
    );
    expect(shown).not.toBe(formatPrice(5, "usd"));
    const first = page.locator('[data-role="rows"] tr').first();
    expect(await first.locator('[data-field="source"]').textContent()).toBe("poll");
    expect(await first.locator('[data-field="source"]').getAttribute("title")).toBe("source: coingecko");
    expect(errors).toEqual([]);
  });
});
