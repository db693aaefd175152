// The status page with nine pairs (ASSETS=bitcoin,ethereum,beldex VS_CURRENCIES=usd,eur,btc) in Debian's
// Chromium: the default pair, the selector with and without JavaScript, the back button, the keyboard, a phone
// and dark layouts, and axe-core in all four layouts. Screenshots go to tests/artifacts/ (git-ignored).
// Selects by roles, labels and the page's own data attributes only, never by the chart's inner markup.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { loadConfig } from "../lib/config.ts";
import { createConsumerMetrics } from "../lib/pipeline/metrics.ts";
import { createStatusApp, createTickFeed, serveStatus } from "../lib/status/app.ts";
import { formatPrice } from "../lib/status/format.ts";
import type { Tick } from "../lib/tick.ts";
import { runAxe } from "./support/axe.ts";
import { launchChromium, watchErrors } from "./support/browser.ts";
import { makeTick } from "./support/ticks.ts";

const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));
const ENV = { ASSETS: "bitcoin,ethereum,beldex", VS_CURRENCIES: "usd,eur,btc" };
const POINTS = 96;
const STEP_MS = 15 * 60_000;
const END = Date.now() - 60_000;

/** Latest price of each pair, and where its seeded history starts. */
const PRICES: Record<string, number> = {
  "bitcoin:usd": 91_234.5,
  "bitcoin:eur": 84_012.25,
  "bitcoin:btc": 1,
  "ethereum:usd": 3_104.27,
  "ethereum:eur": 2_859.9,
  "ethereum:btc": 0.0340245,
  "beldex:usd": 0.0712,
  "beldex:eur": 0.0655,
  "beldex:btc": 0.00000078,
};

// A seeded walk ending on the pair's latest price, so the pictures look like a market and never change.
function history(pair: string, seed: number): Tick[] {
  const [asset, currency] = pair.split(":") as [string, string];
  const last = PRICES[pair] as number;
  let state = seed;
  const factors: number[] = [];
  for (let i = 0; i < POINTS; i++) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    factors.push(1 + (state / 2 ** 31 - 0.5) * 0.01);
  }
  let price = last;
  const prices = [last];
  for (let i = POINTS - 1; i > 0; i--) {
    price /= factors[i] as number;
    prices.unshift(price);
  }
  return prices.map((p, i) => {
    const at = new Date(END - (POINTS - 1 - i) * STEP_MS).toISOString();
    return makeTick({
      asset,
      currency,
      price: p,
      change24hPct: (seed % 7) - 3.2,
      sourceUpdatedAt: at,
      fetchedAt: at,
      marketCap: currency === "btc" ? 1.9e7 : 1.8e12 / (seed + 1),
      volume24h: currency === "btc" ? 3.1e5 : 3.4e10 / (seed + 1),
    });
  });
}

let browser: Browser;
let server: ReturnType<typeof serveStatus>;
const feed = createTickFeed();
const metrics = { ...createConsumerMetrics(), consumed: 864, written: 864, batches: 96, lastBatchMs: 12 };

beforeAll(async () => {
  const cache = createMemoryCache();
  const store = createMemoryHistory();
  const ticks = Object.keys(PRICES).flatMap((pair, i) => history(pair, i + 3));
  await cache.putIfNewer(ticks);
  await store.upsert(ticks);
  // The pairs as the consumer reads them from its environment.
  const { assets, currencies } = loadConfig({ KAFKA_BROKERS: "127.0.0.1:9092", ...ENV }, "consumer");
  server = serveStatus(
    createStatusApp({
      cache,
      history: store,
      health: () => ({ metrics, lag: 0, startedAt: END - 3_600_000 }),
      fetchIntervalMs: STEP_MS,
      subscribe: feed.subscribe,
      pairs: { assets, currencies },
    }),
    0,
    "127.0.0.1",
  );
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop(true);
});

const url = (path = "/") => new URL(path, server.url).href;

const LAYOUTS = {
  desktop: { viewport: { width: 1280, height: 800 } },
  "desktop-dark": { viewport: { width: 1280, height: 800 }, colorScheme: "dark" },
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  "phone-dark": {
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    colorScheme: "dark",
  },
} satisfies Record<string, BrowserContextOptions>;

async function open(options: BrowserContextOptions, path = "/") {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(url(path));
  if (options.javaScriptEnabled !== false)
    await page.locator('[data-role="live"][data-state="live"]').waitFor({ timeout: 10_000 });
  return { page, errors, close: () => context.close() };
}

const selector = (page: Page) => page.getByRole("navigation", { name: "Pairs" });
const chartTitle = (page: Page) => page.locator("#chart-title");
const selectedPair = (page: Page) => page.locator("body").getAttribute("data-pair");

describe("the pair selector", () => {
  test("opens on the first configured asset in the first configured currency, grouped by asset", async () => {
    const { page, errors, close } = await open(LAYOUTS.desktop);
    try {
      expect(await selectedPair(page)).toBe("bitcoin:usd");
      expect(await chartTitle(page).textContent()).toBe("Bitcoin in USD");
      const groups = selector(page).locator("[data-asset]");
      expect(await groups.evaluateAll((rows) => rows.map((row) => row.getAttribute("data-asset")))).toEqual([
        "bitcoin",
        "ethereum",
        "beldex",
      ]);
      for (const group of await groups.all())
        expect(await group.getByRole("link").allTextContents()).toEqual([
          expect.stringMatching(/USD$/),
          expect.stringMatching(/EUR$/),
          expect.stringMatching(/BTC$/),
        ]);
      const current = selector(page).locator('[aria-current="page"]');
      expect(await current.count()).toBe(1);
      expect(await current.textContent()).toBe("Bitcoin in USD");
      // The selected link stands out: a filled background, unlike its neighbours.
      const background = (name: string) =>
        selector(page)
          .getByRole("link", { name, exact: true })
          .evaluate((link) => getComputedStyle(link).backgroundColor);
      expect(await background("Bitcoin in USD")).not.toBe(await background("Bitcoin in EUR"));
      expect(
        await selector(page)
          .getByRole("link", { name: "Bitcoin in EUR" })
          .evaluate((link) => getComputedStyle(link).cursor),
      ).toBe("pointer");
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test("switches pairs without a reload when JavaScript runs, and the back button returns", async () => {
    const { page, errors, close } = await open(LAYOUTS.desktop);
    try {
      await page.evaluate(() => {
        (window as unknown as { marker: string }).marker = "same document";
      });
      await selector(page).getByRole("link", { name: "Ethereum in EUR" }).click();
      await page.waitForURL(/pair=ethereum%3Aeur/);
      await page.waitForFunction(() => document.body.dataset.pair === "ethereum:eur");
      expect(await chartTitle(page).textContent()).toBe("Ethereum in EUR");
      expect(
        await page.getByRole("img", { name: /^Price of Ethereum in EUR over the last 24 hours/ }).count(),
      ).toBe(1);
      expect(await selector(page).locator('[aria-current="page"]').textContent()).toBe("Ethereum in EUR");
      // Keyboard and screen-reader users stay on the control they used.
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Ethereum in EUR");
      const price = formatPrice(PRICES["ethereum:eur"] as number, "eur");
      expect(await page.locator('[data-role="summary"] [data-field="price"]').textContent()).toBe(price);
      // The same digits in the summary, the card and the table's newest row.
      expect(await page.locator('a.card[data-pair="ethereum:eur"] [data-field="price"]').textContent()).toBe(
        price,
      );
      expect(await page.locator('[data-role="rows"] tr').first().locator("td").nth(1).textContent()).toBe(
        price,
      );
      expect(await page.title()).toBe(`Ethereum ${price} · belly-stream`);

      // The new pair is live too: its next tick arrives over the stream opened after the switch.
      await page.locator('[data-role="live"][data-state="live"]').waitFor({ timeout: 10_000 });
      const next = makeTick({
        asset: "ethereum",
        currency: "eur",
        price: 2_871.456,
        change24hPct: 1.5,
        sourceUpdatedAt: new Date(END + 30_000).toISOString(),
      });
      feed.publish([next]);
      await page.waitForFunction(
        (text) => document.querySelector('[data-role="summary"] [data-field="price"]')?.textContent === text,
        formatPrice(next.price, "eur"),
        { timeout: 10_000 },
      );

      await page.goBack();
      await page.waitForFunction(() => document.body.dataset.pair === "bitcoin:usd");
      expect(page.url()).toBe(url("/"));
      expect(await chartTitle(page).textContent()).toBe("Bitcoin in USD");
      await page.goForward();
      await page.waitForFunction(() => document.body.dataset.pair === "ethereum:eur");
      expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe(
        "same document",
      );
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test("is reachable and usable from the keyboard", async () => {
    const { page, errors, close } = await open(LAYOUTS.desktop);
    try {
      let presses = 0;
      while (presses < 15) {
        await page.keyboard.press("Tab");
        presses++;
        const onSelector = await page.evaluate(
          () => document.activeElement?.closest('[data-role="pairs"]') !== null,
        );
        if (onSelector) break;
      }
      expect(presses).toBeLessThan(15);
      // The focused link is visibly outlined.
      expect(
        await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle),
      ).toBe("solid");
      for (let i = 0; i < 4; i++) await page.keyboard.press("Tab");
      const target = await page.evaluate(() => document.activeElement?.getAttribute("data-pair-option"));
      expect(target).toBe("ethereum:eur");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.body.dataset.pair === "ethereum:eur");
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test("works as plain links without JavaScript", async () => {
    const { page, errors, close } = await open({ ...LAYOUTS.desktop, javaScriptEnabled: false });
    try {
      expect(await selectedPair(page)).toBe("bitcoin:usd");
      await Promise.all([
        page.waitForNavigation(),
        selector(page).getByRole("link", { name: "Beldex in BTC" }).click(),
      ]);
      expect(page.url()).toBe(url("/?pair=beldex%3Abtc&range=24h"));
      expect(await selectedPair(page)).toBe("beldex:btc");
      expect(await chartTitle(page).textContent()).toBe("Beldex in BTC");
      expect(await page.locator('[data-role="summary"] [data-field="price"]').textContent()).toBe(
        formatPrice(PRICES["beldex:btc"] as number, "btc"),
      );
      await page.screenshot({ path: `${ARTIFACTS}status-pairs-nojs.png`, fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});

describe("layouts", () => {
  test("on a phone, the selected pair's chart shows without scrolling, and nothing is wider than the screen", async () => {
    const { page, errors, close } = await open(LAYOUTS.phone, "/?pair=beldex:eur");
    try {
      const chart = page.getByRole("img", { name: /^Price of Beldex in EUR/ });
      const box = await chart.boundingBox();
      if (!box) throw new Error("chart not rendered");
      expect(box.y + box.height).toBeLessThanOrEqual(844);
      // Most of the width: the price labels take a gutter left of the plot, outside it.
      expect(box.width).toBeGreaterThan(0.7 * 390);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test("dark layouts use the dark palette", async () => {
    const { page, errors, close } = await open(LAYOUTS["desktop-dark"]);
    try {
      expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
        "rgb(11, 15, 23)",
      );
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  for (const [name, options] of Object.entries(LAYOUTS))
    test(`axe-core finds no violation (${name}), and a screenshot is written`, async () => {
      const { page, errors, close } = await open(options);
      try {
        const violations = await runAxe(page);
        console.info(`axe ${name}: ${violations.length} violations`);
        expect(violations).toEqual([]);
        await page.screenshot({
          path: `${ARTIFACTS}status-pairs-${name}.png`,
          fullPage: true,
          animations: "disabled",
        });
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    });
});
