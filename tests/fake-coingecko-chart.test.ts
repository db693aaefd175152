// The fake's market_chart/range, its calls-per-minute counter and the error answers CoinGecko documents.
import { afterEach, describe, expect, test } from "bun:test";
import {
  type FakeCoinGecko,
  type FakeCoinGeckoOptions,
  fakeChartGranularity,
  startFakeCoinGecko,
} from "./support/fake-coingecko.ts";

const NOW = Date.parse("2026-11-26T18:02:00Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let fake: FakeCoinGecko | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

async function start(options: FakeCoinGeckoOptions = {}): Promise<FakeCoinGecko> {
  let clock = NOW;
  fake = await startFakeCoinGecko({ now: () => clock++, ...options });
  return fake;
}

function chart(f: FakeCoinGecko, id: string, from: number, to: number, currency = "usd") {
  return fetch(
    `${f.url}/coins/${id}/market_chart/range?vs_currency=${currency}&from=${from / 1000}&to=${to / 1000}&precision=full`,
  );
}

describe("fake CoinGecko market_chart/range", () => {
  test("answers prices, market caps and volumes as [ms, value] pairs of the same timestamps", async () => {
    const f = await start();
    const response = await chart(f, "bitcoin", NOW - 2 * HOUR, NOW);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(Object.keys(body).sort()).toEqual(["market_caps", "prices", "total_volumes"]);
    const times = body.prices.map((p: number[]) => p[0]);
    expect(body.market_caps.map((p: number[]) => p[0])).toEqual(times);
    expect(body.total_volumes.map((p: number[]) => p[0])).toEqual(times);
    expect(body.prices[0][1]).toBeGreaterThan(80_000);
  });

  test("picks the granularity from the span: 5-minutely for a day ending now, hourly to 90 days, daily beyond", async () => {
    const f = await start();
    const count = async (from: number, to: number) =>
      ((await (await chart(f, "beldex", from, to)).json()).prices as unknown[]).length;
    // 18:02 back to 16:02: the 5-minute marks 16:05 .. 18:00.
    expect(await count(NOW - 2 * HOUR, NOW)).toBe(24);
    // A day that does not end now is hourly.
    expect(await count(NOW - 3 * DAY, NOW - 2 * DAY)).toBe(24);
    expect(await count(NOW - 30 * DAY, NOW)).toBe(720);
    expect(await count(NOW - 120 * DAY, NOW)).toBe(120);
    expect(fakeChartGranularity(NOW - DAY, NOW, NOW)).toBe("5m");
    expect(fakeChartGranularity(NOW - DAY - 1, NOW, NOW)).toBe("1h");
    expect(fakeChartGranularity(NOW - 91 * DAY, NOW, NOW)).toBe("1d");
  });

  test("the same window answers the same points twice", async () => {
    const f = await start();
    const a = await (await chart(f, "ethereum", NOW - 5 * DAY, NOW - 4 * DAY, "eur")).json();
    const b = await (await chart(f, "ethereum", NOW - 5 * DAY, NOW - 4 * DAY, "eur")).json();
    expect(a).toEqual(b);
  });

  test("an unknown coin is 404 and a missing vs_currency 400", async () => {
    const f = await start();
    expect((await chart(f, "notacoin", NOW - HOUR, NOW)).status).toBe(404);
    expect((await fetch(`${f.url}/coins/bitcoin/market_chart/range?from=1&to=2`)).status).toBe(400);
  });
});

describe("fake CoinGecko calls per minute", () => {
  test("counts every request, failed ones included, and answers 429 past the limit", async () => {
    const f = await start({ callsPerMinute: 3 });
    f.fault("503", { route: "market-chart" });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await chart(f, "bitcoin", NOW - HOUR, NOW)).status);
    expect(statuses).toEqual([503, 200, 200, 429]);
    expect(f.rate).toEqual({ limit: 3, total: 4, peakPerMinute: 4, limited: 1 });
    f.resetRate();
    expect(f.rate).toEqual({ limit: 3, total: 0, peakPerMinute: 0, limited: 0 });
  });
});

describe("fake CoinGecko error answers", () => {
  test.each([
    ["401", 401, /API Key Missing/],
    ["403", 403, /Forbidden/],
    ["408", 408, /Request Timeout/],
    ["1020", 403, /error code: 1020/],
    ["429-no-retry-after", 429, /Rate Limit/],
    ["html", 200, /<!DOCTYPE html>/],
  ] as const)("%s answers HTTP %d", async (mode, status, body) => {
    const f = await start();
    f.fault(mode, { route: "market-chart" });
    const response = await chart(f, "bitcoin", NOW - HOUR, NOW);
    expect(response.status).toBe(status);
    expect(await response.text()).toMatch(body);
    expect(response.headers.get("retry-after")).toBeNull();
  });

  test("429 with Retry-After, and a fault for the chart leaves /simple/price alone", async () => {
    const f = await start();
    f.fault("429", { route: "market-chart", retryAfterSeconds: 7 });
    expect((await fetch(`${f.url}/simple/price?ids=beldex&vs_currencies=usd`)).status).toBe(200);
    const response = await chart(f, "bitcoin", NOW - HOUR, NOW);
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("7");
  });
});
