// The status page of a real consumer.ts on the real stack (Kafka, Postgres, Redis), in Debian's Chromium:
// history seeded through Kafka, a new tick published by producer.ts --once arriving over SSE.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { RedisClient, SQL } from "bun";
import type { Kafka } from "kafkajs";
import type { Browser, Page } from "playwright-core";
import { migratePostgres } from "../lib/adapters/postgres/history.ts";
import { formatPrice } from "../lib/status/format.ts";
import type { Tick } from "../lib/tick.ts";
import { launchChromium, watchErrors } from "./support/browser.ts";
import { type FakeCoinGecko, startFakeCoinGecko } from "./support/fake-coingecko.ts";
import { groupCaughtUp, publishRaw, testKafka } from "./support/kafka.ts";
import { type EntryProcess, runEntry, startEntry, waitFor } from "./support/processes.ts";
import { createTestDatabase, createTestTopic, deleteTopics, useStack } from "./support/stack.ts";
import { makeTick } from "./support/ticks.ts";

const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));
const POINTS = 60;

let fake: FakeCoinGecko;
let kafka: Kafka;
let topic: string;
let db: { url: string; drop(): Promise<void> };
let redis: RedisClient;
let env: Record<string, string>;
let consumer: EntryProcess;
let browser: Browser;
let page: Page;
let errors: string[];
let base: string;

beforeAll(async () => {
  const stack = await useStack();
  fake = await startFakeCoinGecko();
  kafka = testKafka(stack.kafka.plaintext);
  topic = await createTestTopic("page", 3);
  db = await createTestDatabase("page");
  await migratePostgres(db.url);
  redis = new RedisClient(`${stack.redisUrl}/8`);
  await redis.send("FLUSHDB", []);
  env = {
    KAFKA_BROKERS: stack.kafka.plaintext,
    KAFKA_TOPIC: topic,
    KAFKA_CONSUMER_GROUP: `${topic}-group`,
    ASSETS: "beldex",
    VS_CURRENCIES: "usd",
    COINGECKO_BASE_URL: fake.url,
    DATABASE_URL: db.url,
    REDIS_URL: `${stack.redisUrl}/8`,
    FETCH_INTERVAL: "600",
    PORT: "0",
  };
  // A history of the last hours, one point every 5 minutes, ending before the fake's current quote.
  const end = Date.now() - 60_000;
  const history: Tick[] = Array.from({ length: POINTS }, (_, i) => {
    const at = new Date(end - (POINTS - 1 - i) * 300_000).toISOString();
    return makeTick({ price: 0.07 * (1 + Math.sin(i / 6) / 50), sourceUpdatedAt: at, fetchedAt: at });
  });
  await publishRaw(kafka, topic, history);
  consumer = startEntry("consumer.ts", env);
  const line = await waitFor("the status page URL", () =>
    consumer.logs().find((l) => l.msg === "status page"),
  );
  base = String(line?.url);
  await waitFor("the history to be consumed", () =>
    groupCaughtUp(kafka, env.KAFKA_CONSUMER_GROUP ?? "", topic),
  );
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  errors = watchErrors(page);
  mkdirSync(ARTIFACTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  consumer?.proc.kill("SIGTERM");
  await consumer?.exited;
  await redis?.send("FLUSHDB", []).catch(() => {});
  redis?.close();
  await db?.drop();
  await deleteTopics([topic, `${topic}.dlq`]);
  await fake?.stop();
});

describe("status page of a consumer on the real stack", () => {
  test("shows the stored latest price and one chart point per stored row", async () => {
    const sql = new SQL(db.url);
    const [{ n, price }] = await sql`
      select count(*)::int as n, (array_agg(price order by source_updated_at desc))[1] as price
      from price_history where asset = 'beldex' and currency = 'usd'`;
    await sql.close();
    expect(n).toBe(POINTS);
    await page.goto(`${base}?pair=beldex:usd&range=24h`);
    const shown = page.locator('a.card[data-pair="beldex:usd"] [data-field="price"]');
    expect(await shown.textContent()).toBe(formatPrice(Number(price), "usd"));
    expect(await page.locator("svg.plot-svg").getAttribute("data-points")).toBe(String(POINTS));
    await page.locator('[data-role="live"][data-state="live"]').waitFor({ timeout: 10_000 });
  });

  test("a tick published by producer.ts appears over SSE without a reload", async () => {
    await page.evaluate(() => {
      (window as unknown as { marker: string }).marker = "same page";
    });
    const run = await runEntry("producer.ts", env, ["--once"]);
    expect(run.code).toBe(0);
    const expected = formatPrice(fake.getPrice("beldex", "usd")?.price ?? 0, "usd");
    await page.waitForFunction(
      (text) =>
        document.querySelector('a.card[data-pair="beldex:usd"] [data-field="price"]')?.textContent === text,
      expected,
      { timeout: 15_000 },
    );
    expect(await page.locator("svg.plot-svg").getAttribute("data-points")).toBe(String(POINTS + 1));
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe("same page");
  });

  test("shows a consumer lag of zero once everything is committed", async () => {
    // The lag comes from a background sample (and every commit), so it may take a moment to be known.
    const lag = await waitFor("a lag of 0 on the page", async () => {
      await page.reload();
      return (await page.locator('[data-health="lag"]').textContent()) === "0";
    });
    expect(lag).toBe(true);
  });

  test("has no console errors and leaves a screenshot", async () => {
    await page.screenshot({
      path: `${ARTIFACTS}status-page-stack.png`,
      fullPage: true,
      animations: "disabled",
    });
    expect(errors).toEqual([]);
  });
});
